// Package sim is porxgate's stateful EPS FHIR R4 simulator: the embedded
// upstream behind `porxgate sim`, the gateway's tests and the load runs.
//
// It keeps EPS's state (State: prescriptions by short-form id with their line
// items, dispenser, pending cancellations, dispense history and claims) apart
// from its FHIR face (Server, an http.Handler mounted at Options.BasePath,
// default /FHIR/R4), so that a Spine-style v3 face can later share one State.
// Decoding of incoming FHIR lives in fhir_decode.go, the EPS API's own
// validation of it (what EPS refuses before it reaches Spine) in
// validate.go, encoding of answers in fhir_encode.go, all with the fhir
// package's models (the same porxgate writes and reads, so the simulator
// has no FHIR types of its own); none touches the state. A request's
// strings are decoded borrowed from its body, and what the State keeps of
// them is copied out first (borrow.go).
//
// Endpoints (base = Options.BasePath):
//
//	POST base/$process-message   prescription-order, prescription-order-update (cancel),
//	                             dispense-notification (with replacementOf = amend)
//	POST base/$prepare           501 unless Options.Digest is set
//	POST base/Task/$release      nominated (owner) or patient (owner + group-identifier); a
//	                             nominated release hands over at most 25 prescriptions
//	                             (MaxNominatedRelease), oldest first, as EPS does, the rest
//	                             waiting for the next; with nothing to release it answers, as
//	                             EPS does, 200 and an OperationOutcome NO_MORE_PRESCRIPTIONS;
//	                             as the EPS API checks it first, it needs an agent
//	                             PractitionerRole with a telecom, and an owner
//	POST base/Task               return (status rejected: to be dispensed again, and no longer
//	                             nominated, as Spine ends the nomination: another pharmacy
//	                             takes it by its id) or withdraw (status in-progress, code
//	                             abort); a Task the EPS API's own checks refuse (intent, status,
//	                             code, the statusReason's code system, a practitioner by
//	                             reference) is answered as they answer it: 400, an issue
//	                             each; one whose requester is no reference to a contained
//	                             PractitionerRole, or a withdrawal whose role names its
//	                             Organization other than by a reference to a contained one,
//	                             as EPS throws it: one fatal issue coded INVALID_VALUE; one
//	                             without a requester, or a withdrawal whose role names no
//	                             Organization, as EPS fails on it: 500 SERVER_ERROR
//	POST base/Claim              claim, or claim amendment (replacementOf); one the EPS
//	                             API's own checks refuse (not exactly one insurance, an
//	                             authority other than T1450 or RQFZ1, the provider role's
//	                             practitioner by reference, no endorsement code) is
//	                             answered as they answer it: 400, an issue each; an amendment
//	                             after the claim period (the 5th day of the month after
//	                             the first claim's Claim.created, else its arrival) is
//	                             refused 400 CLAIM_AMEND_PERIOD_ISSUE, as Spine refuses it
//	GET  base/Task?...           tracker: identifier / focus:identifier / patient:identifier [+ business-status];
//	                             one Bundle of every match as EPS answers, or pages of
//	                             Options.TrackerPageSize linked by Bundle.link "next" (_offset);
//	                             an id it does not hold: 200 and an OperationOutcome INVALID
//	                             "Prescription ID not found", as EPS answers Spine's not found
//	GET  base/metadata           CapabilityStatement, wrapped as EPS does: {"capabilityStatement": ...}
//	POST /oauth2/token           client-credentials with an RS512 client assertion, verified
//	                             against Options.PublicKey
//	GET|POST|DELETE /_admin/faults   fault injection (see Faults)
//	GET  /_admin/cancellations   resolved pending cancellations (JSON)
//	GET  /_admin/stats           request counters (JSON)
//	POST /_admin/next-issue?prescriptionId=  next issue of a repeat dispensing prescription (State.NextIssue)
//
// Cancellation answers follow the corpus (examples/spec/errors/
// prescription-order-update): every item cancelled (R-0001) → 200 with the
// response Bundle; otherwise 400 with the same Bundle shape, each
// MedicationRequest carrying its R-code (R-0002 pending with dispenser,
// R-0003 pending with dispenser - active, R-0004, R-0005, R-0006, R-0007,
// R-0010), as the EPS API answers Spine's AE; R-0008 (not found), R-5000 (NHS
// number mismatch) and R-5888 (invalid message) are OperationOutcomes. A
// Bundle that is not exactly one MedicationRequest (one line item a
// message), with status cancelled and a statusReason, is refused before
// that, as the EPS API's own checks refuse it: 400, an issue (code value,
// EPS's diagnostics) each. A Bundle of another event is answered first
// and alone, as EPS answers it: one fatal issue of code value,
// "MessageHeader.eventCoding.code must be one of: prescription-order,
// prescription-order-update, dispense-notification.". Before any of
// that, every $process-message
// Bundle (prescription-order, cancellation, dispense notification) is
// refused as the EPS API refuses it (validate.go) when a MedicationRequest
// has intent plan or reflex-order ("MedicationRequest.intent must be
// order, original-order or instance-order.", code value) or names its
// medicine both by medicationCodeableConcept and medicationReference
// (code structure, CONFLICTING_VALUES), when a PractitionerRole names its
// practitioner other than by a reference to a Bundle entry (a
// responsible party's: by reference or by identifier, not both), or its
// organization or a healthcareService other than by reference
// ("<field> populated incorrectly. Please populate with Reference to
// resource within Bundle."), and when a telecom of an Organization,
// Practitioner or PractitionerRole entry has no value or no use: 400, an
// issue of code invalid each, "Required field
// bundle.entry[i].resource.telecom[j].use is missing." (a v3 telecom
// without a use, which the MIM allows, becomes one). A primary care
// prescription-order (prescription type 01xx) whose requester's
// Organization has no partOf (a v3 prescription without a
// healthCareProviderLicense) is refused the same way, "Required field
// organization.partOf is missing.", as is one whose requester's
// PractitionerRole names a healthcareService. So is a prescription-order
// as the EPS API's verifyPrescriptionBundle refuses it: its
// MedicationRequests disagreeing on what a prescription has once
// (groupIdentifier, category, authoredOn, subject, requester, the
// dispenseRequest's performer, validityPeriod, expectedSupplyDuration
// and performer site type, prescription type, responsible practitioner:
// "Expected all MedicationRequests to have the same value for <path>.
// Received <the values, as JSON>."), the requester's Practitioner named
// by a gmp-number, a repeat dispensing prescription without
// validityPeriod or expectedSupplyDuration or whose items disagree on
// numberOfRepeatsAllowed, an item not active, two items of one line item
// id, an item without dosage instructions or with several not each
// sequenced (MISSING_VALUE); one mixing courses of therapy other than
// acute and continuous is answered one fatal INVALID_VALUE issue alone,
// as EPS throws it. A dispense notification is refused as the EPS API's
// verifyDispenseBundle refuses it: MedicationDispenses disagreeing on
// whenHandedOver, the patient's NHS number, the repeat information or
// the performer, one of no performer (none at all: 500 SERVER_ERROR, as
// EPS fails on it), one naming its medicine both
// ways, a performer's PractitionerRole naming its Practitioner by
// reference, or a dispensing Organization without the
// Extension-ODS-OrganisationRelationships reimbursementAuthority ("The
// dispense notification is missing the reimbursement authority and it
// should be provided."); and as its translation refuses one without
// exactly one prescription-dispense-item-number on each
// MedicationDispense, one Extension-EPS-TaskBusinessStatus (the
// prescription status) on the first, one medicationdispense-type coding
// (the item status) on each (one fatal issue, TOO_FEW_VALUES_SUBMITTED
// or TOO_MANY_VALUES_SUBMITTED, naming where), or items not dispensed
// for different reasons (INVALID_VALUE, severity error). A
// cancellation whose
// requester's or responsible party's PractitionerRole names a Practitioner
// without exactly one sds-user-id identifier (a professional code alone,
// as a legacy cancel's agentPerson may carry) is refused as the EPS API's
// translation refuses it: 400, one fatal issue of code invalid, coded
// TOO_FEW_VALUES_SUBMITTED (TOO_MANY_VALUES_SUBMITTED, INVALID_VALUE) under
// https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode. A
// prescription-order whose author (requester) or responsible party has no
// telecom — not on its PractitionerRole, nor on the Practitioner it names
// by reference, nor, naming none, on its Organization — is refused the
// same way, coded TOO_FEW_VALUES_SUBMITTED "ResponsiblePractitioner must
// have at least one telecom.", as the EPS API's translation refuses it. A
// pending cancellation resolves when the dispenser returns the prescription
// (R-0001) or dispenses the item (cancelled R-0001, dispensed R-0004, not
// dispensed R-0010; partly dispensed or owing, it stays pending); resolutions are listed by State.CancelResolutions and
// /_admin/cancellations and reported to Options.OnCancelResolved. A
// cancellation that comes before its prescription is answered R-0008 and
// carried out when the prescription comes, as Spine does; each item it
// then cancels is a resolution too (R-0001: Spine's Subsequent Cancel
// Response).
//
// A cancellation of a prescription a dispenser holds names it as the EPS
// API does: dispenseRequest.performer with the dispensing organisation and
// an Extension-DM-DispensingPerformer to the PractitionerRole of the person
// who released it (the release request's agent).
//
// A release hands back each prescription-order Bundle as received but for
// what the EPS API's release translation of Spine's v3 changes
// (release_shape.go, release_status.go): the people's codes as EPS wrote
// them to Spine, under the systems their shapes pick, one PractitionerRole
// for an author and responsible party of one role profile, meta.lastUpdated
// the ParentPrescription's effectiveTime, the items' statuses, the intent
// (reflex-order for repeat dispensing, else order) and, for a
// repeat dispensing or repeat prescribing prescription, each
// MedicationRequest's basedOn with the issue (Extension-EPS-RepeatInformation
// numberOfRepeatsIssued: the issues before the current one).
//
// Every message's id (Bundle.identifier, Task.identifier,
// Claim.identifier) must be one identifier of system rfc4122, and a
// withdrawal's focus likewise, as the EPS API's translation reads them
// (getMessageId): else one fatal issue, TOO_FEW_VALUES_SUBMITTED or
// TOO_MANY_VALUES_SUBMITTED, naming where.
//
// The SDS ids EPS reads to compare with the access token's are checked as
// it reads them (validate.go, onlyIdentifierIssue): the role a release
// (agent), Task (requester) or Claim (provider) names its dispenser by
// must name a Practitioner given by identifier by one sds-user-id, and
// its identifiers, when it has any, must hold one sds-role-profile-id;
// each PractitionerRole of a $process-message Bundle likewise, and the
// Practitioner it names by reference at most one sds-user-id. EPS throws
// on any other: one fatal issue, TOO_FEW_VALUES_SUBMITTED or
// TOO_MANY_VALUES_SUBMITTED, naming where, the whole answer.
//
// When Options.PublicKey is set every FHIR endpoint requires a bearer token
// issued by /oauth2/token; without it the FHIR endpoints are open and the
// token endpoint refuses every request.
//
// Idempotency: like EPS, the simulator does not deduplicate by X-Request-ID
// unless Options.ReplayRequestIDs is set; then a POST whose X-Request-ID and
// body bytes match an earlier one gets the stored answer again without being
// processed again. Either way a second prescription-order with the same
// short-form id is refused with DUPLICATE_PRESCRIPTION_ID, which the upstream
// client resolves to success when it was caused by its own retry. Any
// message the simulator applies — prescription-order, cancellation,
// dispense notification (Bundle.identifier), return, withdrawal
// (Task.identifier), claim (Claim.identifier) — sent again with the id of
// one the prescription took is refused as EPS refuses it, 400 with
// Spine's 202 "Duplicate HL7 ID Error" (an issue of code invalid, a
// Spine-ErrorOrWarningCode coding), and changes nothing
// (state_duplicate.go; the ids of the last 512 messages each prescription
// took are kept, and forgotten with it); a prescription-order so refused
// before DUPLICATE_PRESCRIPTION_ID. A message refused the first time is
// not kept, and is processed again. The same done again by a new message
// is refused by the state it finds: a claim again as
// PRESCRIPTION_INVALID_STATE_TRANSITION (already claimed), a claim amendment
// or a withdrawal naming what is no longer the last claim or dispense as
// DISPENSE_AMEND_IDENTIFIER_MISMATCH, a return or a withdrawal with nothing
// left as PRESCRIPTION_INVALID_STATE_TRANSITION, a cancellation's items as
// R-0006 (already cancelled). A withdraw Task must name the dispense
// notification it withdraws (Task.focus.identifier).
//
// Memory is bounded (state_evict.go): the State keeps at most
// Options.MaxPrescriptions prescriptions, the least recently used
// forgotten first, and each keeps its last 512 dispense notifications and
// claims (per issue), and the ids of the last 512 messages it took, as
// Spine prunes a prescription's change log; a
// withdrawal reaching back past them is refused as
// PRESCRIPTION_INVALID_STATE_TRANSITION. A forgotten prescription is one
// EPS would still hold: a request for it (among the last 50,000 forgotten)
// is answered not found with diagnostics saying the simulator forgot it,
// its prescription-order again as DUPLICATE_PRESCRIPTION_ID, and each such
// answer is logged (warning) and counted in /_admin/stats
// (forgottenRequests, beside evicted). A nominated download cannot deliver
// a forgotten prescription, nor a tracker search by NHS number list it.
package sim
