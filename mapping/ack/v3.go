package ack

import (
	"fmt"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// BuildAck writes an MCCI_IN010000UK13 application acknowledgement in the
// shape Spine sends (element order, typeCodes, author1 only), filling the
// fixed transmission values (versionCode, processing codes) left empty.
func BuildAck(a Ack) ([]byte, error) {
	return BuildAckWith(nil, a)
}

// BuildAckWith is BuildAck building the tree in a Space of scratch and
// writing it through the Space's buffers (nil: in fresh memory), as the
// gateway answers every message: the tree of slabs sized for larger
// documents and its writing took about 24 KB an acknowledgement, now the
// acknowledgement's own bytes.
func BuildAckWith(scratch *v3.Scratch, a Ack) ([]byte, error) {
	a.ackDefaults()
	if err := a.validate(); err != nil {
		return nil, err
	}
	sp := scratch.Get()
	defer scratch.Put(sp)
	doc, root := sp.NewDocument(a.Interaction)
	v3.AddII(root, "id", a.ID, "")
	v3.AddValue(root, "creationTime", a.CreationTime)
	v3.Add(root, "versionCode", "code", a.VersionCode)
	v3.Add(root, "interactionId", "root", v3.OIDInteraction, "extension", a.Interaction)
	v3.Add(root, "processingCode", "code", a.ProcessingCode)
	v3.Add(root, "processingModeCode", "code", a.ProcessingModeCode)
	v3.Add(root, "acceptAckCode", "code", a.AcceptAckCode)
	ack := v3.Add(root, "acknowledgement", "typeCode", a.TypeCode)
	for _, d := range a.Details {
		ackAddCode(v3.Add(ack, "acknowledgementDetail", "typeCode", d.Severity), d)
	}
	v3.AddII(v3.Add(ack, "messageRef"), "id", a.MessageRef, "")
	core.AckAddDevice(v3.Add(root, "communicationFunctionRcv", "typeCode", "RCV"), a.ReceiverASID)
	core.AckAddDevice(v3.Add(root, "communicationFunctionSnd", "typeCode", "SND"), a.SenderASID)
	cae := v3.Add(root, "ControlActEvent", "classCode", "CACT", "moodCode", "EVN")
	sys := v3.Add(v3.Add(cae, "author1", "typeCode", "AUT"), "AgentSystemSDS", "classCode", "AGNT")
	v3.AddII(v3.Add(sys, "agentSystemSDS", "classCode", "DEV", "determinerCode", "INSTANCE"), "id", v3.OIDASID, a.SystemASID)
	for _, r := range a.Reasons {
		ev := v3.Add(v3.Add(cae, "reason", "typeCode", "RSON"), "justifyingDetectedIssueEvent", "classCode", "ALRT", "moodCode", "EVN")
		v3.Add(ackAddCode(ev, r), "qualifier", "code", r.Severity)
	}
	return sp.Bytes(doc), nil
}

// validate checks that an acknowledgement has every value BuildAck must
// write; the error names the element that would be wrong.
func (a *Ack) validate() error {
	p := "/" + a.Interaction
	canon, _, err := v3.Canonical(a.Interaction)
	switch {
	case err != nil:
		return &v3.Error{Interaction: a.Interaction, Path: p + "/interactionId/@extension", Msg: err.Error()}
	case canon != v3.ApplicationAcknowledgement:
		return &v3.Error{Interaction: a.Interaction, Path: p + "/interactionId/@extension", Msg: fmt.Sprintf("%s is not an application acknowledgement (%s)", a.Interaction, v3.ApplicationAcknowledgement)}
	}
	missing := func(path string) error {
		return &v3.Error{Interaction: a.Interaction, Path: p + path, Msg: "missing mandatory value"}
	}
	switch {
	case a.ID == "":
		return missing("/id/@root")
	case a.CreationTime == "":
		return missing("/creationTime/@value")
	case a.MessageRef == "":
		return missing("/acknowledgement/messageRef/id/@root")
	case a.ReceiverASID == "":
		return missing("/communicationFunctionRcv/device/id/@extension")
	case a.SenderASID == "":
		return missing("/communicationFunctionSnd/device/id/@extension")
	case a.SystemASID == "":
		return missing("/ControlActEvent/author1/AgentSystemSDS/agentSystemSDS/id/@extension")
	}
	for _, f := range [...]struct{ path, v string }{
		{"/id/@root", a.ID}, {"/creationTime/@value", a.CreationTime}, {"/versionCode/@code", a.VersionCode},
		{"/processingCode/@code", a.ProcessingCode}, {"/processingModeCode/@code", a.ProcessingModeCode},
		{"/acceptAckCode/@code", a.AcceptAckCode}, {"/acknowledgement/messageRef/id/@root", a.MessageRef},
		{"/communicationFunctionRcv/device/id/@extension", a.ReceiverASID},
		{"/communicationFunctionSnd/device/id/@extension", a.SenderASID},
		{"/ControlActEvent/author1/AgentSystemSDS/agentSystemSDS/id/@extension", a.SystemASID},
	} {
		if err := core.AckXMLText(a.Interaction, p+f.path, f.v); err != nil {
			return err
		}
	}
	if !core.AckTypeCodeOK(a.TypeCode) {
		return &v3.Error{Interaction: a.Interaction, Path: p + "/acknowledgement/@typeCode", Msg: fmt.Sprintf("%q is not AA, AE or AR (or Spine's ER)", a.TypeCode)}
	}
	for i, d := range a.Details {
		if err := d.Validate(fmt.Sprintf("%s/acknowledgement/acknowledgementDetail[%d]", p, i+1), a.Interaction); err != nil {
			return err
		}
	}
	for i, r := range a.Reasons {
		if err := r.Validate(fmt.Sprintf("%s/ControlActEvent/reason[%d]/justifyingDetectedIssueEvent", p, i+1), a.Interaction); err != nil {
			return err
		}
	}
	return nil
}

// ackAddCode writes <code codeSystem code [displayName]/> in Spine's
// attribute order and returns it.
func ackAddCode(parent *etree.Element, c core.SpineCode) *etree.Element {
	if c.Display == "" {
		return v3.Add(parent, "code", "codeSystem", c.System, "code", c.Code)
	}
	return v3.Add(parent, "code", "codeSystem", c.System, "code", c.Code, "displayName", c.Display)
}
