package prescribe

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"unsafe"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// The prescriber's signature travels as XML in v3 (author/signatureText) and
// as base64 of that XML in FHIR (Provenance.signature.data). Both ways keep
// it as it is: FHIR → v3 parses the fragment and inserts it after the rest
// of the document is indented, so its white space stays as signed; v3 → FHIR
// takes the bytes between the signatureText tags of the original message.

// signatureFor fills signatureText: nullFlavor NA when the prescription is
// unsigned, else a placement of the decoded Provenance signature.
func signatureFor(c *core.BundleContext, sigText *etree.Element, o *prescriptionOrder) *core.SignaturePlacement {
	if o.signature == nil || strings.TrimSpace(o.signature.Data) == "" {
		sigText.CreateAttr("nullFlavor", "NA")
		return nil
	}
	// The placement is the order's own (one a prescription).
	if c.Trusted {
		o.sigRoom = core.SignaturePlacement{El: sigText}
		return &o.sigRoom
	}
	raw, err := decodeSignature(o.signature.Data)
	if err != nil {
		c.Fail(o.sigAt.path()+".data", "invalid signature format: %v", err)
		return nil
	}
	o.sigRoom = core.SignaturePlacement{El: sigText, Raw: raw}
	return &o.sigRoom
}

// decodeSignature returns the fragment a Provenance signature's data (base64)
// holds, checked by checkSignatureFragment.
func decodeSignature(data string) ([]byte, error) {
	s := strings.TrimSpace(data)
	// Decoded with room before it and after it for the check's wrapper,
	// <w> and </w>: checkSignatureFragment's copy of the fragment into a
	// wrapper of its own (the size of the signature again) is not made.
	buf := make([]byte, len("<w>")+base64.StdEncoding.DecodedLen(len(s))+len("</w>"))
	n, err := base64.StdEncoding.Decode(buf[len("<w>"):], unsafe.Slice(unsafe.StringData(s), len(s)))
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	dec := buf[len("<w>") : len("<w>")+n]
	frag, err := fragmentBody(dec)
	if err != nil {
		return nil, err
	}
	// The fragment ends where dec does; what fragmentBody dropped before
	// it, and the room, leave at least three bytes for <w>.
	start := len("<w>") + n - len(frag)
	copy(buf[start-len("<w>"):], "<w>")
	end := copy(buf[len("<w>")+n:], "</w>") + len("<w>") + n
	if err := checkWrapped(buf[start-len("<w>") : end]); err != nil {
		return nil, err
	}
	return buf[start : len("<w>")+n : len("<w>")+n], nil
}

// checkSignatureFragment checks that decoded signature data is an XML
// fragment (usually one Signature element, perhaps after a byte order mark
// and an XML declaration, which are dropped) that can stand inside
// signatureText, and returns its bytes.
func checkSignatureFragment(data []byte) ([]byte, error) {
	data, err := fragmentBody(data)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, len(data)+7)
	buf = append(buf, "<w>"...)
	buf = append(buf, data...)
	buf = append(buf, "</w>"...)
	if err := checkWrapped(buf); err != nil {
		return nil, err
	}
	return data, nil
}

// checkWrapped is checkSignatureFragment's check of the fragment wrapped,
// <w>fragment</w>.
func checkWrapped(buf []byte) error {
	// Most fragments are within what the fast scanner reads, where there is
	// no directive and the check needs no tree: an element in <w> nests
	// two deep.
	if root, ok := v3.CheckXML(buf); ok {
		if root.Depth < 2 {
			return errString("no XML element")
		}
		return nil
	}
	return checkFragmentTree(buf)
}

// checkReadSignature answers as checkSignatureFragment(sig) does (its
// error only) for sig, a signature's bytes as signatureData read them from
// raw. When raw holds them as "<signatureText>"+sig+"</signatureText>" (a
// release response's span of a prescription's signature, or a message
// whose signatureText has no attributes), that element is checked where it
// stands instead of a copy of sig wrapped in <w>: a document is
// well-formed with either root name exactly when sig is well-formed
// content, as its root cannot end within sig (only comments, processing
// instructions and white space may follow a root, and the document ends
// with the root's end tag). A 20-prescription release response so made 20
// copies, 53 KB, fewer. Anything else (a byte order mark or declaration
// to drop, what the fast scanner leaves to the tree, sig not in raw) is
// checkSignatureFragment's.
func checkReadSignature(raw, sig []byte) error {
	if doc := wrappedSignature(raw, sig); doc != nil {
		if body, err := fragmentBody(sig); err == nil && len(body) == len(sig) {
			if root, ok := v3.CheckXML(doc); ok {
				if root.Depth < 2 {
					return errString("no XML element")
				}
				return nil
			}
		}
	}
	_, err := checkSignatureFragment(sig)
	return err
}

// checkScannedSignature is checkReadSignature(raw, sig) for the signature
// of signatureText st in a message sp read: when sp's fast scanner read
// sig's bytes as st's content, with no comment, CDATA section or
// processing instruction among them (v3.Space.ScannedContent), sig is
// well-formed XML content as it stands, so it is not read again: what
// checkSignatureFragment then tells is whether it holds an element, which
// content made only of text and tags does exactly when it holds a '<'
// (its tags are balanced; a byte order mark that fragmentBody drops is
// text, and a declaration would be a processing instruction). A
// 20-prescription release response so reads 20 signatures, 53 KB, once
// instead of twice. Anything else is checkReadSignature's.
func checkScannedSignature(sp *v3.Space, st *etree.Element, raw, sig []byte) error {
	if sp.ScannedContent(st, sig) {
		if bytes.IndexByte(sig, '<') < 0 {
			return errString("no XML element")
		}
		return nil
	}
	return checkReadSignature(raw, sig)
}

// wrappedSignature returns the bytes of raw that are
// "<signatureText>"+sig+"</signatureText>" with sig itself (not a copy of
// it) between the tags, or nil when sig is empty, not part of raw or not
// so wrapped.
func wrappedSignature(raw, sig []byte) []byte {
	const open, end = "<signatureText>", "</signatureText>"
	if len(sig) == 0 || len(raw) < len(open)+len(sig)+len(end) {
		return nil
	}
	// Where sig starts in raw, if it is there (checked below by address:
	// the difference of two unrelated addresses is only a number).
	at := uintptr(unsafe.Pointer(unsafe.SliceData(sig))) - uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
	if at < uintptr(len(open)) || at > uintptr(len(raw)-len(sig)-len(end)) {
		return nil
	}
	i := int(at)
	if &raw[i] != &sig[0] || string(raw[i-len(open):i]) != open || string(raw[i+len(sig):i+len(sig)+len(end)]) != end {
		return nil
	}
	return raw[i-len(open) : i+len(sig)+len(end)]
}

// fragmentBody is decoded signature data without the byte order mark and
// XML declaration it may start with.
func fragmentBody(data []byte) ([]byte, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if t := bytes.TrimLeft(data, " \t\r\n"); bytes.HasPrefix(t, []byte("<?xml")) {
		end := bytes.Index(t, []byte("?>"))
		if end < 0 {
			return nil, errString("unterminated XML declaration")
		}
		data = t[end+2:]
	}
	return data, nil
}

// checkFragmentTree is checkSignatureFragment's check of <w>fragment</w>
// on the tree: it reads everything XML allows that the fast scanner does
// not, and tells what is wrong.
func checkFragmentTree(buf []byte) error {
	doc, err := v3.ReadXML(buf)
	if err != nil {
		return err
	}
	root := doc.Root()
	if root == nil || len(root.ChildElements()) == 0 {
		return errString("no XML element")
	}
	for _, t := range root.Child {
		if _, ok := t.(*etree.Directive); ok {
			return errString("directive in signature")
		}
	}
	return nil
}

// errString is a constant error message.
type errString string

// Error implements error.
func (e errString) Error() string { return string(e) }

// signatureData returns the base64 of what signatureText holds, and those
// bytes: the bytes between its tags in the original message when they can
// be found there unambiguously, else the element's children serialised.
// "" and nil when the element is null or empty. The base64 is made in
// room sp lends (nil: fresh memory; see base64String).
func signatureData(raw []byte, st v3.Node, sp *v3.Space) (string, []byte) {
	if !st.Exists() || st.HasAttr("nullFlavor") || (len(st.El.ChildElements()) == 0 && strings.TrimSpace(st.Text()) == "") {
		return "", nil
	}
	if inner, ok := rawInner(raw, "signatureText"); ok {
		return base64String(inner, sp), inner
	}
	var b bytes.Buffer
	ws := etree.WriteSettings{}
	for _, t := range st.El.Child {
		t.WriteTo(&b, &ws)
	}
	return base64String(b.Bytes(), sp), b.Bytes()
}

// base64String is base64.StdEncoding.EncodeToString in room sp lends
// (v3.Space.Lend), exactly its length: the string is then valid as long
// as the views of the message read in sp that the rest of the Bundle
// holds, and costs no allocation once the Space has lent as much before.
// A nil sp: in one allocation instead of EncodeToString's two, the
// encoded bytes becoming the string, as nothing else holds them.
func base64String(b []byte, sp *v3.Space) string {
	if len(b) == 0 {
		return ""
	}
	buf := appendBase64(sp.Lend(base64.StdEncoding.EncodedLen(len(b)))[:0], b)
	return unsafe.String(unsafe.SliceData(buf), len(buf))
}

// rawInner returns the bytes between <tag ...> and </tag> when the message
// holds exactly one such element without a namespace prefix.
func rawInner(raw []byte, tag string) ([]byte, bool) {
	if len(raw) > len(tag)+1 && raw[0] == '<' && string(raw[1:1+len(tag)]) == tag && raw[1+len(tag)] == '>' {
		return rawInnerAtStart(raw, tag)
	}
	return rawInnerScan(raw, tag)
}

// rawInnerScan is rawInner for any raw.
func rawInnerScan(raw []byte, tag string) ([]byte, bool) {
	i := indexStartTag(raw, tag)
	if i < 0 || indexStartTag(raw[i+1+len(tag):], tag) >= 0 {
		return nil, false
	}
	rest := raw[i+1+len(tag):]
	if len(rest) == 0 || (rest[0] != '>' && rest[0] != ' ' && rest[0] != '\t' && rest[0] != '\r' && rest[0] != '\n') {
		return nil, false
	}
	gt := bytes.IndexByte(rest, '>')
	if gt < 0 || (gt > 0 && rest[gt-1] == '/') {
		return nil, false
	}
	body := rest[gt+1:]
	var room [64]byte // the end tag, made without an allocation
	end := bytes.Index(body, append(append(append(room[:0], "</"...), tag...), '>'))
	if end < 0 {
		return nil, false
	}
	return body[:end], true
}

// rawInnerAtStart is rawInner for raw that starts with "<"+tag+">" (a
// release response's span of a signature is so): one pass over the '<'
// after it finds both the first "</"+tag+">", which ends the content, and
// any later "<"+tag, which makes raw hold more than one such element,
// where indexStartTag and bytes.Index each went over all of it (a
// signature holds about as many '<' as capital T's of indexStartTag's
// anchor).
func rawInnerAtStart(raw []byte, tag string) ([]byte, bool) {
	body := raw[len(tag)+2:]
	end := -1
	for i := 0; ; {
		j := bytes.IndexByte(body[i:], '<')
		if j < 0 {
			break
		}
		i += j + 1
		rest := body[i:]
		switch {
		case len(rest) >= len(tag) && rest[0] == tag[0] && string(rest[:len(tag)]) == tag:
			return nil, false // a second start tag
		case end < 0 && len(rest) > len(tag)+1 && rest[0] == '/' && string(rest[1:1+len(tag)]) == tag && rest[1+len(tag)] == '>':
			end = i - 1
		}
	}
	if end < 0 {
		return nil, false
	}
	return body[:end], true
}

// indexStartTag returns the index of the first "<"+tag in b, or -1. It
// looks for the tag's anchor byte (its first capital letter, which XML
// messages hold much more rarely than a lower-case letter, the start of
// the tag else) and checks the '<' and the tag around it: the search is
// several times faster than one for the tag's first letter.
func indexStartTag(b []byte, tag string) int {
	if tag == "" {
		return bytes.IndexByte(b, '<')
	}
	anchor := 0
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; c >= 'A' && c <= 'Z' {
			anchor = i
			break
		}
	}
	// A match starts at p-1-anchor for the anchor byte at p.
	for from := 1 + anchor; from < len(b); {
		p := bytes.IndexByte(b[from:], tag[anchor])
		if p < 0 {
			return -1
		}
		p += from
		start := p - 1 - anchor
		if end := start + 1 + len(tag); end <= len(b) && b[start] == '<' && string(b[start+1:end]) == tag {
			return start
		}
		from = p + 1
	}
	return -1
}
