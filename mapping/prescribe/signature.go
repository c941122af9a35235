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
		return vouchedSignatureErr(sig)
	}
	return checkReadSignature(raw, sig)
}

// vouchedSignatureErr is checkReadSignature's answer for sig, content
// v3.Space.ScannedContent vouched for (see checkScannedSignature): an
// error when it holds no element, which such content does exactly when it
// holds no '<'.
func vouchedSignatureErr(sig []byte) error {
	if bytes.IndexByte(sig, '<') < 0 {
		return errString("no XML element")
	}
	return nil
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

// noChildElement reports whether el has no child element, as
// len(el.ChildElements()) == 0 does without collecting them into a slice
// of their own (an allocation a signed prescription).
func noChildElement(el *etree.Element) bool {
	for range el.ChildElementsSeq() {
		return false
	}
	return true
}

// readSignature is the signature signatureData read: its bytes, and
// whether v3.Space.ScannedContent vouched for them as the content of the
// signatureText element read (so that checkScannedSignature's answer for
// them is vouchedSignatureErr's, without their being scanned again).
type readSignature struct {
	bytes   []byte
	scanned bool
}

// signatureData returns the base64 of what signatureText holds, and those
// bytes: the bytes between its tags in the original message when they can
// be found there unambiguously, else the element's children serialised.
// "" and nil when the element is null or empty. The base64 is made in
// room sp lends (nil: fresh memory; see base64String).
func signatureData(raw []byte, st v3.Node, sp *v3.Space) (string, readSignature) {
	if !st.Exists() || st.HasAttr("nullFlavor") || (noChildElement(st.El) && strings.TrimSpace(st.Text()) == "") {
		return "", readSignature{}
	}
	if inner, ok := scannedInner(raw, st.El, sp); ok {
		return base64String(inner, sp), readSignature{inner, true}
	}
	if inner, ok := rawInner(raw, "signatureText"); ok {
		return base64String(inner, sp), readSignature{bytes: inner}
	}
	var b bytes.Buffer
	ws := etree.WriteSettings{}
	for _, t := range st.El.Child {
		t.WriteTo(&b, &ws)
	}
	return base64String(b.Bytes(), sp), readSignature{bytes: b.Bytes()}
}

// scannedInner returns what rawInner(raw, "signatureText") returns when
// it finds st's content, found where sp's scanner read st
// (v3.Space.ScannedName) instead of by scanning raw for tags: raw must be
// the part of the message sp read last that ends with st's end tag (a
// release response's span of one prescription's signature,
// "<signatureText>…</signatureText>", which rawInnerAtStart scanned for
// its end tag and for a second start tag, before ScannedContent scanned
// the same content again for the same tags). Its second result is false,
// for the caller to look the usual way, when that cannot be told so: st
// not read by the scanner, or prefixed; raw not ending with its end tag
// written "</signatureText>"; a '>' in an attribute value of its start tag
// (rawInner takes the first '>' for the tag's end); or content
// v3.Space.ScannedContent does not vouch for (a comment, CDATA section or
// processing instruction in it, or a nested signatureText). Vouched-for
// content holds no "<signatureText" and the end tag after it is st's own;
// nor does a start tag hold one after its '<' (an attribute value holds no
// '<'), so the one rawInner requires is st's exactly when raw holds none
// before st's start tag (nothing, in a span). A true answer also says
// that ScannedContent vouched for the content. (A whole prescription is
// not found so: telling that nothing else in it, a comment's text among
// others, holds "<signatureText" would take the scan rawInner makes.)
func scannedInner(raw []byte, st *etree.Element, sp *v3.Space) ([]byte, bool) {
	const tag, endTag = "signatureText", "</signatureText>"
	src, name := sp.ScannedName(st)
	if name < 0 || len(raw) == 0 || st.Tag != tag || src[name-1] != '<' {
		return nil, false
	}
	// Where raw stands in src (by address: the difference of two
	// unrelated addresses is only a number).
	at := uintptr(unsafe.Pointer(unsafe.SliceData(raw))) - uintptr(unsafe.Pointer(unsafe.SliceData(src)))
	if at >= uintptr(len(src)) || uintptr(len(raw)) > uintptr(len(src))-at {
		return nil, false
	}
	from := int(at)
	to := from + len(raw)
	if &src[from] != &raw[0] || name-1 < from {
		return nil, false
	}
	gt := v3.StartTagEnd(src, name+len(tag))
	if gt < 0 || gt >= to || src[gt-1] == '/' || bytes.IndexByte(src[name:gt], '>') >= 0 {
		return nil, false
	}
	if c := src[name+len(tag)]; c != '>' && c != ' ' && c != '\t' && c != '\r' && c != '\n' {
		return nil, false
	}
	end := to - len(endTag)
	if end <= gt || string(src[end:to]) != endTag {
		return nil, false
	}
	content := src[gt+1 : end]
	if !sp.ScannedContent(st, content) || indexStartTag(src[from:name-1], tag) >= 0 {
		return nil, false
	}
	return content, true
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

// rawInnerScan is rawInner for any raw: the first "<"+tag, then one pass
// over the rest of raw (indexStartOrEndTag) for both a second start tag and
// the first end tag after the start tag's '>', where a search for the end
// tag went over the content a second time (bytes.Index: with it, the
// search took about 5.3 K of a prescription's 727 K instructions, 4.2 K
// without).
func rawInnerScan(raw []byte, tag string) ([]byte, bool) {
	i := indexStartTag(raw, tag)
	if i < 0 {
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
	again, end := indexStartOrEndTag(rest, tag, gt+1)
	if again >= 0 || end < 0 {
		return nil, false
	}
	return rest[gt+1 : end], true
}

// indexStartOrEndTag returns the index of the first "<"+tag in b (-1:
// none), and of the first "</"+tag+">" in b that starts at from or later
// and before that start tag (-1: none). Like indexStartTag it stops only
// at the tag's anchor byte, which both tags hold.
func indexStartOrEndTag(b []byte, tag string, from int) (start, end int) {
	end = -1
	if tag == "" {
		return bytes.IndexByte(b, '<'), -1
	}
	anchor := tagAnchor(tag)
	// A start tag starts at p-1-anchor for the anchor byte at p, an end
	// tag one byte earlier.
	for at := 1 + anchor; at < len(b); {
		p := bytes.IndexByte(b[at:], tag[anchor])
		if p < 0 {
			break
		}
		p += at
		at = p + 1
		s := p - 1 - anchor
		if s+1+len(tag) > len(b) || string(b[s+1:s+1+len(tag)]) != tag {
			continue
		}
		switch {
		case b[s] == '<':
			return s, end
		case end < 0 && b[s] == '/' && s-1 >= from && b[s-1] == '<' && s+1+len(tag) < len(b) && b[s+1+len(tag)] == '>':
			end = s - 1
		}
	}
	return -1, end
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

// tagAnchor is where indexStartTag's anchor byte stands in tag, not "".
func tagAnchor(tag string) int {
	anchor := strings.IndexByte(tag, 'x')
	for i := 0; anchor < 0 && i < len(tag); i++ {
		if c := tag[i]; c >= 'A' && c <= 'Z' {
			anchor = i
		}
	}
	return max(anchor, 0)
}

// indexStartTag returns the index of the first "<"+tag in b, or -1. It
// looks for the tag's anchor byte (its 'x', else its first capital letter,
// which XML messages hold much more rarely than a lower-case letter, the
// start of the tag else) and checks the '<' and the tag around it: the
// search is several times faster than one for the tag's first letter. An
// 'x' is rarer still than a capital (release's signatureTextOpenings
// looks for it too): the corpus's 20 prescriptions of
// BenchmarkPrescribeV3ToFHIR hold 1,409 against 2,262 T's, a stop of
// IndexByte each.
func indexStartTag(b []byte, tag string) int {
	if tag == "" {
		return bytes.IndexByte(b, '<')
	}
	anchor := tagAnchor(tag)
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
