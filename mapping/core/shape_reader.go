package core

import (
	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// ShapeReader is the strict reader of v3 message shapes that porxgate reads
// field by field (acknowledgements, cancellation requests and responses): it
// checks each element's children, attributes and fixed values as it goes,
// through a v3.Reader that keeps the first problem with its element path.
type ShapeReader struct{ Reader *v3.Reader }

// Code reads <code codeSystem code [displayName]/>, which may hold only a
// qualifier.
func (p ShapeReader) Code(n v3.Node) SpineCode {
	p.Shape(n, nil, "qualifier")
	p.Attrs(n, "codeSystem", "code", "displayName")
	c := SpineCode{System: p.NonEmpty(n, "codeSystem"), Code: p.NonEmpty(n, "code"), Display: n.OptAttr("displayName")}
	p.DisplayName(n)
	return c
}

// Severity reads a mandatory ER/WG/IF attribute.
func (p ShapeReader) Severity(n v3.Node, attr string) string {
	s := n.Attr(attr)
	if n.HasAttr(attr) && !ackSeverityOK(s) {
		p.Reader.Fail(n.Path()+"/@"+attr, "%q is not ER, WG or IF", s)
	}
	return s
}

// Device reads communicationFunctionRcv/Snd and returns the ASID.
func (p ShapeReader) Device(n v3.Node, typeCode string) string {
	p.Shape(n, nil, "device")
	p.Attrs(n, "typeCode")
	p.Fixed(n, "typeCode", typeCode)
	return p.DeviceID(n.Child("device"))
}

// DeviceID reads a device (classCode DEV, determinerCode INSTANCE) with its
// ASID id and returns the ASID.
func (p ShapeReader) DeviceID(n v3.Node) string {
	p.Shape(n, nil, "id")
	p.Attrs(n, "classCode", "determinerCode")
	p.Fixed(n, "classCode", "DEV")
	p.Fixed(n, "determinerCode", "INSTANCE")
	return p.II(n.Child("id"), v3.OIDASID, true)
}

// II reads an <id root [extension]/>: with wantRoot set, root must be it and
// the extension is returned; otherwise the id has a root only, returned.
func (p ShapeReader) II(n v3.Node, wantRoot string, ext bool) string {
	p.Shape(n, nil)
	if !ext {
		p.Attrs(n, "root")
		return p.NonEmpty(n, "root")
	}
	p.Attrs(n, "root", "extension")
	p.Fixed(n, "root", wantRoot)
	return p.NonEmpty(n, "extension")
}

// AttrOnly reads an element that has just one attribute and no children.
func (p ShapeReader) AttrOnly(n v3.Node, attr string) string {
	p.Shape(n, nil)
	p.Attrs(n, attr)
	return p.NonEmpty(n, attr)
}

// NonEmpty reads a mandatory attribute that may not be empty.
func (p ShapeReader) NonEmpty(n v3.Node, attr string) string { return n.NonEmptyAttr(attr) }

// Fixed checks that a mandatory attribute has the one value Spine writes;
// a determinerCode or contextConductionInd may be either value Spine reads
// (docs/mappings/accepting.md).
func (p ShapeReader) Fixed(n v3.Node, attr, want string) {
	switch attr {
	case "determinerCode":
		want = determinerValues
	case "contextConductionInd":
		want = contextConductionValues
	}
	if got := n.Attr(attr); n.HasAttr(attr) && !oneOf(got, want) {
		p.Reader.Fail(n.Path()+"/@"+attr, "%q, want %q", got, want)
	}
}

// Attrs fails on any attribute of n other than the allowed ones (namespace
// declarations aside): ParseAck reads only what BuildAck writes back. The
// optional attributes of the element's datatype that no reader reads
// (DatatypeAttr) are taken too.
func (p ShapeReader) Attrs(n v3.Node, allowed ...string) {
	if !n.Exists() {
		return
	}
	read := func(key string) (string, bool) {
		for _, want := range allowed {
			if want == key {
				return "*", true
			}
		}
		return "", false
	}
	for _, a := range n.El.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		if extra, ok, values := DatatypeAttr(a, read); extra {
			if !ok {
				p.Reader.FailRule(n.Path()+"/@"+a.FullKey(), v3.RuleDatatype, "%q is not allowed by the element's datatype (want %s)", a.Value, values)
				return
			}
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
			p.Reader.Fail(n.Path()+"/@"+a.FullKey(), "unexpected attribute")
			return
		}
	}
}

// Shape checks n's child elements against the expected tags in order: each
// at most once unless many marks it repeatable, all in the v3 namespace, no
// others, and no text besides white space.
func (p ShapeReader) Shape(n v3.Node, many map[string]bool, order ...string) {
	if !n.Exists() {
		return
	}
	for _, t := range n.El.Child {
		if cd, ok := t.(*etree.CharData); ok && !ackBlank(cd.Data) {
			p.Reader.Fail(n.Path(), "unexpected text %q", cd.Data)
			return
		}
	}
	prev := -1
	for _, c := range n.El.ChildElements() {
		if c.NamespaceURI() != v3.Namespace {
			p.Reader.Fail(n.Path()+"/"+c.Tag, "element not in the HL7 v3 namespace (%q)", c.NamespaceURI())
			return
		}
		if prev >= 0 && order[prev] == c.Tag {
			if !many[c.Tag] {
				p.Reader.Fail(n.Path()+"/"+c.Tag, "element repeated")
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
			p.Reader.Fail(n.Path()+"/"+c.Tag, "unexpected element (unknown here, or out of order)")
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

// Participation reads a participation (recordTarget, author, performer,
// responsibleParty) with its fixed attributes given as name, value pairs and
// its one role element, and returns the role node.
func (p ShapeReader) Participation(n v3.Node, role string, attrs ...string) v3.Node {
	return p.ParticipationTime(n, role, false, attrs...)
}

// ParticipationTime is participation for one that may carry a time first.
func (p ShapeReader) ParticipationTime(n v3.Node, role string, time bool, attrs ...string) v3.Node {
	if time {
		p.Shape(n, nil, "time", role)
	} else {
		p.Shape(n, nil, role)
	}
	names := make([]string, 0, len(attrs)/2)
	for i := 0; i+1 < len(attrs); i += 2 {
		names = append(names, attrs[i])
	}
	p.Attrs(n, names...)
	for i := 0; i+1 < len(attrs); i += 2 {
		p.Fixed(n, attrs[i], attrs[i+1])
	}
	return n.Child(role)
}

// Relationship reads an act relationship with fixed attributes (name, value
// pairs), its seperatableInd (the MIM fixes sep; either boolean is read) and
// its one act, and
// returns the act with its classCode and moodCode checked.
func (p ShapeReader) Relationship(n v3.Node, sep, act, classCode, moodCode string, attrs ...string) v3.Node {
	p.Shape(n, nil, "seperatableInd", act)
	names := make([]string, 0, len(attrs)/2)
	for i := 0; i+1 < len(attrs); i += 2 {
		names = append(names, attrs[i])
	}
	p.Attrs(n, names...)
	for i := 0; i+1 < len(attrs); i += 2 {
		p.Fixed(n, attrs[i], attrs[i+1])
	}
	si := n.Child("seperatableInd")
	p.Shape(si, nil)
	p.Attrs(si, "value")
	p.Fixed(si, "value", separatableValues)
	a := n.Child(act)
	p.Attrs(a, "classCode", "moodCode")
	p.Fixed(a, "classCode", classCode)
	p.Fixed(a, "moodCode", moodCode)
	return a
}

// FixedCode reads <code code codeSystem [displayName]/> that must be
// exactly code. The displayName, which a CV may carry and Spine takes, is
// the code's own name: it is checked (not empty) and not kept, as FixedCV
// does for the dispensing messages.
func (p ShapeReader) FixedCode(n v3.Node, code, system string) {
	p.Shape(n, nil)
	p.Attrs(n, "code", "codeSystem", "displayName")
	p.Fixed(n, "code", code)
	p.Fixed(n, "codeSystem", system)
	p.DisplayName(n)
}

// DisplayName checks a coded value's optional displayName: present, it is
// an st, which is never empty.
func (p ShapeReader) DisplayName(n v3.Node) {
	if n.HasAttr("displayName") && n.OptAttr("displayName") == "" {
		p.Reader.Fail(n.Path()+"/@displayName", "empty value")
	}
}

// UUID reads an <id root/> whose root is a UUID and returns it.
func (p ShapeReader) UUID(n v3.Node) string {
	id := p.II(n, "", false)
	if id != "" && !IsUUID(id) {
		p.Reader.Fail(n.Path()+"/@root", "%q is not a UUID", id)
	}
	return id
}
