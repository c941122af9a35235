package core

import (
	v3 "github.com/porxgate/porxgate/v3"
)

// Elements the MIM 4.2.00 schemas make optional (0..1) that Spine, or the
// EPS FHIR API behind porxgate, cannot do without. Spine's schematron
// (nhsdigitalmait/SPINE_schema spine2_xslt: Prescriber_Common_Stage_1.xsl
// over every //author/AgentPerson of a prescriber's message,
// Dispenser_Common_Stage_1.xsl over every //AgentPerson of a dispenser's,
// Parent_Prescription_PORX_MT132004UK31.xsl and
// Cancel_Prescription_PORX_MT135001UK32.xsl over the Patient) faults a
// message without them, ErrorBase1634.UNABLE_TO_PROCESS (the 5000 "Unable
// to process message. Information missing or invalid" porxgate answers
// every refusal with); where Spine's schematron says nothing, the EPS API's
// translation of the Bundle fails without them. So a message without one
// is refused with the message constraint rule and those words, not as a
// missing mandatory element (which the MIM says it is not).

// Why an element is required although the MIM makes it optional: the
// refusal's text, naming whose rule it is.
const (
	// SpineNeedsOrganizationID: an organisation's id (II 0..1 in
	// UKCT_MT120201UK03/UK04's Organization), its ODS code.
	SpineNeedsOrganizationID = "Spine refuses an author's or dispenser's organisation without its ODS code (ErrorBase1634.UNABLE_TO_PROCESS: Represented Organization ID missing), and the EPS FHIR API every Organization without one"
	// SpineNeedsPersonID: an agent's person's id (agentPerson/id, II 0..1
	// in UKCT_MT120201UK03/UK04's Person), the professional code or SDS user
	// id.
	SpineNeedsPersonID = "Spine refuses an author or dispenser without the person's id (ErrorBase1634.UNABLE_TO_PROCESS: Prescriber ID missing, Dispenser ID missing or blank), and the EPS FHIR API every Practitioner without one (a responsible party's too)"
	// EPSNeedsRecipientID: a dispensing message's recipient
	// (UKCT_MT120401UK02's agentOrganization id, 0..1), which Spine's
	// schematron does not check: the EPS API refuses a dispense
	// notification without the reimbursement authority's ODS code
	// (dispense-notification.ts) and reads a claim's coverage identifier
	// unchecked (dispense-common.ts createAgentOrganisationFromReference).
	EPSNeedsRecipientID = "the EPS FHIR API needs the recipient's ODS code (the dispensing Organization's reimbursementAuthority, the claim's insurance coverage)"
	// SpineNeedsPatientName, SpineNeedsPatientGender, SpineNeedsBirthTime:
	// the patient's name, administrativeGenderCode and birthTime (each 0..1
	// in COCT_MT050012UK05's Person) in a Parent Prescription or Cancel
	// Request.
	SpineNeedsPatientName   = "Spine refuses a patient without a name (ErrorBase1634.UNABLE_TO_PROCESS: Patient name is missing)"
	SpineNeedsPatientGender = "Spine refuses a patient without a gender code (ErrorBase1634.UNABLE_TO_PROCESS: Patient gender code is missing)"
	SpineNeedsBirthTime     = "Spine refuses a patient without a birth time (ErrorBase1634.UNABLE_TO_PROCESS: Patient birthtime is missing)"
	// NeedsCancelResponsePatient: a cancel response's patient's name,
	// administrativeGenderCode and birthTime (0..1 each in
	// COCT_MT050012UK05): Spine's Cancel Response repeats the request's
	// recordTarget (CancellationResponse_PORX_MT135201UK31.xsl), which its
	// schematron made hold them, and the EPS API's reader of a cancel
	// response reads the gender and birth time unchecked.
	NeedsCancelResponsePatient = "a cancel response repeats the cancel request's patient, which Spine refuses without a name, gender code and birth time, and the EPS FHIR API's reader of a cancel response cannot do without them (response/patient.ts createPatient)"
	// NeedsCancelOutcome: a cancel response's outcome
	// (pertinentInformation3, 0..1 in PORX_MT135201UK31), which no one
	// sends to Spine: Spine's Cancel Response always carries it
	// (CancellationResponse_PORX_MT135201UK31.xsl), and the EPS API's
	// reader of one reads it unchecked.
	NeedsCancelOutcome = "a cancel response says its outcome here: Spine always writes it, and the EPS FHIR API's reader of a cancel response cannot do without it (cancellation-medication-request.ts extractStatusCode)"
)

// SpineRequired returns n's child tag, as n.Opt does; when n exists and
// the child does not, the absence is recorded at the child's path with the
// message constraint rule and why (one of the Spine… or EPS… texts above).
// Call it before anything reads the child as mandatory: a Reader keeps the
// first problem of a path.
func SpineRequired(n v3.Node, tag, why string) v3.Node {
	c := n.Opt(tag)
	if !c.Exists() && n.Exists() && n.Reader() != nil {
		n.Reader().FailRule(c.Path(), v3.RuleConstraint, "%s", why)
	}
	return c
}
