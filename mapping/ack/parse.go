package ack

import (
	"fmt"

	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
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
	core.RelaxNode(root)
	canon, _, err := v3.Canonical(root.El.Tag)
	if err != nil || canon != v3.ApplicationAcknowledgement {
		return Ack{}, &v3.Error{Interaction: root.El.Tag, Path: root.Path(), Msg: fmt.Sprintf("root element %s is not an application acknowledgement (%s)", root.El.Tag, v3.ApplicationAcknowledgement)}
	}
	p := ackReader{core.ShapeReader{Reader: r}}
	a := p.read(root)
	if err := r.Err(); err != nil {
		return Ack{}, err
	}
	return a, nil
}

// ackReader reads an acknowledgement with the shape reader's checks.
type ackReader struct{ core.ShapeReader }

func (p ackReader) read(root v3.Node) Ack {
	p.Attrs(root)
	p.Shape(root, nil, "id", "creationTime", "versionCode", "interactionId", "processingCode",
		"processingModeCode", "acceptAckCode", "acknowledgement", "communicationFunctionRcv",
		"communicationFunctionSnd", "ControlActEvent")
	a := Ack{
		ID:                 p.II(root.Child("id"), "", false),
		CreationTime:       p.AttrOnly(root.Child("creationTime"), "value"),
		VersionCode:        p.AttrOnly(root.Child("versionCode"), "code"),
		ProcessingCode:     p.AttrOnly(root.Child("processingCode"), "code"),
		ProcessingModeCode: p.AttrOnly(root.Child("processingModeCode"), "code"),
		AcceptAckCode:      p.AttrOnly(root.Child("acceptAckCode"), "code"),
	}
	iid := root.Child("interactionId")
	p.Attrs(iid, "root", "extension")
	p.Fixed(iid, "root", v3.OIDInteraction)
	a.Interaction = iid.Attr("extension")
	if a.Interaction != "" && a.Interaction != root.El.Tag {
		p.Reader.Fail(iid.Path()+"/@extension", "interactionId %q does not match the root element %q", a.Interaction, root.El.Tag)
	}

	ack := root.Child("acknowledgement")
	p.Shape(ack, map[string]bool{"acknowledgementDetail": true}, "acknowledgementDetail", "messageRef")
	p.Attrs(ack, "typeCode")
	a.TypeCode = ack.Attr("typeCode")
	if ack.HasAttr("typeCode") && !core.AckTypeCodeOK(a.TypeCode) {
		p.Reader.Fail(ack.Path()+"/@typeCode", "%q is not AA, AE or AR (or Spine's ER)", a.TypeCode)
	}
	for _, d := range ack.All("acknowledgementDetail") {
		p.Shape(d, nil, "code")
		p.Attrs(d, "typeCode")
		c := p.Code(d.Child("code"))
		c.Severity = p.Severity(d, "typeCode")
		a.Details = append(a.Details, c)
	}
	ref := ack.Child("messageRef")
	p.Shape(ref, nil, "id")
	p.Attrs(ref)
	a.MessageRef = p.II(ref.Child("id"), "", false)

	a.ReceiverASID = p.Device(root.Child("communicationFunctionRcv"), "RCV")
	a.SenderASID = p.Device(root.Child("communicationFunctionSnd"), "SND")

	cae := root.Child("ControlActEvent")
	p.Shape(cae, map[string]bool{"reason": true}, "author1", "reason")
	p.Attrs(cae, "classCode", "moodCode")
	p.Fixed(cae, "classCode", "CACT")
	p.Fixed(cae, "moodCode", "EVN")
	a1 := cae.Child("author1")
	p.Shape(a1, nil, "AgentSystemSDS")
	p.Attrs(a1, "typeCode")
	p.Fixed(a1, "typeCode", "AUT")
	sys := a1.Child("AgentSystemSDS")
	p.Shape(sys, nil, "agentSystemSDS")
	p.Attrs(sys, "classCode")
	p.Fixed(sys, "classCode", "AGNT")
	a.SystemASID = p.DeviceID(sys.Child("agentSystemSDS"))
	for _, rs := range cae.All("reason") {
		p.Shape(rs, nil, "justifyingDetectedIssueEvent")
		p.Attrs(rs, "typeCode")
		p.Fixed(rs, "typeCode", "RSON")
		ev := rs.Child("justifyingDetectedIssueEvent")
		p.Shape(ev, nil, "code")
		p.Attrs(ev, "classCode", "moodCode")
		p.Fixed(ev, "classCode", "ALRT")
		p.Fixed(ev, "moodCode", "EVN")
		cn := ev.Child("code")
		c := p.Code(cn)
		q := cn.Child("qualifier")
		p.Shape(q, nil)
		p.Attrs(q, "code")
		c.Severity = p.Severity(q, "code")
		a.Reasons = append(a.Reasons, c)
	}
	return a
}
