package journal

import (
	"strings"

	"github.com/beevik/etree"

	v3 "github.com/porxgate/porxgate/v3"
)

// OIDs of the identifiers read out of v3 payloads.
const (
	oidNHSNumber      = "2.16.840.1.113883.2.1.4.1"
	oidODSCode        = "1.2.826.0.1285.0.1.10"
	oidShortFormRxID  = "2.16.840.1.113883.2.1.3.2.4.18.8"
	oidShortFormRxID2 = "2.16.840.1.113883.2.1.3.2.4.18.22" // some SM-family messages
)

// payloadFacts is what the writer reads out of a v3 payload.
type payloadFacts struct {
	interaction string
	ids         IDs
	signature   *Signature
	outcome     *Outcome
}

// readV3 reads ids, signature and business outcome out of a v3 payload.
// It is liberal: anything unreadable is simply not found.
func readV3(payload string) payloadFacts {
	var f payloadFacts
	// v3.ReadXML builds the document etree's reader would, several times
	// faster: the writer reads every v3 payload of every exchange.
	doc, err := v3.ReadXML([]byte(payload))
	if err != nil {
		return f
	}
	root := doc.Root()
	if root == nil {
		return f
	}
	f.interaction = root.Tag
	if id := root.SelectElement("id"); id != nil {
		if r := id.SelectAttrValue("root", ""); r != "" {
			f.ids.MessageIDs = append(f.ids.MessageIDs, r)
		}
	}
	var ack, ackCode, ackText, issueCode, issueText string
	walk(root, func(e *etree.Element) {
		switch e.Tag {
		case "id", "value":
			rootOID, ext := e.SelectAttrValue("root", ""), e.SelectAttrValue("extension", "")
			if ext == "" {
				return
			}
			switch rootOID {
			case oidNHSNumber:
				addOnce(&f.ids.NHSNumbers, ext)
			case oidODSCode:
				addOnce(&f.ids.ODSCodes, ext)
			case oidShortFormRxID, oidShortFormRxID2:
				addOnce(&f.ids.PrescriptionIDs, ext)
			}
		case "acknowledgement":
			if ack == "" {
				ack = e.SelectAttrValue("typeCode", "")
			}
		case "conveyingTransmission":
			// wraps the request being answered; its id is the RefToMessageId
		case "targetMessage", "messageRef":
			if id := e.SelectElement("id"); id != nil {
				addOnce(&f.ids.RefToMessageIDs, id.SelectAttrValue("root", ""))
			}
		case "code":
			p := e.Parent()
			if p == nil {
				return
			}
			switch p.Tag {
			case "acknowledgementDetail":
				if ackCode == "" {
					ackCode, ackText = e.SelectAttrValue("code", ""), e.SelectAttrValue("displayName", "")
				}
			case "justifyingDetectedIssueEvent", "detectedIssueEvent", "cancellationResponseReason", "rejectionReason":
				if issueCode == "" {
					issueCode, issueText = e.SelectAttrValue("code", ""), e.SelectAttrValue("displayName", "")
				}
			}
		case "DigestValue":
			sig(&f).Digest = strings.TrimSpace(e.Text())
		case "DigestMethod":
			sig(&f).DigestAlgorithm = e.SelectAttrValue("Algorithm", "")
		case "SignatureMethod":
			sig(&f).Algorithm = e.SelectAttrValue("Algorithm", "")
		}
	})
	f.outcome = outcomeOf(f.interaction, ack, ackCode, ackText, issueCode, issueText)
	return f
}

// sig returns f's signature, making it when needed.
func sig(f *payloadFacts) *Signature {
	if f.signature == nil {
		f.signature = &Signature{}
	}
	return f.signature
}

// outcomeOf words the business outcome of a v3 answer; nil for a request.
func outcomeOf(interaction, ack, ackCode, ackText, issueCode, issueText string) *Outcome {
	canon, _, err := v3.Canonical(interaction)
	if err != nil {
		canon = interaction
	}
	code, text := ackCode, ackText
	if code == "" {
		code, text = issueCode, issueText
	}
	switch canon {
	case v3.ApplicationAcknowledgement:
		switch ack {
		case "AA":
			return &Outcome{Result: "accepted", Code: "AA", Text: "accepted by Spine/EPS"}
		case "AE":
			return &Outcome{Result: "rejected", Code: code, Text: orText(text, "rejected (AE)")}
		case "AR":
			return &Outcome{Result: "refused", Code: code, Text: orText(text, "refused (AR)")}
		}
		return &Outcome{Result: "error", Code: code, Text: orText(text, "acknowledgement without a type code")}
	case v3.NominatedReleaseResponse, v3.PatientReleaseResponse:
		return &Outcome{Result: "released", Text: "prescription(s) released to the dispenser"}
	case v3.ReleaseRejection:
		return &Outcome{Result: "not-released", Code: code, Text: orText(text, "release rejected")}
	case v3.CancelResponse, v3.SubsequentCancelResponse:
		switch code {
		case "", "0001":
			return &Outcome{Result: "cancelled", Code: code, Text: orText(text, "prescription cancelled")}
		case "0002", "0003":
			return &Outcome{Result: "pending", Code: code, Text: orText(text, "cancellation pending with the dispenser")}
		}
		return &Outcome{Result: "not-cancelled", Code: code, Text: orText(text, "not cancelled")}
	}
	return nil
}

// orText returns s, or def when s is empty.
func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// walk calls fn for e and every element under it.
func walk(e *etree.Element, fn func(*etree.Element)) {
	fn(e)
	for _, c := range e.ChildElements() {
		walk(c, fn)
	}
}

// addOnce appends v to l unless it is empty or there already.
func addOnce(l *[]string, v string) {
	if v == "" {
		return
	}
	for _, x := range *l {
		if x == v {
			return
		}
	}
	*l = append(*l, v)
}
