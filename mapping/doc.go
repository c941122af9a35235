// Package mapping is the face of porxgate's translations between HL7 v3 PORX
// interactions and EPS FHIR R4 messages and operations. It holds the
// Registry (which Translator serves which v3 interaction id and which corpus
// kind), kind detection of FHIR bodies (KindOfFHIR) and the contract every
// translation fills in: Translator, Env and Meta, aliases of the shared
// core's types.
//
// The translations themselves live one package per interaction family, each
// importing the shared core and, where the domain nests one message in
// another, the nested family's exported API:
//
//   - mapping/prescribe: parent prescription (PORX_IN020101UK31/020102) and
//     $prepare;
//   - mapping/release: release request, response and rejection (nests
//     prescribe);
//   - mapping/dispense: dispense notification and its amendment, rebuild
//     dispense history;
//   - mapping/claim: dispense claim and its amendment, reimbursement claim
//     and no-claim notification (nests dispense and prescribe);
//   - mapping/cancel: cancel request and cancel responses;
//   - mapping/task: dispense proposal return and dispenser withdraw;
//   - mapping/ack: the MCCI application acknowledgement;
//   - mapping/tracker: the tracker REST API;
//   - mapping/core: the v3 ↔ FHIR building blocks they share.
//
// Every translation is pure: bytes in, bytes out, with the clock and the id
// generator passed in through Env, so golden tests are exact.
// docs/mappings/README.md maps each family to its package and its tables.
package mapping
