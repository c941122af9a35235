package mapping

import (
	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// shapeReader is the strict reader of v3 message shapes that porxgate reads
// field by field (acknowledgements, cancellation requests and responses): it
// checks each element's children, attributes and fixed values as it goes,
// through a v3.Reader that keeps the first problem with its element path.
type shapeReader struct{ r *v3.Reader }

// code reads <code codeSystem code [displayName]/>, which may hold only a
// qualifier.
func (p shapeReader) code(n v3.Node) SpineCode {
	p.shape(n, nil, "qualifier")
	p.attrs(n, "codeSystem", "code", "displayName")
	c := SpineCode{System: p.nonEmpty(n, "codeSystem"), Code: p.nonEmpty(n, "code"), Display: n.OptAttr("displayName")}
	if n.HasAttr("displayName") && c.Display == "" {
		p.r.Fail(n.Path+"/@displayName", "empty value")
	}
	return c
}

// severity reads a mandatory ER/WG/IF attribute.
func (p shapeReader) severity(n v3.Node, attr string) string {
	s := n.Attr(attr)
	if n.HasAttr(attr) && !ackSeverityOK(s) {
		p.r.Fail(n.Path+"/@"+attr, "%q is not ER, WG or IF", s)
	}
	return s
}

// device reads communicationFunctionRcv/Snd and returns the ASID.
func (p shapeReader) device(n v3.Node, typeCode string) string {
	p.shape(n, nil, "device")
	p.attrs(n, "typeCode")
	p.fixed(n, "typeCode", typeCode)
	return p.deviceID(n.Child("device"))
}

// deviceID reads a device (classCode DEV, determinerCode INSTANCE) with its
// ASID id and returns the ASID.
func (p shapeReader) deviceID(n v3.Node) string {
	p.shape(n, nil, "id")
	p.attrs(n, "classCode", "determinerCode")
	p.fixed(n, "classCode", "DEV")
	p.fixed(n, "determinerCode", "INSTANCE")
	return p.ii(n.Child("id"), v3.OIDASID, true)
}

// ii reads an <id root [extension]/>: with wantRoot set, root must be it and
// the extension is returned; otherwise the id has a root only, returned.
func (p shapeReader) ii(n v3.Node, wantRoot string, ext bool) string {
	p.shape(n, nil)
	if !ext {
		p.attrs(n, "root")
		return p.nonEmpty(n, "root")
	}
	p.attrs(n, "root", "extension")
	p.fixed(n, "root", wantRoot)
	return p.nonEmpty(n, "extension")
}

// attrOnly reads an element that has just one attribute and no children.
func (p shapeReader) attrOnly(n v3.Node, attr string) string {
	p.shape(n, nil)
	p.attrs(n, attr)
	return p.nonEmpty(n, attr)
}

func (p shapeReader) nonEmpty(n v3.Node, attr string) string {
	v := n.Attr(attr)
	if n.HasAttr(attr) && v == "" {
		p.r.Fail(n.Path+"/@"+attr, "empty value")
	}
	return v
}

// fixed checks that a mandatory attribute has the one value Spine writes;
// a determinerCode may be either value Spine reads
// (docs/mappings/accepting.md).
func (p shapeReader) fixed(n v3.Node, attr, want string) {
	if attr == "determinerCode" {
		want = determinerValues
	}
	if got := n.Attr(attr); n.HasAttr(attr) && !oneOf(got, want) {
		p.r.Fail(n.Path+"/@"+attr, "%q, want %q", got, want)
	}
}

// attrs fails on any attribute of n other than the allowed ones (namespace
// declarations aside): ParseAck reads only what BuildAck writes back.
func (p shapeReader) attrs(n v3.Node, allowed ...string) {
	if !n.Exists() {
		return
	}
	for _, a := range n.El.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		ok := false
		for _, want := range allowed {
			if a.Space == "" && a.Key == want {
				ok = true
				break
			}
		}
		if !ok {
			p.r.Fail(n.Path+"/@"+a.FullKey(), "unexpected attribute")
			return
		}
	}
}

// shape checks n's child elements against the expected tags in order: each
// at most once unless many marks it repeatable, all in the v3 namespace, no
// others, and no text besides white space.
func (p shapeReader) shape(n v3.Node, many map[string]bool, order ...string) {
	if !n.Exists() {
		return
	}
	for _, t := range n.El.Child {
		if cd, ok := t.(*etree.CharData); ok && !ackBlank(cd.Data) {
			p.r.Fail(n.Path, "unexpected text %q", cd.Data)
			return
		}
	}
	prev := -1
	for _, c := range n.El.ChildElements() {
		path := n.Path + "/" + c.Tag
		if c.NamespaceURI() != v3.Namespace {
			p.r.Fail(path, "element not in the HL7 v3 namespace (%q)", c.NamespaceURI())
			return
		}
		if prev >= 0 && order[prev] == c.Tag {
			if !many[c.Tag] {
				p.r.Fail(path, "element repeated")
				return
			}
			continue
		}
		next := -1
		for j := prev + 1; j < len(order); j++ {
			if order[j] == c.Tag {
				next = j
				break
			}
		}
		if next < 0 {
			p.r.Fail(path, "unexpected element (unknown here, or out of order)")
			return
		}
		prev = next
	}
}

func ackBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return true
}

// participation reads a participation (recordTarget, author, performer,
// responsibleParty) with its fixed attributes given as name, value pairs and
// its one role element, and returns the role node.
func (p shapeReader) participation(n v3.Node, role string, attrs ...string) v3.Node {
	return p.participationTime(n, role, false, attrs...)
}

// participationTime is participation for one that may carry a time first.
func (p shapeReader) participationTime(n v3.Node, role string, time bool, attrs ...string) v3.Node {
	if time {
		p.shape(n, nil, "time", role)
	} else {
		p.shape(n, nil, role)
	}
	names := make([]string, 0, len(attrs)/2)
	for i := 0; i+1 < len(attrs); i += 2 {
		names = append(names, attrs[i])
	}
	p.attrs(n, names...)
	for i := 0; i+1 < len(attrs); i += 2 {
		p.fixed(n, attrs[i], attrs[i+1])
	}
	return n.Child(role)
}

// relationship reads an act relationship with fixed attributes (name, value
// pairs), its seperatableInd (the MIM fixes sep; either boolean is read) and
// its one act, and
// returns the act with its classCode and moodCode checked.
func (p shapeReader) relationship(n v3.Node, sep, act, classCode, moodCode string, attrs ...string) v3.Node {
	p.shape(n, nil, "seperatableInd", act)
	names := make([]string, 0, len(attrs)/2)
	for i := 0; i+1 < len(attrs); i += 2 {
		names = append(names, attrs[i])
	}
	p.attrs(n, names...)
	for i := 0; i+1 < len(attrs); i += 2 {
		p.fixed(n, attrs[i], attrs[i+1])
	}
	si := n.Child("seperatableInd")
	p.shape(si, nil)
	p.attrs(si, "value")
	p.fixed(si, "value", separatableValues)
	a := n.Child(act)
	p.attrs(a, "classCode", "moodCode")
	p.fixed(a, "classCode", classCode)
	p.fixed(a, "moodCode", moodCode)
	return a
}

// fixedCode reads <code code codeSystem/> that must be exactly code.
func (p shapeReader) fixedCode(n v3.Node, code, system string) {
	p.shape(n, nil)
	p.attrs(n, "code", "codeSystem")
	p.fixed(n, "code", code)
	p.fixed(n, "codeSystem", system)
}

// uuid reads an <id root/> whose root is a UUID and returns it.
func (p shapeReader) uuid(n v3.Node) string {
	id := p.ii(n, "", false)
	if id != "" && !isUUID(id) {
		p.r.Fail(n.Path+"/@root", "%q is not a UUID", id)
	}
	return id
}
