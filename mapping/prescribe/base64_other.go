//go:build !amd64 || purego

package prescribe

// base64Blocks is base64_amd64.go's on other architectures (and with the
// purego tag), where appendBase64 never calls it.
func base64Blocks(dst, src *byte, n int) { panic("prescribe: base64Blocks without SSSE3") }

// haveBase64Blocks is false: appendBase64 encodes six bytes at a time.
const haveBase64Blocks = false
