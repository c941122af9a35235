// Package compare is porxgate's comparison mode: it normalises two HL7 v3
// answers to the same legacy request — one from the legacy path (the
// supplier's existing Spine route), one from the FHIR path (EPS through
// porxgate) — and says how they differ. Legacy is the client of the legacy
// path; Replay runs a folder of recorded exchanges offline.
//
// Normalisation (docs/compare.md says the same for operators):
//
//   - Namespace prefixes, comments, processing instructions, attribute
//     order and whitespace around text are ignored.
//   - Namespaces are compared (not the prefixes that stand for them): the
//     root's, and any element's that is not its parent's, as an
//     "@(namespace)" fact; a prefixed attribute is named by its namespace
//     ("xsi:type" whatever its prefix).
//   - The transmission wrapper's own id, creationTime and the sending
//     device (communicationFunctionSnd: Spine's or porxgate's ASID) are
//     ignored, as is the ControlActEvent's author (the answering system).
//   - Any UUID that does not occur in the request is a generated id and is
//     compared only as "<generated>"; UUIDs carried over from the request
//     (line item ids, the id of the request being answered) are compared.
//   - Any HL7 timestamp with a time of day (a value attribute holding a
//     real date and time) that does not occur in the request is compared
//     only as "<timestamp>"; dates from the request (prescription
//     effective times, validity periods) are compared, and so are
//     identifiers of a timestamp's shape (twelve-digit SDS ids).
//   - Inside a released prescription (a release response's
//     ParentPrescription) every id and timestamp is compared: they are
//     the prescriber's, which both environments hold alike, though the
//     release request does not carry them.
//   - displayName and other human text attributes are ignored: codes are
//     compared, their wording is not.
//   - Everything else is compared: the answer's interaction, acknowledgement
//     type and detail codes, statuses, the prescriptions released with
//     their line items, products and quantities, reason codes. The order
//     of elements of different names is compared (HL7 v3's XML lays it
//     down per class), among those both answers have. The order of
//     repeated elements of one name is not significant, but which values
//     belong to one element is: the answers are compared element by
//     element (siblings of one name matched alike-first, then paired by
//     their identifiers and codes), each difference said as path=value
//     facts.
//   - Except within a name or an address (HL7 v3 EN/PN and AD are
//     sequences of parts): there the order of the parts of one kind is
//     compared (the first given name, the first address line), and the
//     order of parts of different kinds is not.
package compare
