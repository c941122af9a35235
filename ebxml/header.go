package ebxml

import (
	"bytes"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// utf8BOM is the byte-order mark some senders put before the XML declaration.
const utf8BOM = "\xEF\xBB\xBF"

// trimXMLStart drops white space and a byte-order mark before the first
// '<' (some senders indent the XML declaration itself).
func trimXMLStart(b []byte) []byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	b = bytes.TrimPrefix(b, []byte(utf8BOM))
	return bytes.TrimLeft(b, " \t\r\n")
}

// XMLReader parses an XML document into the document etree's own reader
// (strict settings) would make of it, e.g. a faster reader that falls back
// on etree's. ParseRequestWith reads the SOAP envelope with one.
type XMLReader func(b []byte) (*etree.Document, error)

// etreeRead is the XMLReader of etree itself.
func etreeRead(b []byte) (*etree.Document, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, err
	}
	return doc, nil
}

// parseXML reads b with read (nil: etree's reader) and returns the root
// element.
func parseXML(b []byte, read XMLReader) (*etree.Element, error) {
	if read == nil {
		read = etreeRead
	}
	doc, err := read(trimXMLStart(b))
	if err != nil {
		return nil, err
	}
	roots := 0
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Element:
			roots++
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return nil, errTopLevelText
			}
		}
	}
	if roots != 1 {
		return nil, errNoRoot
	}
	return doc.Root(), nil
}

// readEnvelope parses the header part with read (nil: etree's reader)
// and checks it is a SOAP 1.1 envelope.
func readEnvelope(b []byte, read XMLReader) (*etree.Element, *MessageError) {
	env, err := parseXML(b, read)
	if err != nil {
		return nil, newErr(CodeOtherXML, NumHeaderXML, err, "ebXML header part cannot be read as XML: %v", err)
	}
	return env, checkEnvelope(env)
}

// checkEnvelope checks that env is a SOAP 1.1 Envelope.
func checkEnvelope(env *etree.Element) *MessageError {
	switch {
	case env.Tag != "Envelope":
		return newErr(CodeOtherXML, NumEnvelope, nil, "root element %s is not a SOAP Envelope", env.FullTag())
	case env.NamespaceURI() == NSSOAP12:
		return newErr(CodeNotSupported, NumEnvelope, nil, "SOAP 1.2 envelopes are not supported")
	case env.NamespaceURI() != NSSOAP:
		return newErr(CodeOtherXML, NumEnvelope, nil, "Envelope namespace %q is not SOAP 1.1", env.NamespaceURI())
	}
	return nil
}

// child returns the first child element of e with namespace ns and local
// name local, or nil.
func child(e *etree.Element, ns, local string) *etree.Element {
	if e == nil {
		return nil
	}
	// e.Child, not e.ChildElements(), which makes a slice each call:
	// reading a request's header looked children up about forty times,
	// a quarter of the front door's allocations.
	for _, t := range e.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == local && c.NamespaceURI() == ns {
			return c
		}
	}
	return nil
}

// childText returns the trimmed text of the child ns:local of e, or "".
func childText(e *etree.Element, ns, local string) string {
	c := child(e, ns, local)
	if c == nil {
		return ""
	}
	return strings.TrimSpace(c.Text())
}

// attrNS returns the value of the attribute ns:local of e (an attribute
// without a prefix matches when ns is ""), or "".
func attrNS(e *etree.Element, ns, local string) string {
	for _, a := range e.Attr {
		if a.Key != local {
			continue
		}
		if a.Space == "" && ns == "" || a.Space != "" && a.NamespaceURI() == ns {
			return a.Value
		}
	}
	return ""
}

// attrAny returns the attribute local of e in namespace ns or without a
// prefix (senders are not consistent), or "".
func attrAny(e *etree.Element, ns, local string) string {
	if v := attrNS(e, ns, local); v != "" {
		return v
	}
	return attrNS(e, "", local)
}

// readHeader fills msg from the envelope's eb:MessageHeader, eb:AckRequested,
// eb:SyncReply and eb:Manifest. It reports the first required element that
// is missing, after reading everything it can.
func readHeader(env *etree.Element, msg *Message) *MessageError {
	hdr := child(env, NSSOAP, "Header")
	if hdr == nil {
		return newErr(CodeOtherXML, NumNoMessageHeader, nil, "SOAP Header missing")
	}
	mh := child(hdr, NSEb, "MessageHeader")
	if mh == nil {
		for _, c := range hdr.ChildElements() {
			if c.Tag == "MessageHeader" {
				return newErr(CodeNotSupported, NumVersion, nil, "eb:MessageHeader namespace %q is not ebMS 2.0", c.NamespaceURI())
			}
		}
		return newErr(CodeOtherXML, NumNoMessageHeader, nil, "eb:MessageHeader missing")
	}
	msg.FromPartyID = childText(child(mh, NSEb, "From"), NSEb, "PartyId")
	msg.ToPartyID = childText(child(mh, NSEb, "To"), NSEb, "PartyId")
	msg.CPAID = childText(mh, NSEb, "CPAId")
	msg.ConversationID = childText(mh, NSEb, "ConversationId")
	msg.Service = childText(mh, NSEb, "Service")
	msg.Action = childText(mh, NSEb, "Action")
	md := child(mh, NSEb, "MessageData")
	msg.MessageID = childText(md, NSEb, "MessageId")
	msg.TimestampRaw = childText(md, NSEb, "Timestamp")
	msg.RefToMessageID = childText(md, NSEb, "RefToMessageId")
	msg.DuplicateElimination = child(mh, NSEb, "DuplicateElimination") != nil
	if ar := child(hdr, NSEb, "AckRequested"); ar != nil {
		msg.AckRequested, msg.AckRequestedActor = true, strings.TrimSpace(attrAny(ar, NSSOAP, "actor"))
	}
	msg.SyncReply = child(hdr, NSEb, "SyncReply") != nil
	msg.Manifest = readManifest(child(child(env, NSSOAP, "Body"), NSEb, "Manifest"))

	required := []struct{ name, val string }{
		{"eb:MessageId", msg.MessageID},
		{"eb:From/eb:PartyId", msg.FromPartyID},
		{"eb:To/eb:PartyId", msg.ToPartyID},
		{"eb:CPAId", msg.CPAID},
		{"eb:ConversationId", msg.ConversationID},
		{"eb:Service", msg.Service},
		{"eb:Action", msg.Action},
		{"eb:Timestamp", msg.TimestampRaw},
	}
	for _, r := range required {
		if r.val == "" {
			return newErr(CodeOtherXML, NumMissingElement, nil, "%s missing or empty", r.name)
		}
	}
	if v := attrAny(mh, NSEb, "version"); v != "" && v != "2.0" {
		return newErr(CodeNotSupported, NumVersion, nil, "eb:version %q not supported", v)
	}
	ts, ok := parseTimestamp(msg.TimestampRaw)
	if !ok {
		return newErr(CodeValueNotRecognized, NumBadValue, nil, "eb:Timestamp %q not recognised", msg.TimestampRaw)
	}
	msg.Timestamp = ts
	if raw := childText(md, NSEb, "TimeToLive"); raw != "" {
		ttl, ok := parseTimestamp(raw)
		if !ok {
			return newErr(CodeValueNotRecognized, NumBadValue, nil, "eb:TimeToLive %q not recognised", raw)
		}
		msg.TimeToLive = ttl
	}
	return nil
}

// readManifest returns the references of an eb:Manifest (nil-safe).
func readManifest(man *etree.Element) []Reference {
	if man == nil {
		return nil
	}
	var refs []Reference
	for _, t := range man.Child {
		r, ok := t.(*etree.Element)
		if !ok || r.Tag != "Reference" || r.NamespaceURI() != NSEb {
			continue
		}
		ref := Reference{Href: strings.TrimSpace(attrAny(r, NSXLink, "href"))}
		ref.ContentID = cidOf(ref.Href, true)
		ref.Description = childText(r, NSEb, "Description")
		if s := child(r, NSEb, "Schema"); s != nil {
			ref.SchemaLocation = attrAny(s, NSEb, "location")
			ref.SchemaVersion = attrAny(s, NSEb, "version")
		}
		for _, t := range r.Child {
			if c, ok := t.(*etree.Element); ok && c.Tag == "Payload" && strings.EqualFold(c.NamespaceURI(), NSHL7ebXML) {
				ref.HL7Payload = true
			}
		}
		refs = append(refs, ref)
	}
	return refs
}

// cidOf returns the Content-ID a "cid:" URL names, "" for another URL.
// A cid URL is the Content-ID percent-encoded (RFC 2392: "cid:foo4%25bar"
// names <foo4%bar>); with decode unset, or when an escape is invalid, the
// text after "cid:" is taken as written (senders that never encode).
func cidOf(href string, decode bool) string {
	if len(href) <= 4 || !strings.EqualFold(href[:4], "cid:") {
		return ""
	}
	id := href[4:]
	if decode && strings.IndexByte(id, '%') >= 0 {
		if d, err := url.PathUnescape(id); err == nil {
			id = d
		}
	}
	return normalizeContentID(id)
}

// parseTimestamp reads an xsd:dateTime (fractional seconds optional; zone
// Z, ±hh:mm, ±hhmm or none, which is taken as UTC) and the spellings
// RFC 3339 and ISO 8601 also allow: a lower-case t or z, a space for the T,
// and 24:00:00 for the end of the day.
func parseTimestamp(s string) (time.Time, bool) {
	if len(s) > 19 && (s[10] == 't' || s[10] == ' ') || strings.HasSuffix(s, "z") {
		b := []byte(s)
		if len(b) > 19 && (b[10] == 't' || b[10] == ' ') {
			b[10] = 'T'
		}
		if b[len(b)-1] == 'z' {
			b[len(b)-1] = 'Z'
		}
		s = string(b)
	}
	endOfDay := len(s) >= 19 && s[10:19] == "T24:00:00" && zeroFraction(s[19:])
	if endOfDay {
		s = s[:11] + "00" + s[13:]
	}
	layouts := [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700"}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			if endOfDay {
				t = t.Add(24 * time.Hour)
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// zeroFraction reports that what follows the seconds of a time starts
// with no fraction, or one of zeros only.
func zeroFraction(rest string) bool {
	if !strings.HasPrefix(rest, ".") {
		return true
	}
	for _, c := range rest[1:] {
		switch {
		case c == '0':
		case c >= '1' && c <= '9':
			return false
		default:
			return true
		}
	}
	return true
}
