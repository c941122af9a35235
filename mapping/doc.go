// Package mapping translates between HL7 v3 PORX interactions and EPS FHIR R4
// messages and operations, in both directions, one file per interaction
// family (prescribe, cancel, release, dispense, claim, return, withdraw,
// tracker, errors).
//
// Every translation is pure: bytes in, bytes out, with the clock and the id
// generator passed in through Env, so golden tests are exact. A Registry,
// built fresh by NewRegistry, says which Translator serves which interaction
// id and which corpus kind.
package mapping
