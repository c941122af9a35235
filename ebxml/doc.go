// Package ebxml is porxgate's wire layer for the two transports legacy
// prescribing and dispensing systems use to talk to Spine:
//
//   - ebXML reliable messaging (ebMS 2.0 as Spine profiles it): a
//     multipart/related MIME body whose first part is a SOAP 1.1 envelope
//     carrying eb:MessageHeader, eb:AckRequested, eb:SyncReply and an
//     eb:Manifest, and whose further parts carry the HL7 v3 payload.
//     ParseRequest reads such a request leniently (unquoted Content-Type
//     parameters, LF or CRLF line ends, quoted or bare SOAPAction) and
//     returns the payload bytes exactly as received (ParseRequestInPlace
//     reads a body the caller gives up without copying it first, as the
//     gateway's front door does). BuildAcknowledgment,
//     BuildMessageError and BuildMessage write the answers and the outbound
//     async messages; ParseAcknowledgment reads a remote MHS's answer to
//     one of ours.
//   - SOAP sync with WS-Addressing: ParseSOAPRequest, BuildSOAPResponse and
//     BuildSOAPFault (the Spine-style nasp:errorList fault).
//
// The package knows nothing of PORX semantics: it never looks inside the
// HL7 payload. It imports only the standard library and
// github.com/beevik/etree. Every function is pure: identifiers and times
// are supplied by the caller, so outputs are reproducible.
//
// Errors from ParseRequest are *MessageError values carrying the ebXML
// errorCode (CodeMimeProblem, CodeOtherXML, ...) and a Spine-style
// "number:text" description, ready for BuildMessageError. Errors from
// ParseSOAPRequest are *SOAPFault values ready for BuildSOAPFault.
package ebxml
