package fhir

import (
	"bytes"
	json "github.com/goccy/go-json"
	"io"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// Marshal writes a resource as compact JSON without HTML escaping, so that
// '<', '>' and '&' in clinical text stay as written.
func Marshal(r any) ([]byte, error) {
	return json.MarshalWithOption(encodable(r), json.DisableHTMLEscape())
}

// MarshalIndent writes a resource as indented JSON without HTML escaping.
func MarshalIndent(r any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(encodable(r)); err != nil {
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
