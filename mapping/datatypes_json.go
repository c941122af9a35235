package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/fhir"
)

// DecodeBundle decodes a FHIR Bundle into the same fhir.Bundle that
// fhir.ParseBundle gives, in fewer passes over the bytes: a small scanner
// finds the entries, and each entry's resource is decoded once, straight
// into its Go type, its resourceType read from the first key where FHIR
// JSON puts it. Every byte still goes through encoding/json, so what it
// refuses is refused here; a Bundle of a shape the fast path does not
// handle (inline entries, escaped keys, invalid JSON) goes through
// fhir.ParseBundle, which also gives the errors.
func DecodeBundle(data []byte) (*fhir.Bundle, error) {
	if b, ok := decodeBundleFast(data); ok {
		return b, nil
	}
	return decodeBundleSlow(data)
}

// bundleHead is a Bundle without its entries.
type bundleHead struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id,omitempty"`
	Meta         *fhir.Meta        `json:"meta,omitempty"`
	Identifier   *fhir.Identifier  `json:"identifier,omitempty"`
	Type         string            `json:"type,omitempty"`
	Timestamp    string            `json:"timestamp,omitempty"`
	Total        *int              `json:"total,omitempty"`
	Link         []fhir.BundleLink `json:"link,omitempty"`
}

// entryHead is a Bundle entry without its resource.
type entryHead struct {
	ResourceType string            `json:"resourceType"`
	FullURL      string            `json:"fullUrl"`
	Search       *fhir.EntrySearch `json:"search"`
}

// decodeBundleFast is DecodeBundle's fast path; ok is false when the slow
// path must decide.
func decodeBundleFast(data []byte) (*fhir.Bundle, bool) {
	var entries []jsonEntry
	hasEntries := false
	members, end, ok := jsonMembers(data, skipSpace(data, 0), func(key string, b []byte, i int) (int, bool, bool) {
		if !strings.EqualFold(key, "entry") {
			return 0, false, true
		}
		var ok bool
		entries, i, ok = jsonEntries(b, i)
		hasEntries = true
		return i, true, ok
	})
	if !ok || skipSpace(data, end) != len(data) {
		return nil, false
	}
	head := make([]byte, 0, 512)
	head = append(head, '{')
	for _, m := range members {
		if len(head) > 1 {
			head = append(head, ',')
		}
		head = append(head, data[m.keyStart:m.end]...)
	}
	head = append(head, '}')
	var h bundleHead
	if json.Unmarshal(head, &h) != nil || h.ResourceType != "Bundle" {
		return nil, false
	}
	b := &fhir.Bundle{ResourceType: h.ResourceType, ID: h.ID, Meta: h.Meta, Identifier: h.Identifier,
		Type: h.Type, Timestamp: h.Timestamp, Total: h.Total, Link: h.Link}
	if !hasEntries || entries == nil {
		return b, true
	}
	b.Entry = make([]fhir.Entry, len(entries))
	for i, e := range entries {
		var eh entryHead
		if json.Unmarshal(e.head, &eh) != nil || eh.ResourceType != "" {
			return nil, false
		}
		b.Entry[i].FullURL, b.Entry[i].Search = eh.FullURL, eh.Search
		if e.resource == nil || string(e.resource) == "null" {
			continue
		}
		r, err := decodeResourceFast(e.resource)
		if err != nil {
			return nil, false
		}
		b.Entry[i].Resource = r
	}
	return b, true
}

// jsonEntry is one Bundle entry: its members but the resource, as a JSON
// object, and the resource.
type jsonEntry struct {
	head, resource []byte
}

// jsonEntries reads the entry array at b[i] (or null, which gives no
// entries) and returns where it ends.
func jsonEntries(b []byte, i int) ([]jsonEntry, int, bool) {
	if i+4 <= len(b) && string(b[i:i+4]) == "null" {
		return nil, i + 4, true
	}
	if i >= len(b) || b[i] != '[' {
		return nil, 0, false
	}
	i = skipSpace(b, i+1)
	out := []jsonEntry{}
	if i < len(b) && b[i] == ']' {
		return out, i + 1, true
	}
	for {
		var res []byte
		ms, end, ok := jsonMembers(b, i, func(key string, b []byte, j int) (int, bool, bool) {
			if !strings.EqualFold(key, "resource") {
				return 0, false, true
			}
			e, ok := skipJSONValue(b, j)
			if ok {
				res = b[j:e]
			}
			return e, true, ok
		})
		if !ok {
			return nil, 0, false
		}
		head := make([]byte, 0, 128)
		head = append(head, '{')
		for _, m := range ms {
			if len(head) > 1 {
				head = append(head, ',')
			}
			head = append(head, b[m.keyStart:m.end]...)
		}
		head = append(head, '}')
		out = append(out, jsonEntry{head: head, resource: res})
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return out, i + 1, true
		default:
			return nil, 0, false
		}
	}
}

// jsonMember is one member of a JSON object: its plain key and where its
// key (with quotes) and value start and end.
type jsonMember struct {
	key                  string
	keyStart, start, end int
}

// jsonMembers lists the members of the object at b[i]; keys with escapes
// are not handled (ok false). take, when not nil, may claim a member by its
// key: it then reads the value itself and returns where it ends, and the
// member is left out of the list.
func jsonMembers(b []byte, i int, take func(key string, b []byte, i int) (end int, taken, ok bool)) (ms []jsonMember, end int, ok bool) {
	if i >= len(b) || b[i] != '{' {
		return nil, 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, 0, false
		}
		ks := i
		j := i + 1
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' || b[j] < 0x20 {
				return nil, 0, false
			}
			j++
		}
		if j >= len(b) {
			return nil, 0, false
		}
		key := string(b[i+1 : j])
		i = skipSpace(b, j+1)
		if i >= len(b) || b[i] != ':' {
			return nil, 0, false
		}
		vs := skipSpace(b, i+1)
		var ve int
		taken := false
		if take != nil {
			var ok bool
			ve, taken, ok = take(key, b, vs)
			if !ok {
				return nil, 0, false
			}
		}
		if !taken {
			var ok bool
			if ve, ok = skipJSONValue(b, vs); !ok {
				return nil, 0, false
			}
			ms = append(ms, jsonMember{key: key, keyStart: ks, start: vs, end: ve})
		}
		i = skipSpace(b, ve)
		if i >= len(b) {
			return nil, 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return ms, i + 1, true
		default:
			return nil, 0, false
		}
	}
}

// skipJSONValue returns the end of the value starting at b[i]. It follows
// strings and nesting only; the value itself is checked by encoding/json
// when it is decoded.
func skipJSONValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipJSONString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				e, ok := skipJSONString(b, i)
				if !ok {
					return 0, false
				}
				i = e
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return 0, false
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && !isJSONSpace(b[j]) {
			j++
		}
		return j, j > i
	}
}

func skipJSONString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// decodeBundleSlow decodes the Bundle entry by entry through raw messages,
// and leaves odd shapes to fhir.ParseBundle.
func decodeBundleSlow(data []byte) (*fhir.Bundle, error) {
	var raw struct {
		ResourceType string            `json:"resourceType"`
		ID           string            `json:"id,omitempty"`
		Meta         *fhir.Meta        `json:"meta,omitempty"`
		Identifier   *fhir.Identifier  `json:"identifier,omitempty"`
		Type         string            `json:"type,omitempty"`
		Timestamp    string            `json:"timestamp,omitempty"`
		Total        *int              `json:"total,omitempty"`
		Link         []fhir.BundleLink `json:"link,omitempty"`
		Entry        []struct {
			ResourceType string            `json:"resourceType"`
			FullURL      string            `json:"fullUrl"`
			Resource     json.RawMessage   `json:"resource"`
			Search       *fhir.EntrySearch `json:"search"`
		} `json:"entry,omitempty"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	if raw.ResourceType != "Bundle" {
		if raw.ResourceType == "" {
			return nil, fmt.Errorf("resource: no resourceType")
		}
		return nil, fmt.Errorf("resourceType %s, want Bundle", raw.ResourceType)
	}
	b := &fhir.Bundle{ResourceType: raw.ResourceType, ID: raw.ID, Meta: raw.Meta, Identifier: raw.Identifier,
		Type: raw.Type, Timestamp: raw.Timestamp, Total: raw.Total, Link: raw.Link}
	if len(raw.Entry) > 0 {
		b.Entry = make([]fhir.Entry, len(raw.Entry))
	}
	for i, e := range raw.Entry {
		if e.ResourceType != "" {
			// An inline entry: let the fhir package read it as it does.
			ent, err := inlineEntry(data, i)
			if err != nil {
				return nil, err
			}
			b.Entry[i] = ent
			continue
		}
		b.Entry[i].FullURL, b.Entry[i].Search = e.FullURL, e.Search
		if len(e.Resource) == 0 || bytes.Equal(e.Resource, []byte("null")) {
			continue
		}
		res, err := decodeResourceFast(e.Resource)
		if err != nil {
			return nil, fmt.Errorf("entry %s: %w", e.FullURL, err)
		}
		b.Entry[i].Resource = res
	}
	return b, nil
}

// inlineEntry re-reads entry i through the fhir package.
func inlineEntry(data []byte, i int) (fhir.Entry, error) {
	b, err := fhir.ParseBundle(data)
	if err != nil {
		return fhir.Entry{}, err
	}
	return b.Entry[i], nil
}

// decodeResourceFast decodes one resource into its Go type when its first
// key names a type the prescribing messages use; anything else goes through
// fhir.DecodeResource.
func decodeResourceFast(raw json.RawMessage) (fhir.Resource, error) {
	var res fhir.Resource
	switch firstKeyString(raw, "resourceType") {
	case "MessageHeader":
		res = &fhir.MessageHeader{}
	case "MedicationRequest":
		res = &fhir.MedicationRequest{}
	case "Patient":
		res = &fhir.Patient{}
	case "Practitioner":
		res = &fhir.Practitioner{}
	case "PractitionerRole":
		res = &fhir.PractitionerRole{}
	case "Organization":
		res = &fhir.Organization{}
	case "HealthcareService":
		res = &fhir.HealthcareService{}
	case "Location":
		res = &fhir.Location{}
	case "Provenance":
		res = &fhir.Provenance{}
	case "CommunicationRequest":
		res = &fhir.CommunicationRequest{}
	case "List":
		res = &fhir.List{}
	default:
		return fhir.DecodeResource(raw)
	}
	if err := json.Unmarshal(raw, res); err != nil {
		return nil, fmt.Errorf("%s: %w", res.GetResourceType(), err)
	}
	return res, nil
}

// firstKeyString returns the string value of an object's first key when
// that key is key and its value a plain string (no escapes); "" otherwise.
func firstKeyString(raw []byte, key string) string {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ""
	}
	i = skipSpace(raw, i+1)
	if i >= len(raw) || raw[i] != '"' || !bytes.HasPrefix(raw[i+1:], []byte(key)) {
		return ""
	}
	i += 1 + len(key)
	if i >= len(raw) || raw[i] != '"' {
		return ""
	}
	i = skipSpace(raw, i+1)
	if i >= len(raw) || raw[i] != ':' {
		return ""
	}
	i = skipSpace(raw, i+1)
	if i >= len(raw) || raw[i] != '"' {
		return ""
	}
	start := i + 1
	for j := start; j < len(raw); j++ {
		switch raw[j] {
		case '"':
			return string(raw[start:j])
		case '\\':
			return ""
		}
	}
	return ""
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// MarshalBundle writes a Bundle as compact JSON without HTML escaping, like
// fhir.Marshal, but encodes each entry's resource once, straight into the
// output (fhir.Entry's own MarshalJSON has the encoder compact its output a
// second time). Bundles with search or inline entries go to fhir.Marshal.
func MarshalBundle(b *fhir.Bundle) ([]byte, error) {
	for _, e := range b.Entry {
		if e.Search != nil || e.Inline != nil || e.Resource == nil {
			return fhir.Marshal(b)
		}
	}
	var buf bytes.Buffer
	buf.Grow(16 << 10)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	encode := func(v any) error {
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // the encoder's newline
		return nil
	}
	head := *b
	head.Entry = nil
	if err := encode(&head); err != nil {
		return nil, err
	}
	if len(b.Entry) == 0 {
		return buf.Bytes(), nil
	}
	buf.Truncate(buf.Len() - 1) // the closing brace
	if buf.Len() > 1 {
		buf.WriteByte(',')
	}
	buf.WriteString(`"entry":[`)
	for i, e := range b.Entry {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('{')
		if e.FullURL != "" {
			buf.WriteString(`"fullUrl":`)
			if err := encode(e.FullURL); err != nil {
				return nil, err
			}
			buf.WriteByte(',')
		}
		buf.WriteString(`"resource":`)
		if err := encode(fhir.Stamp(e.Resource)); err != nil {
			return nil, err
		}
		buf.WriteByte('}')
	}
	buf.WriteString("]}")
	return buf.Bytes(), nil
}
