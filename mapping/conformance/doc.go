// Package conformance measures porxgate's mappings against the EPS corpus:
// it finds FHIR ↔ v3 pairs as the corpus README defines them, runs each pair
// through the registered translators in both checks (FHIR → v3, and
// v3 → FHIR → v3), and compares the v3 produced with the corpus XML under
// the corpus comparison rules (wildcards for creationTime, pinned send times,
// fresh UUIDs not present in the FHIR request, and ASIDs).
package conformance
