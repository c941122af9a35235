package journal

import "math/rand/v2"

// incompressible returns n bytes of text that compression does not
// shrink (letters, digits, "+" and "/" drawn at random, the same for the
// same n and seed): for the tests of sizes, runs and payloads written
// apart, which count the bytes a payload is kept in.
func incompressible(n int, seed uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}
