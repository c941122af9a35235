package journal

import (
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/s2"
)

// The Redis journal keeps a step's payload compressed with S2 (the
// Snappy-derived block format of github.com/klauspost/compress/s2, its
// default level) when that makes it smaller: XML and FHIR JSON shrink
// about 3.7 times (BenchmarkCodecCompare over the corpus and testdata:
// 395 payloads, 12 KB on average; flate at BestSpeed 4.4 times but
// 14 times slower, zstd at its fastest 4.7 times but 4 times slower),
// a prescription's four payloads 2.8 times, 28.2 KB to 9.9 KB, for about
// 28 µs of the writer's CPU (BenchmarkPackMessage, busy 2-core machine).
// Redis then receives, copies, hashes (a script's arguments) and keeps
// that much less (BenchmarkRedisJournalPayloads: 18.5 KB less received a
// message, 20 KB less held an exchange, 5.9 fewer page faults a
// message), and the size cap (Retention.MaxBytes), which counts what
// Redis holds, keeps 2.4 times as many exchanges; a prescription's
// payloads, compressed, no longer pass stagedInline, so they go in the
// script and the round trip that wrote them apart is gone.
//
// The step's JSON in st:<id> says so: "bodyEnc":"s2" (storedStep.BodyEnc),
// for the body after its newline or the one written apart (sb:). No step
// an older porxgate wrote has that field (Step has none of the name, and
// its JSON is written by the journal alone), so the marker cannot be
// mistaken for a payload's bytes, and a step without it is read as it
// always was: byte for byte. A payload that would not shrink by at least
// packMinSaving bytes is kept as it is, without the field.
const (
	// encS2 is the BodyEnc of a payload compressed with s2.Encode.
	encS2 = "s2"
	// packMin is the smallest payload compressed: below it S2 saves
	// next to nothing (a SOAP fault, a short JSON answer).
	packMin = 128
	// packMinSaving is how many bytes compressing must save for the
	// payload to be kept compressed: the field itself costs 16.
	packMinSaving = 32
	// maxUnpacked bounds the size a compressed payload may claim
	// (its header): 64 MiB, 16 times the front door's limit, so that a
	// damaged or forged entry cannot make a reader allocate gigabytes.
	maxUnpacked = 64 << 20
)

// packScratch holds buffers for packBody to compress into (*[]byte),
// reused from payload to payload: a buffer of s2.MaxEncodedLen bytes for
// each was 15-20 KB allocated a payload, for bytes copied at once into
// the step's list element.
var packScratch sync.Pool

// packBody returns body as the journal keeps it: compressed with S2
// (enc encS2) when compress is set and that saves at least packMinSaving
// bytes, else body's own bytes (enc "", not copied). Compressed, stored
// lies in a buffer of packScratch, valid until done is called; done must
// be called once stored is no longer used, whatever enc.
func packBody(body string, compress bool) (stored []byte, enc string, done func()) {
	if !compress || len(body) < packMin {
		return stringBytes(body), "", func() {}
	}
	need := s2.MaxEncodedLen(len(body))
	if need < 0 {
		return stringBytes(body), "", func() {} // too big for a block
	}
	p, _ := packScratch.Get().(*[]byte)
	if p == nil || cap(*p) < need {
		b := make([]byte, max(need, 32<<10))
		p = &b
	}
	done = func() {
		if cap(*p) <= 1<<20 { // a rare big payload's buffer is not kept
			packScratch.Put(p)
		}
	}
	// s2.Encode reads src only: the payload's bytes are not copied first.
	packed := s2.Encode((*p)[:need], stringBytes(body))
	if len(packed)+packMinSaving > len(body) {
		return stringBytes(body), "", done
	}
	return packed, encS2, done
}

// ErrPayloadUnreadable says a step's payload, as kept, could not be
// decoded: damaged, or written in an encoding this porxgate does not know
// (a newer one's).
var ErrPayloadUnreadable = errors.New("payload unreadable")

// unpackBody returns a payload packBody kept with encoding enc, as it was
// recorded.
func unpackBody(stored, enc string) (string, error) {
	switch enc {
	case "":
		return stored, nil
	case encS2:
		src := stringBytes(stored)
		n, err := s2.DecodedLen(src)
		if err != nil {
			return "", fmt.Errorf("%w: %d bytes of %s: %w", ErrPayloadUnreadable, len(stored), enc, err)
		}
		if n > maxUnpacked {
			return "", fmt.Errorf("%w: %d bytes of %s claim %d bytes decoded, more than %d", ErrPayloadUnreadable, len(stored), enc, n, maxUnpacked)
		}
		out, err := s2.Decode(make([]byte, n), src)
		if err != nil {
			return "", fmt.Errorf("%w: %d bytes of %s: %w", ErrPayloadUnreadable, len(stored), enc, err)
		}
		return Payload(out), nil
	default:
		return "", fmt.Errorf("%w: encoding %q unknown (written by a newer porxgate?)", ErrPayloadUnreadable, enc)
	}
}
