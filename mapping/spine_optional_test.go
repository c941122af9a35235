package mapping_test

import (
	"errors"
	"html"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/ack"
	"github.com/porxgate/porxgate/mapping/cancel"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// optionalRemoval is an element the MIM 4.2.00 schemas make 0..1 that a
// test leaves out of (or, twice, writes twice into) every message holding
// one: where it is (an etree path under the payload act), and what
// porxgate then does. A refusal names the element's path (ending in
// wantPath) with the message constraint rule and the words of whose rule it
// is (why), or for an element written twice with the cardinality rule; an
// empty why is a message taken, whose FHIR gives the message back
// (Env.KeepV3).
type optionalRemoval struct {
	name  string
	where string
	twice bool
	// only, when set, limits the removal to payloads of these interaction
	// ids (UK or SM family: the id's first 13 characters).
	only     []string
	wantPath string
	why      string
}

// spineOptionalRemovals are the elements docs/mappings/accepting.md had
// as "not yet accepted", with what Spine and the EPS FHIR API do with a
// message without them (core/spine_required.go says where each rule comes
// from).
var spineOptionalRemovals = []optionalRemoval{
	{name: "author's organisation id", where: ".//author/AgentPerson/representedOrganization/id",
		wantPath: "/representedOrganization/id", why: core.SpineNeedsOrganizationID},
	{name: "legal authenticator's organisation id", where: ".//legalAuthenticator/AgentPerson/representedOrganization/id",
		wantPath: "/representedOrganization/id", why: core.SpineNeedsOrganizationID},
	{name: "responsible party's organisation id", where: ".//responsibleParty/AgentPerson/representedOrganization/id",
		only: responsiblePartyHolders, wantPath: "/representedOrganization/id", why: core.SpineNeedsOrganizationID},
	{name: "licence organisation id", where: ".//author/AgentPerson/representedOrganization/healthCareProviderLicense/Organization/id",
		wantPath: "/healthCareProviderLicense/Organization/id", why: core.SpineNeedsOrganizationID},
	{name: "author's person id", where: ".//author/AgentPerson/agentPerson/id",
		wantPath: "/AgentPerson/agentPerson/id", why: core.SpineNeedsPersonID},
	{name: "legal authenticator's person id", where: ".//legalAuthenticator/AgentPerson/agentPerson/id",
		wantPath: "/AgentPerson/agentPerson/id", why: core.SpineNeedsPersonID},
	{name: "responsible party's person id", where: ".//responsibleParty/AgentPerson/agentPerson/id",
		only: responsiblePartyHolders, wantPath: "/AgentPerson/agentPerson/id", why: core.SpineNeedsPersonID},
	{name: "recipient's organisation id", where: ".//primaryInformationRecipient/AgentOrg/agentOrganization/id",
		wantPath: "/agentOrganization/id", why: core.EPSNeedsRecipientID},
	{name: "patient's name", where: "./recordTarget/Patient/patientPerson/name",
		only: []string{v3.CancelRequest, v3.ParentPrescription}, wantPath: "/Patient/patientPerson/name", why: core.SpineNeedsPatientName},
	{name: "patient's gender", where: "./recordTarget/Patient/patientPerson/administrativeGenderCode",
		only: []string{v3.CancelRequest, v3.ParentPrescription}, wantPath: "/Patient/patientPerson/administrativeGenderCode", why: core.SpineNeedsPatientGender},
	{name: "patient's birth time", where: "./recordTarget/Patient/patientPerson/birthTime",
		only: []string{v3.CancelRequest, v3.ParentPrescription}, wantPath: "/Patient/patientPerson/birthTime", why: core.SpineNeedsBirthTime},
	{name: "cancel response patient's name", where: "./recordTarget/Patient/patientPerson/name",
		only: []string{v3.CancelResponse, v3.SubsequentCancelResponse}, wantPath: "/Patient/patientPerson/name", why: core.NeedsCancelResponsePatient},
	{name: "cancel response patient's gender", where: "./recordTarget/Patient/patientPerson/administrativeGenderCode",
		only: []string{v3.CancelResponse, v3.SubsequentCancelResponse}, wantPath: "/Patient/patientPerson/administrativeGenderCode", why: core.NeedsCancelResponsePatient},
	{name: "cancel response patient's birth time", where: "./recordTarget/Patient/patientPerson/birthTime",
		only: []string{v3.CancelResponse, v3.SubsequentCancelResponse}, wantPath: "/Patient/patientPerson/birthTime", why: core.NeedsCancelResponsePatient},
	{name: "cancel response's outcome", where: "./pertinentInformation3",
		only: []string{v3.CancelResponse, v3.SubsequentCancelResponse}, wantPath: "/CancellationResponse/pertinentInformation3", why: core.NeedsCancelOutcome},
	// Taken: Spine's schematron does not check it, and it is the fixed
	// code, nothing FHIR holds.
	{name: "patient's care provision code", where: ".//recordTarget/Patient/patientPerson/playedProviderPatient/subjectOf/patientCareProvision/code"},
}

// responsiblePartyHolders are the messages whose own payload has a
// responsible party (in a reimbursement or no-claim it is the carried
// prescription's, taken as Spine took it).
var responsiblePartyHolders = []string{v3.ParentPrescription, v3.CancelRequest, v3.CancelResponse}

// TestSpineOptionalElements leaves each of spineOptionalRemovals out of
// every message of testdata and the project's own prescription that has
// it, and checks that porxgate does what Spine and the EPS FHIR API do:
// refuse it, naming the element, with the message constraint rule and
// whose rule it is, and answer the family's "unable to process" code; or
// take it, the message coming back from its FHIR. Before, each was refused
// as a missing mandatory element of the MIM, which it is not.
func TestSpineOptionalElements(t *testing.T) {
	runOptionalRemovals(t, spineOptionalRemovals, 20)
}

// runOptionalRemovals runs removals over testdata's v3 messages and the
// project's own prescription; at least least variants must run.
func runOptionalRemovals(t *testing.T, removals []optionalRemoval, least int) {
	t.Helper()
	msgs := ownAndTestdataMessages(t)
	reg := mapping.NewRegistry()
	ran := 0
	for _, msg := range msgs {
		payload, tag, err := conformance.ExtractPayload(msg.data)
		if err != nil {
			t.Fatalf("%s: %v", msg.name, err)
		}
		tr := reg.ByInteraction(tag)
		if tr == nil {
			continue
		}
		for _, rm := range removals {
			if !interactionIn(tag, rm.only) {
				continue
			}
			variant, ok := withElementEdited(t, payload, rm.where, rm.twice)
			if !ok {
				continue
			}
			ran++
			t.Run(filepath.Base(msg.name)+" "+rm.name, func(t *testing.T) {
				env := variantEnv(variant)
				body, meta, err := tr.ToFHIR(variant, env)
				rule, why := v3.RuleConstraint, rm.why
				if rm.twice {
					rule, why = v3.RuleCardinality, v3.MsgRepeated
				}
				if why == "" {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					comesBack(t, tr, body, meta, env, variant)
					return
				}
				if err == nil {
					t.Fatalf("taken:\n%.600s", body)
				}
				var ve *v3.Error
				if !errors.As(err, &ve) {
					t.Fatalf("error %T %v, want *v3.Error", err, err)
				}
				if !strings.HasSuffix(ve.Path, rm.wantPath) || ve.Rule != rule || ve.Msg != why {
					t.Errorf("refused %q [rule %q]\nwant a path ending %s, rule %q, %q", err, ve.Rule, rm.wantPath, rule, why)
				}
				fam, ferr := core.ErrorFamilyOf(tag)
				if ferr != nil {
					return // a message of Spine's (a response): porxgate answers none
				}
				_, want, _ := core.FamilyCode(fam, core.KindGeneric)
				if code, display := refusalAnswer(t, tag, variant, err); code != want || !strings.Contains(display, why) {
					t.Errorf("answered %s %q, want %s (Spine's ErrorBase1634.UNABLE_TO_PROCESS) naming %q", code, display, want, why)
				}
			})
		}
	}
	if ran < least {
		t.Errorf("only %d variants ran, want at least %d", ran, least)
	}
}

// refusalAnswer returns the code and displayName of the answer the
// gateway gives the sender of a message the mapping refused with err (as
// gateway/eps_processor.go rejectUnreadable words it): a Cancel Response
// to a cancel request, an MCCI acknowledgement to the others.
func refusalAnswer(t *testing.T, tag string, payload []byte, err error) (code, display string) {
	t.Helper()
	oo := &fhir.OperationOutcome{Issue: []fhir.Issue{{Severity: "error", Code: "value",
		Details: &fhir.CodeableConcept{Coding: []fhir.Coding{{
			System: fhir.CodeSystemSpineErrorOrWarning, Code: "INVALID_VALUE", Display: "Invalid value"}}},
		Diagnostics: err.Error()}}}
	canon, _, cerr := v3.Canonical(tag)
	if cerr != nil {
		t.Fatal(cerr)
	}
	if canon == v3.CancelRequest {
		msg, err := cancel.CancelRefusal(payload, oo, cancel.CancelReplyEnds{SenderASID: "990101234567"}, core.FixedEnv())
		if err != nil {
			t.Fatalf("no Cancel Response: %v", err)
		}
		m := regexp.MustCompile(`<pertinentResponse [^>]*>\s*(?:<code [^>]*/>\s*)?<value [^>]*code="([^"]*)" [^>]*displayName="([^"]*)"`).FindSubmatch(msg)
		if m == nil {
			t.Fatalf("Cancel Response without a response value:\n%s", msg)
		}
		return string(m[1]), html.UnescapeString(string(m[2]))
	}
	_, codes, aerr := ack.AckFromOutcome(oo, 400, ack.AckRequest{RequestID: "A7B86F8D-1D81-FC28-E050-D20AE3A215F0", Interaction: canon, SenderASID: "990101234567"}, core.FixedEnv())
	if aerr != nil {
		t.Fatal(aerr)
	}
	if len(codes.Codes) != 1 {
		t.Fatalf("acknowledgement codes %+v, want one", codes.Codes)
	}
	return codes.Codes[0].Code, codes.Codes[0].Display
}

// TestOrganizationOnceOnly writes an organisation's telecom or address
// twice into every message of testdata and the project's own prescription
// that has one: each is 0..1 in UKCT_MT120201UK03/UK04's Organization
// (omvt/Schemas/*_4200.xsd), Spine's schematron wants exactly one for an
// author's or dispenser's organisation (Prescriber_ and
// Dispenser_Common_Stage_1.xsl), and the EPS API takes one
// (request/organization.ts onlyElement), so the second is refused as a
// repeat, naming it. Before, porxgate read both (the FHIR Organization had
// two) and carried what did not come back.
func TestOrganizationOnceOnly(t *testing.T) {
	var edits []optionalRemoval
	for _, who := range []string{"author", "legalAuthenticator", "responsibleParty"} {
		for _, tag := range []string{"telecom", "addr"} {
			edits = append(edits, optionalRemoval{name: who + "'s organisation " + tag + " twice", twice: true,
				where: ".//" + who + "/AgentPerson/representedOrganization/" + tag, only: orgOnceHolders,
				wantPath: "/representedOrganization/" + tag + "[2]"})
		}
	}
	runOptionalRemovals(t, edits, 15)
}

// orgOnceHolders are the messages whose own payload's organisations are
// read (a reimbursement's or no-claim's prescription is carried as Spine
// took it; a release response's are Spine's).
var orgOnceHolders = []string{v3.ParentPrescription, v3.CancelRequest, v3.CancelResponse, v3.DispenseNotification,
	v3.DispenseClaimInformation, v3.DispenseProposalReturn, v3.PatientReleaseRequest, v3.NominatedReleaseRequest}

// interactionIn reports whether interaction id tag is one of ids (either
// family), or ids is empty.
func interactionIn(tag string, ids []string) bool {
	if len(ids) == 0 {
		return true
	}
	for _, id := range ids {
		if len(tag) >= 13 && len(id) >= 13 && tag[:13] == id[:13] {
			return true
		}
	}
	return false
}

// withElementEdited returns payload without the first element at path
// (under the subject's payload act), or with it written twice, and whether
// there was one.
func withElementEdited(t *testing.T, payload []byte, path string, twice bool) ([]byte, bool) {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(payload); err != nil {
		t.Fatal(err)
	}
	subject := doc.Root().FindElement("./ControlActEvent/subject")
	if subject == nil || len(subject.ChildElements()) == 0 {
		return nil, false
	}
	el := subject.ChildElements()[0].FindElement(path)
	if el == nil {
		return nil, false
	}
	if twice {
		el.Parent().InsertChildAt(el.Index()+1, el.Copy())
	} else {
		el.Parent().RemoveChild(el)
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out, true
}
