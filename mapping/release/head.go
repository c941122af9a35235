package release

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// releaseHead holds what a release response or rejection says besides its
// prescriptions or reason: Spine's transmission wrapper (with the
// acknowledgement of the request) and the payload's own ids and time.
type releaseHead struct {
	// interaction is the root element and interactionId (in its family).
	interaction string
	// id and creationTime are the transmission id and time.
	id, creationTime string
	// ackTypeCode and messageRef are acknowledgement/@typeCode and the id of
	// the request acknowledged.
	ackTypeCode, messageRef string
	// receiverASID, senderASID and systemASID are the devices and the
	// ControlActEvent author1.
	receiverASID, senderASID, systemASID string
	// agent is a ControlActEvent author (Spine writes none).
	agent *v3.Agent
	// payloadID and effectiveTime are the PrescriptionReleaseResponse (or
	// PrescriptionReleaseReject) id and effectiveTime.
	payloadID, effectiveTime string
	// requestRef is the release request's payload id the answer refers to.
	requestRef string
	// batch are the pertinentBatchInfo counts of a nominated response.
	batch []releaseBatch
	// shell, when set, is the PrescriptionReleaseResponse exactly as it was,
	// its components replaced by one placeholder element.
	shell *etree.Element
}

// releaseBatch is one pertinentBatchInfo: code 1 the number of
// prescriptions in the response, code 2 the most Spine sends at once.
type releaseBatch struct{ code, value string }

// releaseComponentsPlaceholder stands for the components in a carried shell.
const releaseComponentsPlaceholder = "porxgateComponents"

// buildReleaseWrapper writes Spine's transmission wrapper of an answer
// (acknowledgement of the request, typeCodes on the devices, author1 only)
// and returns the document and the ControlActEvent subject.
func buildReleaseWrapper(h *releaseHead) (*etree.Document, *etree.Element) {
	doc, root := v3.NewDocument(h.interaction)
	v3.AddII(root, "id", core.UpperUUID(h.id), "")
	v3.AddValue(root, "creationTime", h.creationTime)
	v3.Add(root, "versionCode", "code", v3.OIDVersionCodeV42)
	v3.Add(root, "interactionId", "root", v3.OIDInteraction, "extension", h.interaction)
	v3.Add(root, "processingCode", "code", "P")
	v3.Add(root, "processingModeCode", "code", "T")
	v3.Add(root, "acceptAckCode", "code", "NE")
	ack := v3.Add(root, "acknowledgement", "typeCode", h.ackTypeCode)
	v3.AddII(v3.Add(ack, "messageRef"), "id", core.UpperUUID(h.messageRef), "")
	core.AckAddDevice(v3.Add(root, "communicationFunctionRcv", "typeCode", "RCV"), h.receiverASID)
	core.AckAddDevice(v3.Add(root, "communicationFunctionSnd", "typeCode", "SND"), h.senderASID)
	cae := v3.Add(root, "ControlActEvent", "classCode", "CACT", "moodCode", "EVN")
	if a := h.agent; a != nil {
		aps := v3.Add(v3.Add(cae, "author", "typeCode", "AUT"), "AgentPersonSDS", "classCode", "AGNT")
		v3.AddII(aps, "id", v3.OIDSDSRoleProfile, a.RoleProfileID)
		v3.AddII(v3.Add(aps, "agentPersonSDS", "classCode", "PSN", "determinerCode", "INSTANCE"), "id", v3.OIDSDSUser, a.UserID)
		v3.AddII(v3.Add(v3.Add(aps, "part", "typeCode", "PART"), "partSDSRole", "classCode", "ROL"), "id", v3.OIDSDSJobRole, a.JobRoleCode)
	}
	sys := v3.Add(v3.Add(cae, "author1", "typeCode", "AUT"), "AgentSystemSDS", "classCode", "AGNT")
	v3.AddII(v3.Add(sys, "agentSystemSDS", "classCode", "DEV", "determinerCode", "INSTANCE"), "id", v3.OIDASID, h.systemASID)
	return doc, v3.Add(cae, "subject", "typeCode", "SUBJ", "contextConductionInd", "false")
}

// readReleaseWrapper reads the wrapper of a release answer into a head and
// returns the ControlActEvent subject.
func readReleaseWrapper(root v3.Node) (*releaseHead, v3.Wrapper, v3.Node) {
	w, subject := v3.ReadWrapper(root)
	h := &releaseHead{
		interaction: root.El.Tag, id: w.ID, creationTime: w.CreationTime,
		receiverASID: w.ReceiverASID, senderASID: w.SenderASID, systemASID: w.SystemASID, agent: w.Author,
	}
	ack := root.Child("acknowledgement")
	h.ackTypeCode = ack.Attr("typeCode")
	h.messageRef = ack.Child("messageRef").Child("id").Attr("root")
	return h, w, subject
}

// fillFromMeta fills the wrapper values a v3 → FHIR translation left in
// Meta, with Spine's defaults (porxgate answers as Spine: the sender is
// Spine, the receiver the dispenser).
func (h *releaseHead) fillFromMeta(meta core.Meta) {
	h.receiverASID, h.senderASID, h.systemASID, h.agent = meta.ReceiverASID, meta.SenderASID, meta.SystemASID, meta.Agent
	if h.receiverASID == "" {
		h.receiverASID = core.DefaultSenderASID
	}
	if h.senderASID == "" {
		h.senderASID = core.DefaultReceiverASID
	}
	if h.systemASID == "" {
		h.systemASID = h.senderASID
	}
}

// headParameter makes the porxgate-releaseResponse parameter: the values of
// a v3 release response that the EPS answer has no place for.
func headParameter(h *releaseHead) fhir.Parameter {
	p := fhir.Parameter{Name: ParamReleaseResponse}
	id := func(name, v string) {
		if v != "" {
			p.Part = append(p.Part, fhir.Parameter{Name: name, ValueIdentifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: strings.ToLower(v)}})
		}
	}
	id("messageRef", h.messageRef)
	id("requestRef", h.requestRef)
	if h.ackTypeCode != core.AckAccepted {
		tc := h.ackTypeCode
		p.Part = append(p.Part, fhir.Parameter{Name: "acknowledgement", ValueCode: &tc})
	}
	for _, b := range h.batch {
		code, value := b.code, b.value
		p.Part = append(p.Part, fhir.Parameter{Name: "batchInfo", Part: []fhir.Parameter{
			{Name: "code", ValueCode: &code}, {Name: "value", ValueString: &value}}})
	}
	if h.shell != nil {
		var b strings.Builder
		h.shell.WriteTo(&b, &etree.WriteSettings{})
		s := b.String()
		p.Part = append(p.Part, fhir.Parameter{Name: "shell", ValueString: &s})
	}
	return p
}

// readHeadParameter reads a porxgate-releaseResponse parameter into h; it
// says exactly which batch counts there are (perhaps none).
func readHeadParameter(c *core.BundleContext, prm *fhir.Parameter, path string, h *releaseHead) {
	h.batch = []releaseBatch{}
	for i, part := range prm.Part {
		pp := core.Indexed(path+".part", i)
		switch part.Name {
		case "messageRef", "requestRef":
			if part.ValueIdentifier == nil || part.ValueIdentifier.Value == "" {
				c.Fail(pp+".valueIdentifier", "missing mandatory identifier")
				continue
			}
			if part.Name == "messageRef" {
				h.messageRef = part.ValueIdentifier.Value
			} else {
				h.requestRef = part.ValueIdentifier.Value
			}
		case "acknowledgement":
			if part.ValueCode == nil || !core.AckTypeCodeOK(*part.ValueCode) {
				c.Fail(pp+".valueCode", "acknowledgement type code must be AA, AE or AR")
				continue
			}
			h.ackTypeCode = *part.ValueCode
		case "batchInfo":
			var b releaseBatch
			for j, sub := range part.Part {
				switch {
				case sub.Name == "code" && sub.ValueCode != nil:
					b.code = *sub.ValueCode
				case sub.Name == "value" && sub.ValueString != nil:
					b.value = *sub.ValueString
				default:
					c.Fail(core.Indexed(pp+".part", j), "unexpected part %q (want code as valueCode, value as valueString)", sub.Name)
				}
			}
			if b.code == "" || b.value == "" {
				c.Fail(pp, "batchInfo needs a code and a value")
			}
			h.batch = append(h.batch, b)
		case "shell":
			if part.ValueString == nil {
				c.Fail(pp+".valueString", "missing mandatory valueString")
				continue
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromString(*part.ValueString); err != nil || doc.Root() == nil {
				c.Fail(pp+".valueString", "carried PrescriptionReleaseResponse is not well-formed XML")
				continue
			}
			h.shell = doc.Root()
		default:
			c.Fail(pp+".name", "unexpected part %q", part.Name)
		}
	}
}

// defaultBatch is the batch information Spine writes in a nominated release
// response of n prescriptions.
func defaultBatch(n int) []releaseBatch {
	return []releaseBatch{{"1", strconv.Itoa(n)}, {"2", releaseBatchSize}}
}

// viaFHIRTime is a v3 time as it comes back after a trip through a FHIR
// DateTime (an offset is folded into UTC), or ts itself when it does not
// convert: what a regeneration check must compare against.
func viaFHIRTime(ts string) string {
	t, err := core.FHIRDateTimeFromV3(ts)
	if err != nil {
		return ts
	}
	back, err := core.V3TimestampFromFHIR(t)
	if err != nil {
		return ts
	}
	return back
}
