package gateway

import (
	"context"
	"html"
	"log/slog"
	"regexp"
	"strings"

	"github.com/porxgate/porxgate/gateway/logctx"
	"github.com/porxgate/porxgate/gateway/tracing"
)

// correlation is the one set of fields every log line of an exchange
// carries (logctx's keys): the legacy MessageId, ConversationId (ebXML),
// interaction, party (eb:PartyId over ebXML, the ASID over SOAP) and
// transport.
func correlation(in *Inbound) []slog.Attr {
	party := in.FromParty
	if party == "" {
		party = in.FromASID
	}
	attrs := []slog.Attr{
		slog.String(logctx.KeyMessageID, in.MessageID),
		slog.String(logctx.KeyInteraction, in.Interaction),
		slog.String(logctx.KeyParty, party),
		slog.String(logctx.KeyTransport, string(in.Transport)),
	}
	if in.ConversationID != "" {
		attrs = append(attrs, slog.String(logctx.KeyConversationID, in.ConversationID))
	}
	if id := tracing.TraceIDOf(in.TraceParent); id != "" {
		attrs = append(attrs, slog.String(logctx.KeyOTelTraceID, id))
	}
	return attrs
}

// inboundArgs is correlation(in) as logger arguments.
func inboundArgs(in *Inbound) []any { return attrArgs(correlation(in)) }

// withCorrelation returns ctx carrying in's correlation fields, for every
// line logged with it (the processor's, the EPS client's).
func withCorrelation(ctx context.Context, in *Inbound) context.Context {
	return logctx.With(ctx, correlation(in)...)
}

// inboundLog returns log with the correlation fields of in.
func inboundLog(log *slog.Logger, in *Inbound) *slog.Logger {
	return log.With(inboundArgs(in)...)
}

// lazyInboundLog returns inboundLog(log, in) as a function that builds it
// at its first call: a message processed without a hitch logs nothing
// above info, and attaching the fields costs about 4 µs and 18
// allocations, which every message paid at warn level for a logger
// nothing used.
func lazyInboundLog(log *slog.Logger, in *Inbound) func() *slog.Logger {
	var l *slog.Logger
	return func() *slog.Logger {
		if l == nil {
			l = inboundLog(log, in)
		}
		return l
	}
}

// ackDetailRE reads a coded detail of an answer at the start of its
// start tag (firstTagMatch; a match spans two ">"): an
// acknowledgementDetail's code, or a reason's (a rejection's
// justifyingDetectedIssueEvent), with its attributes.
var ackDetailRE = regexp.MustCompile(`^<(?:[A-Za-z][\w.-]*:)?(?:acknowledgementDetail|justifyingDetectedIssueEvent)\b[^>]*>\s*<(?:[A-Za-z][\w.-]*:)?code\b([^>]*)>`)

// ackDetailNames are the elements ackDetailRE reads.
var ackDetailNames = [][]byte{[]byte("acknowledgementDetail"), []byte("justifyingDetectedIssueEvent")}

// attrRE reads one attribute of an element's attribute text.
var attrRE = regexp.MustCompile(`\b(code|displayName)\s*=\s*["']([^"']*)["']`)

// outcomeTexts are the texts of outcomes whose answer names none.
var outcomeTexts = map[string]string{
	"AA": "accepted", "AE": "application error", "AR": "rejected",
	OutcomeAnswered: "answered", OutcomeNoAnswer: "nothing to answer", OutcomeRefused: "refused",
}

// outcomeDetail is the business outcome of a processed message as code
// and text for the exchange's log line: the refusal's code and
// description, else the first coded detail of the answer (Spine's error
// code and display name), else the outcome itself with its text.
func outcomeDetail(out *Outcome) (code, text string) {
	outcome := exchangeOutcome(out)
	switch {
	case out == nil:
	case out.MessageError != nil:
		return string(out.MessageError.Code), out.MessageError.Description()
	case out.Fault != nil:
		if len(out.Fault.Errors) > 0 {
			return out.Fault.Errors[0].Code, out.Fault.Errors[0].Description
		}
		return "fault", out.Fault.FaultString
	default:
		answers := out.Answers
		if out.Reply != nil {
			answers = append([]Answer{*out.Reply}, answers...)
		}
		for _, a := range answers {
			m := firstTagMatch(a.Payload, ackDetailRE, 2, ackDetailNames...)
			if m == nil {
				continue
			}
			for _, kv := range attrRE.FindAllSubmatch(m[1], -1) {
				switch string(kv[1]) {
				case "code":
					code = string(kv[2])
				case "displayName":
					text = spineText(string(kv[2]))
				}
			}
			if code != "" {
				return code, text
			}
		}
	}
	return outcome, outcomeTexts[outcome]
}

// spineText is the part of an answer's displayName Spine's tables give
// (XML escapes read): "Unable to process message. Information missing or
// invalid - <detail>" loses its detail, which repeats EPS's diagnostics
// or the mapping's error text and may quote the patient (the sender has
// it in the answer; the journal keeps it behind the admin listener).
func spineText(display string) string {
	display = html.UnescapeString(display)
	if fixed, _, ok := strings.Cut(display, " - "); ok {
		return fixed
	}
	return display
}

// outcomeArgs are the log fields of an exchange's business outcome.
func outcomeArgs(out *Outcome) []any {
	code, text := outcomeDetail(out)
	return []any{"outcome", exchangeOutcome(out), "outcome_code", code, "outcome_text", text}
}

// attrArgs turns attributes into logger arguments.
func attrArgs(attrs []slog.Attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}
