// Package core holds the v3 ↔ FHIR building blocks that every interaction
// family of mapping shares, and nothing that belongs to one family alone:
//
//   - the translation contract: Translator, Env (clock, ids, interaction id
//     family; FixedEnv for exact tests and examples) and Meta (what travels
//     beside a FHIR body), and the helpers that open a v3 payload and start
//     a v3 message (translate.go, env.go, translator.go);
//   - v3 datatypes and their FHIR twins: identifiers, times, codes,
//     quantities, text (datatypes*.go, codes.go, extensions.go);
//   - parties: patient, author, responsible party, dispensing agent
//     (parties*.go, agent.go);
//   - errors: the Spine error tables, OperationOutcome ↔ acknowledgement
//     detail codes both ways, synchronous Spine errors (errors*.go,
//     ack_codes.go, ack_write.go);
//   - ShapeReader, the strict reader of v3 message shapes (children,
//     attributes, fixed values) that the acknowledgement and cancellation
//     readers build on (shape_reader.go);
//   - what MIM variations porxgate accepts and carries (accept*.go), the
//     document writer that keeps signatures byte for byte (document.go,
//     signature.go), and the dispensing-side helpers that dispense, claim,
//     return and withdraw share (dispensing*.go, repeat.go, fhir_write.go).
//
// It imports v3 and fhir only; no family package is imported by it.
package core
