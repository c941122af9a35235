package ack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// ExtensionMCCIAcknowledgement is porxgate's extension on an
// OperationOutcome made from an MCCI acknowledgement: it keeps what the
// outcome itself has no element for (docs/mappings/acks.md). Sub-extensions:
// typeCode (valueCode AA/AE/AR), messageRef (valueString, the acknowledged
// message id as written), acknowledgementDetails (valueUnsignedInt, how many
// of the leading coded issues are acknowledgementDetails), and, only where
// they differ from what the outcome and the defaults give: id, creationTime
// (valueString), versionCode, interactionId, processingCode,
// processingModeCode, acceptAckCode (valueCode).
const ExtensionMCCIAcknowledgement = "https://porxgate.github.io/fhir/StructureDefinition/Extension-porxgate-MCCIAcknowledgement"

// ackFHIRIDRE is the FHIR id datatype.
var ackFHIRIDRE = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// AckToOutcome turns an acknowledgement into the OperationOutcome the EPS
// FHIR API gives for it (AA: one informational issue, as the EPS success
// outcome; AE/AR: one issue per code, see OutcomeIssueFromV3), with
// OperationOutcome.id = the acknowledgement's own message id, meta.lastUpdated
// = its creationTime, and ExtensionMCCIAcknowledgement for the rest; the
// wrapper's ASIDs travel in Meta. AckFromFHIR gives the same Ack back.
func AckToOutcome(a Ack) (*fhir.OperationOutcome, core.Meta) {
	a.ackDefaults()
	oo := &fhir.OperationOutcome{Base: fhir.Base{ResourceType: "OperationOutcome"}}
	ext := fhir.Extension{URL: ExtensionMCCIAcknowledgement}
	addCode := func(url, v string) {
		ext.Extension = append(ext.Extension, fhir.Extension{URL: url, ValueCode: &v})
	}
	addString := func(url, v string) {
		ext.Extension = append(ext.Extension, fhir.Extension{URL: url, ValueString: &v})
	}
	addCode("typeCode", a.TypeCode)
	addString("messageRef", a.MessageRef)
	if n := len(a.Details); n > 0 {
		v := json.Number(strconv.Itoa(n))
		ext.Extension = append(ext.Extension, fhir.Extension{URL: "acknowledgementDetails", ValueUnsignedInt: &v})
	}
	if ackFHIRIDRE.MatchString(a.ID) {
		oo.ID = a.ID
	} else {
		addString("id", a.ID)
	}
	// meta.lastUpdated is an instant: only a creationTime to the second fits.
	if t, err := core.FHIRDateTimeFromV3(a.CreationTime); err == nil && strings.Contains(t, "T") {
		oo.Meta = &fhir.Meta{LastUpdated: t}
	}
	if oo.Meta == nil || ackTimeFromFHIR(oo.Meta.LastUpdated) != a.CreationTime {
		addString("creationTime", a.CreationTime)
	}
	for _, f := range [...]struct{ url, got, def string }{
		{"versionCode", a.VersionCode, v3.OIDVersionCodeV42},
		{"interactionId", a.Interaction, v3.ApplicationAcknowledgement},
		{"processingCode", a.ProcessingCode, "P"},
		{"processingModeCode", a.ProcessingModeCode, "T"},
		{"acceptAckCode", a.AcceptAckCode, "NE"},
	} {
		if f.got != f.def {
			addCode(f.url, f.got)
		}
	}
	oo.Extension = []fhir.Extension{ext}
	for _, c := range a.Details {
		oo.Issue = append(oo.Issue, core.OutcomeIssueFromV3(c))
	}
	for _, c := range a.Reasons {
		oo.Issue = append(oo.Issue, core.OutcomeIssueFromV3(c))
	}
	if len(oo.Issue) == 0 {
		oo.Issue = []fhir.Issue{{Severity: "information", Code: "informational"}}
	}
	meta := core.Meta{
		MessageID:    a.ID,
		Interaction:  a.Interaction,
		SenderASID:   a.SenderASID,
		ReceiverASID: a.ReceiverASID,
		SystemASID:   a.SystemASID,
	}
	return oo, meta
}

// ackTimeFromFHIR is V3TimestampFromFHIR, or "" for a value it cannot read.
func ackTimeFromFHIR(s string) string {
	t, err := core.V3TimestampFromFHIR(s)
	if err != nil {
		return ""
	}
	return t
}

// AckFromFHIR is the reverse of AckToOutcome: it needs the outcome's
// ExtensionMCCIAcknowledgement and a urn:oid coding on every coded issue.
// Values neither the outcome nor meta hold are made: the id from env.NewID,
// creationTime from env.Now; an acknowledgement's sender defaults to Spine's
// ASID (DefaultReceiverASID), its receiver to the EPS API's
// (DefaultSenderASID), author1 to the sender.
func AckFromFHIR(oo *fhir.OperationOutcome, meta core.Meta, env core.Env) (Ack, error) {
	fail := func(path, format string, args ...any) (Ack, error) {
		return Ack{}, &core.FHIRError{Interaction: v3.ApplicationAcknowledgement, Path: path, Msg: fmt.Sprintf(format, args...)}
	}
	if oo == nil {
		return fail("OperationOutcome", "missing")
	}
	ext := fhir.FindExtension(oo.Extension, ExtensionMCCIAcknowledgement)
	if ext == nil {
		return fail("OperationOutcome.extension", "no %s extension: an EPS outcome becomes an acknowledgement through AckFromOutcome, which knows the request", ExtensionMCCIAcknowledgement)
	}
	sub := func(url string) *fhir.Extension { return fhir.FindExtension(ext.Extension, url) }
	str := func(url string) string {
		if e := sub(url); e != nil {
			switch {
			case e.ValueCode != nil:
				return *e.ValueCode
			case e.ValueString != nil:
				return *e.ValueString
			}
		}
		return ""
	}
	a := Ack{
		TypeCode:           str("typeCode"),
		MessageRef:         str("messageRef"),
		VersionCode:        str("versionCode"),
		Interaction:        str("interactionId"),
		ProcessingCode:     str("processingCode"),
		ProcessingModeCode: str("processingModeCode"),
		AcceptAckCode:      str("acceptAckCode"),
		ID:                 core.FirstNonEmpty(oo.ID, str("id"), meta.MessageID),
		CreationTime:       str("creationTime"),
		SenderASID:         core.FirstNonEmpty(meta.SenderASID, core.DefaultReceiverASID),
		ReceiverASID:       core.FirstNonEmpty(meta.ReceiverASID, core.DefaultSenderASID),
	}
	a.SystemASID = core.FirstNonEmpty(meta.SystemASID, a.SenderASID)
	if a.Interaction == "" {
		if canon, _, err := v3.Canonical(meta.Interaction); err == nil && canon == v3.ApplicationAcknowledgement {
			a.Interaction = meta.Interaction
		}
	}
	const extPath = "OperationOutcome.extension(" + ExtensionMCCIAcknowledgement + ")"
	switch {
	case a.TypeCode == "":
		return fail(extPath+".extension(typeCode)", "missing")
	case !core.AckTypeCodeOK(a.TypeCode):
		return fail(extPath+".extension(typeCode)", "%q is not AA, AE or AR (or Spine's ER)", a.TypeCode)
	case a.MessageRef == "":
		return fail(extPath+".extension(messageRef)", "missing")
	}
	if a.ID == "" {
		a.ID = strings.ToUpper(env.NewID())
	}
	if a.CreationTime == "" && oo.Meta != nil {
		a.CreationTime = ackTimeFromFHIR(oo.Meta.LastUpdated)
	}
	if a.CreationTime == "" {
		a.CreationTime = env.Now.UTC().Format(core.V3TimeLayout)
	}
	details := 0
	if e := sub("acknowledgementDetails"); e != nil && e.ValueUnsignedInt != nil {
		n, err := strconv.Atoi(e.ValueUnsignedInt.String())
		if err != nil || n < 0 {
			return fail(extPath+".extension(acknowledgementDetails)", "%q is not a count", e.ValueUnsignedInt.String())
		}
		details = n
	}
	var codes []core.SpineCode
	for i, iss := range oo.Issue {
		c, ok := ackCodeOfIssue(iss)
		if !ok {
			if iss.Details == nil && (iss.Severity == "information" || iss.Severity == "warning") {
				continue
			}
			return fail(fmt.Sprintf("OperationOutcome.issue[%d].details.coding", i), "no urn:oid coding with the v3 code")
		}
		codes = append(codes, c)
	}
	if details > len(codes) {
		return fail(extPath+".extension(acknowledgementDetails)", "%d details but %d coded issues", details, len(codes))
	}
	a.Details, a.Reasons = codes[:details:details], codes[details:]
	if len(a.Details) == 0 {
		a.Details = nil
	}
	if len(a.Reasons) == 0 {
		a.Reasons = nil
	}
	a.ackDefaults()
	return a, nil
}

// ackCodeOfIssue returns the v3 code of an issue's urn:oid coding.
func ackCodeOfIssue(iss fhir.Issue) (core.SpineCode, bool) {
	if iss.Details == nil {
		return core.SpineCode{}, false
	}
	for _, cd := range iss.Details.Coding {
		if oid, ok := strings.CutPrefix(cd.System, "urn:oid:"); ok && oid != "" && cd.Code != "" {
			return core.SpineCode{System: oid, Code: cd.Code, Display: cd.Display, Severity: core.V3SeverityOf(iss)}, true
		}
	}
	return core.SpineCode{}, false
}

// AckRequest names the message an acknowledgement answers and the
// acknowledgement's own ends.
type AckRequest struct {
	// RequestID is the acknowledged message's id (messageRef/id/@root).
	RequestID string
	// Interaction is the acknowledged message's interaction id; it chooses
	// the error family (ErrorFamilyOf).
	Interaction string
	// SenderASID is the acknowledgement's sender (porxgate answering as
	// Spine); it is also the author1 system.
	SenderASID string
	// ReceiverASID is the requester's ASID.
	ReceiverASID string
}

// AckFromOutcome makes the acknowledgement Spine would send for a request
// that EPS answered with this OperationOutcome and HTTP status: AA for a
// 2xx answer without a Spine code (HasSpineCoding), otherwise AE or AR with
// the codes of V3ErrorFromOutcome (also
// returned, for its Unmapped list). The id comes from env.NewID (upper
// case), creationTime from env.Now. A cancel request's business errors are
// answered by a Cancel Response, not an acknowledgement: for the cancel
// family only an AR (…17.32 codes alone) is made here.
func AckFromOutcome(oo *fhir.OperationOutcome, httpStatus int, req AckRequest, env core.Env) (Ack, core.V3Error, error) {
	fam, err := core.ErrorFamilyOf(req.Interaction)
	if err != nil {
		return Ack{}, core.V3Error{}, fmt.Errorf("acknowledgement of %s: %w", req.RequestID, err)
	}
	if req.RequestID == "" {
		return Ack{}, core.V3Error{}, fmt.Errorf("acknowledgement: no request id to refer to")
	}
	a := Ack{
		ID:           strings.ToUpper(env.NewID()),
		CreationTime: env.Now.UTC().Format(core.V3TimeLayout),
		TypeCode:     core.AckAccepted,
		MessageRef:   req.RequestID,
		SenderASID:   req.SenderASID,
		ReceiverASID: req.ReceiverASID,
		SystemASID:   req.SenderASID,
	}
	a.ackDefaults()
	if httpStatus >= 200 && httpStatus < 300 && !core.HasSpineCoding(oo) {
		return a, core.V3Error{}, nil
	}
	ve, err := core.V3ErrorFromOutcome(oo, httpStatus, fam)
	if err != nil {
		return Ack{}, core.V3Error{}, fmt.Errorf("acknowledgement of %s: %w", req.RequestID, err)
	}
	// An AE or AR is a refusal: when EPS wrote none of its issues as an
	// error (NO_MORE_PRESCRIPTIONS, under HTTP 200), its codes are errors.
	refused := false
	for _, c := range ve.Codes {
		refused = refused || c.Severity == core.AckSeverityError
	}
	if !refused {
		for i := range ve.Codes {
			ve.Codes[i].Severity = core.AckSeverityError
		}
	}
	if fam == core.ErrorFamilyCancel && ve.TypeCode != core.AckRejected {
		return Ack{}, ve, fmt.Errorf("acknowledgement of %s: a cancel request's business error is a Cancel Response (%s), not an acknowledgement", req.RequestID, v3.CancelResponse)
	}
	a.TypeCode = ve.TypeCode
	a.Details = ackCleanDisplays(ve.Details())
	a.Reasons = ackCleanDisplays(ve.Reasons())
	return a, ve, nil
}

// ackCleanDisplays makes line feeds of the line ends, and replaces the other
// characters XML cannot carry with U+FFFD, in the free-text displayNames
// taken from EPS diagnostics, so that an odd
// upstream text never keeps the legacy side from getting its answer.
func ackCleanDisplays(cs []core.SpineCode) []core.SpineCode {
	for i := range cs {
		// Line ends as XML reads them: CR LF and CR are line feeds.
		cs[i].Display = core.V3LineEnds(cs[i].Display)
		if core.AckXMLText("", "", cs[i].Display) == nil {
			continue
		}
		cs[i].Display = strings.Map(func(r rune) rune {
			if core.AckXMLText("", "", string(r)) != nil {
				return utf8.RuneError
			}
			return r
		}, strings.ToValidUTF8(cs[i].Display, string(utf8.RuneError)))
	}
	return cs
}
