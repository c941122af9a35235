package ebxml

import (
	"time"
)

// BuildMessageError writes the eb:MessageError envelope (Content-Type
// text/xml, sent as an HTTP 500 body) that reports errs about received.
// messageID is the error message's own MessageId (written upper-case) and
// now its time. Each error becomes an eb:Error with codeContext
// ErrorCodeContext, its errorCode, severity and eb:Description
// "Number:Text"; eb:highestSeverity is Error when any error is.
//
// When received carries a complete header (as a *Message returned with a
// ParseRequest error may not), the envelope has an eb:MessageHeader
// addressed back to the sender (From and To swapped, same CPAId and
// ConversationId, Service ServiceEbXML, Action MessageError,
// RefToMessageId = received.MessageID). Otherwise (received nil or
// incomplete) it holds the eb:ErrorList alone.
func BuildMessageError(received *Message, messageID string, now time.Time, errs ...*MessageError) ([]byte, error) {
	if len(errs) == 0 {
		return nil, &BuildError{What: "BuildMessageError", Missing: []string{"errs"}}
	}
	for _, e := range errs {
		if e == nil {
			return nil, &BuildError{What: "BuildMessageError", Missing: []string{"errs (nil entry)"}}
		}
	}
	addressable := received != nil && received.MessageID != "" && received.FromPartyID != "" &&
		received.ToPartyID != "" && received.CPAID != "" && received.ConversationID != ""
	if addressable {
		if err := missing("BuildMessageError", [2]string{"messageID", messageID}); err != nil {
			return nil, err
		}
	}
	highest := SeverityWarning
	for _, e := range errs {
		if e.severity() == SeverityError {
			highest = SeverityError
		}
	}
	var w writer
	w.envelopeStart("")
	if addressable {
		w.messageHeader(replyHeader(received, ActionMessageError, messageID, now))
	}
	w.s(`    <eb:ErrorList SOAP:mustUnderstand="1" eb:highestSeverity="`, highest, "\" eb:version=\"2.0\">\n")
	for _, e := range errs {
		w.s(`      <eb:Error eb:codeContext="`, ErrorCodeContext, `" eb:errorCode="`)
		w.t(string(e.Code))
		w.s(`" eb:severity="`)
		w.t(e.severity())
		if e.Location != "" {
			w.s(`" eb:location="`)
			w.t(e.Location)
		}
		w.s("\">\n", `        <eb:Description xml:lang="en-GB">`)
		w.t(e.Description())
		w.s("</eb:Description>\n", "      </eb:Error>\n")
	}
	w.s("    </eb:ErrorList>\n  </SOAP:Header>\n  <SOAP:Body/>\n</SOAP:Envelope>\n")
	return w.Bytes(), nil
}
