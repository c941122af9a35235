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
	bp := getEncodeBuffer()
	defer putEncodeBuffer(bp)
	var e encoder
	*bp = e.appendResource((*bp)[:0], res)
	if e.err != nil {
		return marshalCodec(r)
	}
	return bytes.Clone(*bp), nil
}

// MarshalIndent writes a resource as indented JSON without HTML escaping
// (two spaces a level), as Marshal chooses the encoder.
func MarshalIndent(r any) ([]byte, error) {
	res, ok := r.(Resource)
	if !ok || resourceIndex(res) < 0 {
		return marshalIndentCodec(r)
	}
	bp := getEncodeBuffer()
	defer putEncodeBuffer(bp)
	e := encoder{indent: true}
	*bp = e.appendResource((*bp)[:0], res)
	if e.err != nil {
		return marshalIndentCodec(r)
	}
	return bytes.Clone(*bp), nil
}

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

// encodeBuffers are the buffers the encoder writes into, each given back
// after its resource is copied out of it: a message Bundle is written
// into memory that has held one before instead of a buffer grown from
// nothing (as the codec keeps its own). A buffer grown past
// maxKeptEncodeBuffer is dropped instead of kept.
var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxKeptEncodeBuffer is the largest buffer encodeBuffers keeps.
const maxKeptEncodeBuffer = 4 << 20

func getEncodeBuffer() *[]byte { return encodeBuffers.Get().(*[]byte) }

func putEncodeBuffer(b *[]byte) {
	if cap(*b) <= maxKeptEncodeBuffer {
		encodeBuffers.Put(b)
	}
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
