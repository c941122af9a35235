package prescribe

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
	"unsafe"
)

// A signature is the largest value of a prescription's FHIR, and
// base64.StdEncoding's encoder, three bytes to four characters a turn,
// was 2.7 % of the instructions of prescription v3 -> FHIR and 3.9 % of
// the 20-prescription release response's (cachegrind, 2026-12-07).
// appendBase64 writes what base64.StdEncoding.AppendEncode writes, eight
// characters from six bytes a turn: each twelve bits are looked up as
// their two characters at once. It took 1 % and 1.7 % off the two paths;
// loading and storing through pointers checked once instead of slices cut
// each turn (about 50 -> 33 instructions a turn) 0.7 % more off the
// release response's. Where the CPU has SSSE3 (amd64 without the purego
// tag), base64Blocks takes twelve bytes to sixteen characters a turn in
// some twenty instructions first (base64_amd64.s): 1.4 % of the
// instructions of prescription v3 -> FHIR and 2.4 % of the release
// response's, 2026-12-07.

// base64Alphabet is base64.StdEncoding's alphabet.
const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// base64Pairs holds, for each twelve bits, their two base64 characters,
// the first in the low byte (so that a little-endian store writes them in
// order).
var base64Pairs = func() *[1 << 12]uint16 {
	var t [1 << 12]uint16
	for v := range t {
		t[v] = uint16(base64Alphabet[v>>6]) | uint16(base64Alphabet[v&63])<<8
	}
	return &t
}()

// appendBase64 appends the standard base64 of src (padded) to dst, as
// base64.StdEncoding.AppendEncode does.
func appendBase64(dst, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	si, di := 0, 0
	// Twelve bytes a turn where the CPU has SSSE3 (base64Blocks): a turn
	// loads sixteen, so the runs end four bytes or more before src does.
	if haveBase64Blocks && len(src) >= 16 {
		runs := (len(src) - 4) / 12
		base64Blocks(unsafe.SliceData(out), unsafe.SliceData(src), runs)
		si, di = runs*12, runs*16
	}
	// Six bytes at a time while eight can be loaded: the top 48 bits of
	// the load are the six, four runs of twelve bits. out has room, as 8
	// more bytes of src make at least 12 more characters. The loads and
	// stores are through pointers checked once here (si+8 <= len(src),
	// di+8 <= len(out)), not slices cut each turn: the slice arithmetic
	// and the registers it took made the turn about 50 instructions.
	if len(src)-si >= 8 {
		pairs := base64Pairs
		from := unsafe.Pointer(unsafe.SliceData(src))
		to := unsafe.Pointer(unsafe.SliceData(out))
		last := len(src) - 8
		for ; si <= last; si, di = si+6, di+8 {
			v := binary.BigEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(from, si)), 8))
			w := uint64(pairs[v>>52]) | uint64(pairs[v>>40&0xfff])<<16 |
				uint64(pairs[v>>28&0xfff])<<32 | uint64(pairs[v>>16&0xfff])<<48
			binary.LittleEndian.PutUint64(unsafe.Slice((*byte)(unsafe.Add(to, di)), 8), w)
		}
	}
	// si is a multiple of three: the rest encodes as the end of the whole.
	base64.StdEncoding.Encode(out[di:], src[si:])
	return dst[:len(dst)+n]
}
