package cancels

import (
	"log/slog"
	"regexp"

	"github.com/porxgate/porxgate/gateway/logctx"
)

// interactionRootRE finds the interaction a v3 payload's root element names.
var interactionRootRE = regexp.MustCompile(`<(?:[A-Za-z][\w.-]*:)?([A-Z]{4}_IN\d{6}[A-Z]{2}\d{2})\b`)

// logAttrs are the correlation fields of a tracked cancellation: those
// of the cancel request it answers (always an ebXML exchange), so that the
// poller's, the EPS tracker call's and the Subsequent Cancel Response's
// lines join its exchange.
func logAttrs(rec Record) []slog.Attr {
	attrs := []slog.Attr{
		slog.String(logctx.KeyMessageID, rec.MessageID),
		slog.String(logctx.KeyParty, rec.SenderPartyID),
		slog.String(logctx.KeyTransport, "ebxml"),
	}
	if rec.ConversationID != "" {
		attrs = append(attrs, slog.String(logctx.KeyConversationID, rec.ConversationID))
	}
	if i := requestInteraction(rec); i != "" {
		attrs = append(attrs, slog.String(logctx.KeyInteraction, i))
	}
	return attrs
}

// requestInteraction is the interaction of a tracked cancellation's
// request, read from its payload's root ("" when unreadable).
func requestInteraction(rec Record) string {
	if m := interactionRootRE.FindSubmatch(rec.Request); m != nil {
		return string(m[1])
	}
	return ""
}

// logArgs are logAttrs and the cancellation's prescription and line item
// as logger arguments.
func logArgs(rec Record) []any {
	return append(attrArgs(logAttrs(rec)), "prescription", rec.PrescriptionID, "line_item", rec.LineItem)
}

// attrArgs turns attributes into logger arguments.
func attrArgs(attrs []slog.Attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}
