package fhir

import (
	"bytes"
	"io"
	"sync"

	json "github.com/goccy/go-json"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// Marshal writes a resource as compact JSON without HTML escaping, so that
// '<', '>' and '&' in clinical text stay as written. A resource of a type
// the package models is written by the package's encoder (json_encode.go);
// anything else, and a resource the encoder fails on, by the JSON codec,
// which gives the same bytes (and its own errors).
func Marshal(r any) ([]byte, error) {
	res, ok := r.(Resource)
	if !ok || resourceIndex(res) < 0 {
		return marshalCodec(r)
	}
	if out, ok := encode(res, false); ok {
		return out, nil
	}
	return marshalCodec(r)
}

// MarshalIndent writes a resource as indented JSON without HTML escaping
// (two spaces a level), as Marshal chooses the encoder.
func MarshalIndent(r any) ([]byte, error) {
	res, ok := r.(Resource)
	if !ok || resourceIndex(res) < 0 {
		return marshalIndentCodec(r)
	}
	if out, ok := encode(res, true); ok {
		return out, nil
	}
	return marshalIndentCodec(r)
}

// encode writes res, of a type the encoder writes, with the encoder and
// buffer of a pooled encodeState (indented as MarshalIndent indents, or
// compact), and returns a copy of what it wrote of its length: one
// allocation, not cleared first (make and copy together; bytes.Clone
// grows a nil slice to the size class and clears what is past the
// bytes). False when the encoder failed.
func encode(res Resource, indent bool) ([]byte, bool) {
	st := encodeStates.Get().(*encodeState)
	st.enc = encoder{indent: indent}
	buf := st.enc.appendResource(st.buf[:0], res)
	st.buf = buf
	var out []byte
	ok := st.enc.err == nil
	if ok {
		// The source a local name, not st.buf: the compiler makes the two
		// one makeslicecopy only when both are plain names
		// (cmd/compile's orderMakeSliceCopy), and otherwise clears the new
		// slice before copying over it.
		out = make([]byte, len(buf))
		copy(out, buf)
	}
	st.enc = encoder{}
	if cap(st.buf) <= maxKeptEncodeBuffer {
		encodeStates.Put(st)
	}
	return out, ok
}

// encodeState is an encoder and the buffer it writes into, kept in
// encodeStates between resources: a message Bundle is written into memory
// that has held one before instead of a buffer grown from nothing (as the
// codec keeps its own), and the encoder, which appendResource's receiver
// moves to the heap, is not allocated for each resource. A buffer grown
// past maxKeptEncodeBuffer is dropped instead of kept.
type encodeState struct {
	buf []byte
	enc encoder
}

// encodeStates are the encodeStates not in use.
var encodeStates = sync.Pool{New: func() any { return &encodeState{buf: make([]byte, 0, 16<<10)} }}

// maxKeptEncodeBuffer is the largest buffer encodeStates keeps.
const maxKeptEncodeBuffer = 4 << 20

// marshalCodec is Marshal by the JSON codec.
func marshalCodec(v any) ([]byte, error) {
	return json.MarshalWithOption(encodable(v), json.DisableHTMLEscape())
}

// marshalIndentCodec is MarshalIndent by the JSON codec.
func marshalIndentCodec(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(encodable(v)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Unmarshal decodes JSON into v keeping numbers as json.Number.
func Unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

func resourceID(r Resource) string {
	if h, ok := r.(interface{ GetID() string }); ok {
		return h.GetID()
	}
	return ""
}
