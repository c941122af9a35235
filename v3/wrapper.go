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
	return BuildWrapperIn(nil, w)
}

// BuildWrapperIn is BuildWrapper making the document in sp (see
// Space.NewDocument; nil: fresh memory).
func BuildWrapperIn(sp *Space, w Wrapper) (*etree.Document, *etree.Element) {
	w.Defaults()
	doc, root := sp.NewDocument(w.Interaction)
	AddII(root, "id", w.ID, "")
	AddValue(root, "creationTime", w.CreationTime)
	Add(root, "versionCode", "code", w.VersionCode)
	Add(root, "interactionId", "root", OIDInteraction, "extension", w.Interaction)
	Add(root, "processingCode", "code", w.ProcessingCode)
	Add(root, "processingModeCode", "code", w.ProcessingModeCode)
	Add(root, "acceptAckCode", "code", w.AcceptAckCode)
	addDevice(Add(root, "communicationFunctionRcv"), w.ReceiverASID)
	addDevice(Add(root, "communicationFunctionSnd"), w.SenderASID)
	cae := AddFixed(root, fixedControlActEvent)
	if w.Author != nil {
		aps := AddFixed(AddFixed(cae, fixedAuthor), fixedAgentPersonSDS)
		AddFixedII(aps, fixedRoleProfileID, w.Author.RoleProfileID)
		AddFixedII(AddFixed(aps, fixedAgentPersonSDSPerson), fixedUserID, w.Author.UserID)
		AddFixedII(AddFixed(AddFixed(aps, fixedPart), fixedPartSDSRole), fixedJobRoleID, w.Author.JobRoleCode)
	}
	if w.SystemASID != "" {
		sys := AddFixed(AddFixed(cae, fixedAuthor1), fixedAgentSystemSDS)
		AddFixedII(AddFixed(sys, fixedAgentSystemSDSSystem), fixedASID, w.SystemASID)
	}
	return doc, Add(cae, "subject")
}

// The wrapper's elements whose names and attributes are fixed (see Fixed).
var (
	fixedControlActEvent      = NewFixed("ControlActEvent", "classCode", "CACT", "moodCode", "EVN")
	fixedAuthor               = NewFixed("author", "typeCode", "AUT")
	fixedAgentPersonSDS       = NewFixed("AgentPersonSDS", "classCode", "AGNT")
	fixedAgentPersonSDSPerson = NewFixed("agentPersonSDS", "classCode", "PSN", "determinerCode", "INSTANCE")
	fixedPart                 = NewFixed("part", "typeCode", "PART")
	fixedPartSDSRole          = NewFixed("partSDSRole", "classCode", "ROL")
	fixedAuthor1              = NewFixed("author1", "typeCode", "AUT")
	fixedAgentSystemSDS       = NewFixed("AgentSystemSDS", "classCode", "AGNT")
	fixedAgentSystemSDSSystem = NewFixed("agentSystemSDS", "classCode", "DEV", "determinerCode", "INSTANCE")
	fixedDevice               = NewFixed("device", "classCode", "DEV", "determinerCode", "INSTANCE")
	fixedRoleProfileID        = NewFixed("id", "root", OIDSDSRoleProfile)
	fixedUserID               = NewFixed("id", "root", OIDSDSUser)
	fixedJobRoleID            = NewFixed("id", "root", OIDSDSJobRole)
	fixedASID                 = NewFixed("id", "root", OIDASID)
)

// addDevice writes the device of a communicationFunctionRcv or Snd.
func addDevice(parent *etree.Element, asid string) {
	AddFixedII(AddFixed(parent, fixedDevice), fixedASID, asid)
}

// ReadWrapper reads the transmission wrapper and ControlActEvent from the
// root node of a message and returns them with the ControlActEvent/subject
// node. Problems are recorded on the root's Reader.
//
// It holds the sender to what the MIM 4.2.00 schemas (MCCI_MT010101UK12,
// MCCI_MT020101UK12, MCAI_MT040101UK03 and the UKCT CMETs they hold) and
// Spine's transmission and control act checks (its nonBatch-Validate
// schematron) allow, so that no value is taken from the first of several
// while the others are dropped unsaid:
//   - id, creationTime, versionCode, interactionId, processingCode,
//     processingModeCode, acceptAckCode, acknowledgement,
//     communicationFunctionSnd, ControlActEvent, and ControlActEvent's
//     author and subject, once each;
//   - communicationFunctionRcv 1..*, each with one device whose ids repeat
//     (1..*): the receiver's ASID is the one id with the ASID root among all
//     of them, and there must be exactly one (Spine: INVALID_COMM_FUNC_RCV);
//     likewise the sender's, in communicationFunctionSnd's device
//     (INVALID_COMM_FUNC_SND);
//   - author1 1..2 (CONTROL_ACT_AUTHOR_INVALID_CARDINALITY): the first
//     names the authoring system by its ASID (SystemASID), as Spine reads
//     it; a second, which Spine reports apart and routes nothing by, must
//     carry one id with a root and an extension and is not kept;
//   - the author's AgentPersonSDS: one role profile, user and job role id
//     each, under the SDS roots (CONTROL_ACT_AUTHOR_INVALID);
//   - the interactionId under the interaction root, naming the root
//     element (INCONSISTENT_HL7_INTERACTION_ID).
func ReadWrapper(root Node) (Wrapper, Node) {
	root.Once("id", "creationTime", "versionCode", "interactionId", "processingCode", "processingModeCode",
		"acceptAckCode", "acknowledgement", "communicationFunctionSnd", "ControlActEvent")
	iid := root.Child("interactionId")
	w := Wrapper{
		ID:                 root.Child("id").NonEmptyAttr("root"),
		CreationTime:       root.Child("creationTime").NonEmptyAttr("value"),
		VersionCode:        root.Child("versionCode").NonEmptyAttr("code"),
		Interaction:        iid.Attr("extension"),
		ProcessingCode:     root.Child("processingCode").Attr("code"),
		ProcessingModeCode: root.Child("processingModeCode").Attr("code"),
		AcceptAckCode:      root.Child("acceptAckCode").Attr("code"),
	}
	if r := iid.Attr("root"); iid.HasAttr("root") && r != OIDInteraction {
		iid.r.FailRule(iid.Path()+"/@root", RuleIdentifier, "identifier root %q, want %q", r, OIDInteraction)
	}
	if w.Interaction != "" && w.Interaction != root.El.Tag {
		iid.Fail("interactionId %q does not match the root element %q", w.Interaction, root.El.Tag)
	}
	root.Child("communicationFunctionRcv") // 1..*: a missing one is recorded
	w.ReceiverASID = deviceASID(root.All("communicationFunctionRcv"), "receiver")
	w.SenderASID = deviceASID([]Node{root.Child("communicationFunctionSnd")}, "sender")
	cae := root.Child("ControlActEvent")
	cae.Once("author", "subject")
	cae.AtMost(2, "author1")
	if a := cae.Opt("author"); a.Exists() {
		a.Once("AgentPersonSDS")
		aps := a.Child("AgentPersonSDS")
		aps.Once("id", "agentPersonSDS", "part")
		person := aps.Child("agentPersonSDS")
		person.Once("id")
		part := aps.Child("part")
		part.Once("partSDSRole")
		role := part.Child("partSDSRole")
		role.Once("id")
		w.Author = &Agent{
			RoleProfileID: idWithRoot(aps, OIDSDSRoleProfile, "SDS role profile"),
			UserID:        idWithRoot(person, OIDSDSUser, "SDS user"),
			JobRoleCode:   idWithRoot(role, OIDSDSJobRole, "SDS job role"),
		}
	}
	for i, a := range cae.All("author1") {
		if i == 0 {
			w.SystemASID = idWithRoot(agentSystem(a), OIDASID, "ASID")
			continue
		}
		id := agentSystem(a).Child("id")
		id.NonEmptyAttr("root")
		id.NonEmptyAttr("extension")
	}
	cae.Child("author1") // 1..2: a missing one is recorded
	return w, cae.Child("subject")
}

// agentSystem returns author1's AgentSystemSDS/agentSystemSDS, checking
// that each step and its id come once.
func agentSystem(author1 Node) Node {
	author1.Once("AgentSystemSDS")
	as := author1.Child("AgentSystemSDS")
	as.Once("agentSystemSDS")
	sys := as.Child("agentSystemSDS")
	sys.Once("id")
	return sys
}

// deviceASID returns the ASID of the communicationFunctionRcv or Snd
// elements fns (each with one device): the extension of the one device id
// under the ASID root among all their ids, which the model lets repeat.
// A missing device, no such id, more than one, or an empty extension is
// recorded (what names the party in the message).
func deviceASID(fns []Node, what string) string {
	var found Node
	for _, fn := range fns {
		fn.Once("device")
		dev := fn.Child("device")
		dev.Once("agencyFor")
		for _, id := range dev.All("id") {
			if id.OptAttr("root") != OIDASID {
				continue
			}
			if found.Exists() {
				id.r.FailRule(id.Path(), RuleCardinality, "a second %s ASID (root %s): the transmission wrapper must name one", what, OIDASID)
				return ""
			}
			found = id
		}
	}
	if !found.Exists() {
		if len(fns) > 0 && fns[0].Opt("device").Exists() {
			d := fns[0].Opt("device")
			d.r.FailRule(d.Path()+"/id", RuleIdentifier, "no %s ASID (an id with root %s)", what, OIDASID)
		}
		return ""
	}
	return found.NonEmptyAttr("extension")
}

// idWithRoot returns the extension of n's id, which must have the given
// root (what names it in the problem recorded otherwise).
func idWithRoot(n Node, root, what string) string {
	id := n.Child("id")
	if !id.Exists() {
		return ""
	}
	if r := id.Attr("root"); id.HasAttr("root") && r != root {
		id.r.FailRule(id.Path()+"/@root", RuleIdentifier, "identifier root %q for the %s id, want %q", r, what, root)
	}
	return id.NonEmptyAttr("extension")
}
