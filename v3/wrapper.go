package v3

import (
	"github.com/beevik/etree"
)

// Agent is the person on whose behalf a system sends a message: the
// ControlActEvent author (AgentPersonSDS) of the transmission wrapper.
type Agent struct {
	// RoleProfileID is the SDS role profile id (AgentPersonSDS/id).
	RoleProfileID string
	// UserID is the SDS user id (agentPersonSDS/id).
	UserID string
	// JobRoleCode is the SDS job role (partSDSRole/id extension).
	JobRoleCode string
}

// Wrapper holds the transmission wrapper and ControlActEvent of a PORX
// message: everything around the payload proper.
type Wrapper struct {
	// ID is the message id (a UUID, upper case on the wire).
	ID string
	// CreationTime is the TS the message was made (YYYYMMDDHHmmss).
	CreationTime string
	// VersionCode is V3NPfIT4.2.00, or V3NPfIT3.0 from older senders.
	VersionCode string
	// Interaction is the interaction id, in the family the sender used.
	Interaction string
	// ProcessingCode, ProcessingModeCode and AcceptAckCode are P, T and NE.
	ProcessingCode, ProcessingModeCode, AcceptAckCode string
	// ReceiverASID and SenderASID are the communicationFunctionRcv/Snd devices.
	ReceiverASID, SenderASID string
	// Author is the ControlActEvent author; nil when the message has none.
	Author *Agent
	// SystemASID is the ControlActEvent author1 system; empty when absent.
	SystemASID string
}

// Defaults fills the fixed transmission values Spine expects where they are empty.
func (w *Wrapper) Defaults() {
	if w.VersionCode == "" {
		w.VersionCode = OIDVersionCodeV42
	}
	if w.ProcessingCode == "" {
		w.ProcessingCode = "P"
	}
	if w.ProcessingModeCode == "" {
		w.ProcessingModeCode = "T"
	}
	if w.AcceptAckCode == "" {
		w.AcceptAckCode = "NE"
	}
}

// BuildWrapper writes the transmission wrapper and ControlActEvent and returns
// the document and the ControlActEvent/subject element, where the payload goes.
func BuildWrapper(w Wrapper) (*etree.Document, *etree.Element) {
	w.Defaults()
	doc, root := NewDocument(w.Interaction)
	AddII(root, "id", w.ID, "")
	AddValue(root, "creationTime", w.CreationTime)
	Add(root, "versionCode", "code", w.VersionCode)
	Add(root, "interactionId", "root", OIDInteraction, "extension", w.Interaction)
	Add(root, "processingCode", "code", w.ProcessingCode)
	Add(root, "processingModeCode", "code", w.ProcessingModeCode)
	Add(root, "acceptAckCode", "code", w.AcceptAckCode)
	addDevice(Add(root, "communicationFunctionRcv"), w.ReceiverASID)
	addDevice(Add(root, "communicationFunctionSnd"), w.SenderASID)
	cae := Add(root, "ControlActEvent", "classCode", "CACT", "moodCode", "EVN")
	if w.Author != nil {
		aps := Add(Add(cae, "author", "typeCode", "AUT"), "AgentPersonSDS", "classCode", "AGNT")
		AddII(aps, "id", OIDSDSRoleProfile, w.Author.RoleProfileID)
		AddII(Add(aps, "agentPersonSDS", "classCode", "PSN", "determinerCode", "INSTANCE"), "id", OIDSDSUser, w.Author.UserID)
		AddII(Add(Add(aps, "part", "typeCode", "PART"), "partSDSRole", "classCode", "ROL"), "id", OIDSDSJobRole, w.Author.JobRoleCode)
	}
	if w.SystemASID != "" {
		sys := Add(Add(cae, "author1", "typeCode", "AUT"), "AgentSystemSDS", "classCode", "AGNT")
		AddII(Add(sys, "agentSystemSDS", "classCode", "DEV", "determinerCode", "INSTANCE"), "id", OIDASID, w.SystemASID)
	}
	return doc, Add(cae, "subject")
}

func addDevice(parent *etree.Element, asid string) {
	AddII(Add(parent, "device", "classCode", "DEV", "determinerCode", "INSTANCE"), "id", OIDASID, asid)
}

// ReadWrapper reads the transmission wrapper and ControlActEvent from the
// root node of a message and returns them with the ControlActEvent/subject
// node. Problems are recorded on the root's Reader.
func ReadWrapper(root Node) (Wrapper, Node) {
	w := Wrapper{
		ID:                 root.Child("id").Attr("root"),
		CreationTime:       root.Child("creationTime").Value(),
		VersionCode:        root.Child("versionCode").Attr("code"),
		Interaction:        root.Child("interactionId").Attr("extension"),
		ProcessingCode:     root.Child("processingCode").Attr("code"),
		ProcessingModeCode: root.Child("processingModeCode").Attr("code"),
		AcceptAckCode:      root.Child("acceptAckCode").Attr("code"),
		ReceiverASID:       root.Child("communicationFunctionRcv").Child("device").Child("id").Attr("extension"),
		SenderASID:         root.Child("communicationFunctionSnd").Child("device").Child("id").Attr("extension"),
	}
	if w.Interaction != "" && w.Interaction != root.El.Tag {
		root.Child("interactionId").Fail("interactionId %q does not match the root element %q", w.Interaction, root.El.Tag)
	}
	cae := root.Child("ControlActEvent")
	if a := cae.Opt("author"); a.Exists() {
		aps := a.Child("AgentPersonSDS")
		w.Author = &Agent{
			RoleProfileID: aps.Child("id").Attr("extension"),
			UserID:        aps.Child("agentPersonSDS").Child("id").Attr("extension"),
			JobRoleCode:   aps.Child("part").Child("partSDSRole").Child("id").Attr("extension"),
		}
	}
	if a := cae.Opt("author1"); a.Exists() {
		w.SystemASID = a.Child("AgentSystemSDS").Child("agentSystemSDS").Child("id").Attr("extension")
	}
	return w, cae.Child("subject")
}
