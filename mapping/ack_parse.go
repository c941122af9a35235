package mapping

import (
	"fmt"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/v3"
)

// ParseAck reads an MCCI_IN010000UK13 application acknowledgement (UK or SM
// interaction id). It accepts exactly the elements and attributes BuildAck
// writes, in Spine's order, so that whatever it reads BuildAck writes back
// unchanged; anything else is an error naming the element path.
func ParseAck(data []byte) (Ack, error) {
	r, root, err := v3.Parse(data)
	if err != nil {
		return Ack{}, fmt.Errorf("application acknowledgement: %w", err)
	}
	relaxNode(root)
	canon, _, err := v3.Canonical(root.El.Tag)
	if err != nil || canon != v3.ApplicationAcknowledgement {
		return Ack{}, &v3.Error{Interaction: root.El.Tag, Path: root.Path, Msg: fmt.Sprintf("root element %s is not an application acknowledgement (%s)", root.El.Tag, v3.ApplicationAcknowledgement)}
	}
	p := ackParser{r: r}
	a := p.read(root)
	if err := r.Err(); err != nil {
		return Ack{}, err
	}
	return a, nil
}

// ackParser reads an acknowledgement through a v3.Reader, checking the
// structure as it goes; the first problem is kept on the Reader.
type ackParser struct{ r *v3.Reader }

func (p ackParser) read(root v3.Node) Ack {
	p.attrs(root)
	p.shape(root, nil, "id", "creationTime", "versionCode", "interactionId", "processingCode",
		"processingModeCode", "acceptAckCode", "acknowledgement", "communicationFunctionRcv",
		"communicationFunctionSnd", "ControlActEvent")
	a := Ack{
		ID:                 p.ii(root.Child("id"), "", false),
		CreationTime:       p.attrOnly(root.Child("creationTime"), "value"),
		VersionCode:        p.attrOnly(root.Child("versionCode"), "code"),
		ProcessingCode:     p.attrOnly(root.Child("processingCode"), "code"),
		ProcessingModeCode: p.attrOnly(root.Child("processingModeCode"), "code"),
		AcceptAckCode:      p.attrOnly(root.Child("acceptAckCode"), "code"),
	}
	iid := root.Child("interactionId")
	p.attrs(iid, "root", "extension")
	p.fixed(iid, "root", v3.OIDInteraction)
	a.Interaction = iid.Attr("extension")
	if a.Interaction != "" && a.Interaction != root.El.Tag {
		p.r.Fail(iid.Path+"/@extension", "interactionId %q does not match the root element %q", a.Interaction, root.El.Tag)
	}

	ack := root.Child("acknowledgement")
	p.shape(ack, map[string]bool{"acknowledgementDetail": true}, "acknowledgementDetail", "messageRef")
	p.attrs(ack, "typeCode")
	a.TypeCode = ack.Attr("typeCode")
	if ack.HasAttr("typeCode") && !ackTypeCodeOK(a.TypeCode) {
		p.r.Fail(ack.Path+"/@typeCode", "%q is not AA, AE or AR", a.TypeCode)
	}
	for _, d := range ack.All("acknowledgementDetail") {
		p.shape(d, nil, "code")
		p.attrs(d, "typeCode")
		c := p.code(d.Child("code"))
		c.Severity = p.severity(d, "typeCode")
		a.Details = append(a.Details, c)
	}
	ref := ack.Child("messageRef")
	p.shape(ref, nil, "id")
	p.attrs(ref)
	a.MessageRef = p.ii(ref.Child("id"), "", false)

	a.ReceiverASID = p.device(root.Child("communicationFunctionRcv"), "RCV")
	a.SenderASID = p.device(root.Child("communicationFunctionSnd"), "SND")

	cae := root.Child("ControlActEvent")
	p.shape(cae, map[string]bool{"reason": true}, "author1", "reason")
	p.attrs(cae, "classCode", "moodCode")
	p.fixed(cae, "classCode", "CACT")
	p.fixed(cae, "moodCode", "EVN")
	a1 := cae.Child("author1")
	p.shape(a1, nil, "AgentSystemSDS")
	p.attrs(a1, "typeCode")
	p.fixed(a1, "typeCode", "AUT")
	sys := a1.Child("AgentSystemSDS")
	p.shape(sys, nil, "agentSystemSDS")
	p.attrs(sys, "classCode")
	p.fixed(sys, "classCode", "AGNT")
	a.SystemASID = p.deviceID(sys.Child("agentSystemSDS"))
	for _, rs := range cae.All("reason") {
		p.shape(rs, nil, "justifyingDetectedIssueEvent")
		p.attrs(rs, "typeCode")
		p.fixed(rs, "typeCode", "RSON")
		ev := rs.Child("justifyingDetectedIssueEvent")
		p.shape(ev, nil, "code")
		p.attrs(ev, "classCode", "moodCode")
		p.fixed(ev, "classCode", "ALRT")
		p.fixed(ev, "moodCode", "EVN")
		cn := ev.Child("code")
		c := p.code(cn)
		q := cn.Child("qualifier")
		p.shape(q, nil)
		p.attrs(q, "code")
		c.Severity = p.severity(q, "code")
		a.Reasons = append(a.Reasons, c)
	}
	return a
}

// code reads <code codeSystem code [displayName]/>, which may hold only a
// qualifier.
func (p ackParser) code(n v3.Node) SpineCode {
	p.shape(n, nil, "qualifier")
	p.attrs(n, "codeSystem", "code", "displayName")
	c := SpineCode{System: p.nonEmpty(n, "codeSystem"), Code: p.nonEmpty(n, "code"), Display: n.OptAttr("displayName")}
	if n.HasAttr("displayName") && c.Display == "" {
		p.r.Fail(n.Path+"/@displayName", "empty value")
	}
	return c
}

// severity reads a mandatory ER/WG/IF attribute.
func (p ackParser) severity(n v3.Node, attr string) string {
	s := n.Attr(attr)
	if n.HasAttr(attr) && !ackSeverityOK(s) {
		p.r.Fail(n.Path+"/@"+attr, "%q is not ER, WG or IF", s)
	}
	return s
}

// device reads communicationFunctionRcv/Snd and returns the ASID.
func (p ackParser) device(n v3.Node, typeCode string) string {
	p.shape(n, nil, "device")
	p.attrs(n, "typeCode")
	p.fixed(n, "typeCode", typeCode)
	return p.deviceID(n.Child("device"))
}

// deviceID reads a device (classCode DEV, determinerCode INSTANCE) with its
// ASID id and returns the ASID.
func (p ackParser) deviceID(n v3.Node) string {
	p.shape(n, nil, "id")
	p.attrs(n, "classCode", "determinerCode")
	p.fixed(n, "classCode", "DEV")
	p.fixed(n, "determinerCode", "INSTANCE")
	return p.ii(n.Child("id"), v3.OIDASID, true)
}

// ii reads an <id root [extension]/>: with wantRoot set, root must be it and
// the extension is returned; otherwise the id has a root only, returned.
func (p ackParser) ii(n v3.Node, wantRoot string, ext bool) string {
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
func (p ackParser) attrOnly(n v3.Node, attr string) string {
	p.shape(n, nil)
	p.attrs(n, attr)
	return p.nonEmpty(n, attr)
}

func (p ackParser) nonEmpty(n v3.Node, attr string) string {
	v := n.Attr(attr)
	if n.HasAttr(attr) && v == "" {
		p.r.Fail(n.Path+"/@"+attr, "empty value")
	}
	return v
}

// fixed checks that a mandatory attribute has the one value Spine writes;
// a determinerCode may be either value Spine reads
// (docs/mappings/accepting.md).
func (p ackParser) fixed(n v3.Node, attr, want string) {
	if attr == "determinerCode" {
		want = determinerValues
	}
	if got := n.Attr(attr); n.HasAttr(attr) && !oneOf(got, want) {
		p.r.Fail(n.Path+"/@"+attr, "%q, want %q", got, want)
	}
}

// attrs fails on any attribute of n other than the allowed ones (namespace
// declarations aside): ParseAck reads only what BuildAck writes back.
func (p ackParser) attrs(n v3.Node, allowed ...string) {
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
func (p ackParser) shape(n v3.Node, many map[string]bool, order ...string) {
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
