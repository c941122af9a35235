// Package ids makes fresh random (version 4) UUIDs for messages and requests.
package ids

import (
	"crypto/rand"
	"encoding/hex"
)

// NewUUID returns a random version 4 UUID in lower case.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return format(b)
}

// format writes b as a UUID: 8-4-4-4-12 lower-case hex digits. Every
// message costs several UUIDs; fmt.Sprintf made this half their cost.
func format(b [16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}
