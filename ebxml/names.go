package ebxml

// XML namespaces used on the wire.
const (
	// NSSOAP is the SOAP 1.1 envelope namespace.
	NSSOAP = "http://schemas.xmlsoap.org/soap/envelope/"
	// NSSOAP12 is the SOAP 1.2 envelope namespace, which Spine does not use
	// and which this package rejects as NotSupported.
	NSSOAP12 = "http://www.w3.org/2003/05/soap-envelope"
	// NSEb is the ebXML messaging 2.0 header namespace.
	NSEb = "http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd"
	// NSXLink is the XLink namespace of eb:Reference/@xlink:href.
	NSXLink = "http://www.w3.org/1999/xlink"
	// NSHL7ebXML is the HL7 ebXML transport namespace of
	// hl7ebxml:Payload, spelled as Spine writes it (ebXML in capitals).
	// When reading, any letter case is accepted.
	NSHL7ebXML = "urn:hl7-org:transport/ebXML/DSTUv1.0"
	// NSWSA is the WS-Addressing (2004/08) namespace of SOAP sync.
	NSWSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	// NSHL7 is the HL7 v3 namespace.
	NSHL7 = "urn:hl7-org:v3"
	// NSNASP is the namespace of the nasp:errorList inside a Spine SOAP fault.
	NSNASP = "http://national.carerecords.nhs.uk/schema/"
)

// Values written into ebXML and SOAP envelopes.
const (
	// ServiceMM is the eb:Service of the PORX medicines-management interactions.
	ServiceMM = "urn:nhs:names:services:mm"
	// ServiceEbXML is the eb:Service of ebXML messaging-service messages
	// (acknowledgments and message errors).
	ServiceEbXML = "urn:oasis:names:tc:ebxml-msg:service"
	// ActionAcknowledgment is the eb:Action of an acknowledgment.
	ActionAcknowledgment = "Acknowledgment"
	// ActionMessageError is the eb:Action of a message error.
	ActionMessageError = "MessageError"
	// ErrorCodeContext is the eb:codeContext of ebXML service errors.
	ErrorCodeContext = "urn:oasis:names:tc:ebxml-msg:service:errors"
	// TMSCodeContext is the nasp:codeContext of Spine transport (TMS) errors.
	TMSCodeContext = "urn:nhs:names:error:tms"
	// PartyIDType is the eb:type of every eb:PartyId Spine exchanges.
	PartyIDType = "urn:nhs:names:partyType:ocs+serviceInstance"
	// HeaderContentID is the Content-Id (without angle brackets) of the
	// ebXML header part written by BuildMessage.
	HeaderContentID = "ebXMLHeader@spine.nhs.uk"
	// DefaultBoundary is the MIME boundary BuildMessage uses when none is given.
	DefaultBoundary = "--=_MIME-Boundary"
	// ContentIDDomain is appended to the MessageId to make the payload's
	// Content-Id when BuildMessage is given none.
	ContentIDDomain = "spine.nhs.uk"
	// ActorToPartyMSH is the SOAP:actor of eb:AckRequested and eb:Acknowledgment.
	ActorToPartyMSH = "urn:oasis:names:tc:ebxml-msg:actor:toPartyMSH"
	// ActorNextMSH is the other SOAP:actor ebMS 2.0 defines for
	// eb:AckRequested (an acknowledgment from the next MSH on the path).
	ActorNextMSH = "urn:oasis:names:tc:ebxml-msg:actor:nextMSH"
	// ActorNext is the SOAP:actor of eb:SyncReply.
	ActorNext = "http://schemas.xmlsoap.org/soap/actor/next"
	// ASIDRoot is the OID of an accredited system id (ASID).
	ASIDRoot = "1.2.826.0.1285.0.2.0.107"
	// TimestampLayout is how builders write eb:Timestamp (UTC, seconds).
	TimestampLayout = "2006-01-02T15:04:05Z"
)
