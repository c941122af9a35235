package mapping

import (
	"fmt"

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
	relaxNode(root)
	canon, _, err := v3.Canonical(root.El.Tag)
	if err != nil || canon != v3.ApplicationAcknowledgement {
		return Ack{}, &v3.Error{Interaction: root.El.Tag, Path: root.Path, Msg: fmt.Sprintf("root element %s is not an application acknowledgement (%s)", root.El.Tag, v3.ApplicationAcknowledgement)}
	}
	p := ackReader{shapeReader{r: r}}
	a := p.read(root)
	if err := r.Err(); err != nil {
		return Ack{}, err
	}
	return a, nil
}

// ackReader reads an acknowledgement with the shape reader's checks.
type ackReader struct{ shapeReader }

func (p ackReader) read(root v3.Node) Ack {
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
