package journal

import (
	"strings"

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
// It is liberal: anything unreadable is simply not found. The writer reads
// every v3 payload of every exchange: most are read in one pass that builds
// nothing (walkV3), the rest into a tree (readV3Tree); the same visitor
// (factsOf) takes the facts from either.
func readV3(payload string) payloadFacts {
	if f, ok := walkV3(payload); ok {
		return f
	}
	return readV3Tree(payload)
}

// walkV3 is readV3 over v3.WalkXML; ok is false for a payload WalkXML
// does not read.
func walkV3(payload string) (payloadFacts, bool) {
	return factsOf(func(v v3.XMLVisitor) bool { return v3.WalkXML(payload, v) })
}

// readV3Tree is readV3 over the payload's tree, for what walkV3 does not
// read.
func readV3Tree(payload string) payloadFacts {
	doc, err := v3.ReadXML([]byte(payload))
	if err != nil || doc.Root() == nil {
		return payloadFacts{}
	}
	f, _ := factsOf(func(v v3.XMLVisitor) bool { v3.WalkTree(doc.Root(), v); return true })
	return f
}

// factsOf reads the facts out of the elements read passes its visitor in
// document order; ok is read's (false: the facts are not to be used).
func factsOf(read func(v3.XMLVisitor) bool) (f payloadFacts, ok bool) {
	var oc outcomeCodes
	// The tree is read in document order: a targetMessage or messageRef
	// gives its first id child's root when it is met, before what is
	// inside it. refs keeps those roots in that order (filled in when the
	// id comes); open holds, for each open element, the index in refs of
	// the one whose first id is still to come, or -1. rootID: the root's
	// first id child is still to come.
	var refs []string
	var openRoom [64]int
	open := openRoom[:0]
	rootID := true
	digests, lastDigest := 0, -1 // DigestValue elements started; the index of the one that counts
	var digestStack []int
	ok = read(v3.XMLVisitor{
		Start: func(e *v3.XMLElement) {
			if e.Depth == 1 {
				f.interaction = e.Tag
			}
			if e.Tag == "id" {
				if e.Depth == 2 && rootID {
					rootID = false
					if r := e.Attr("root", ""); r != "" {
						f.ids.MessageIDs = append(f.ids.MessageIDs, r)
					}
				}
				if n := len(open); n > 0 && open[n-1] >= 0 {
					refs[open[n-1]], open[n-1] = e.Attr("root", ""), -1
				}
			}
			switch e.Tag {
			case "id", "value":
				f.ids.addIdentifier(e.Attr("root", ""), e.Attr("extension", ""))
				if e.Tag == "value" && (e.Parent == "pertinentResponse" || e.Parent == "pertinentRejectionReason") {
					oc.response(e.Attr("code", ""), e.Attr("displayName", ""))
				}
			case "acknowledgement":
				oc.acknowledgement(e.Attr("typeCode", ""))
			case "code":
				oc.code(e.Parent, e.Attr("code", ""), e.Attr("displayName", ""))
			case "DigestValue":
				sig(&f)
				lastDigest = digests
				digestStack = append(digestStack, digests)
				digests++
			case "DigestMethod":
				sig(&f).DigestAlgorithm = e.Attr("Algorithm", "")
			case "SignatureMethod":
				sig(&f).Algorithm = e.Attr("Algorithm", "")
			}
			ref := -1
			if e.Tag == "targetMessage" || e.Tag == "messageRef" {
				ref = len(refs)
				refs = append(refs, "")
			}
			open = append(open, ref)
		},
		End: func(e *v3.XMLElement) {
			open = open[:len(open)-1]
			if e.Tag == "DigestValue" {
				// The tree is read in document order, each DigestValue
				// setting the digest: the one that started last wins.
				n := digestStack[len(digestStack)-1]
				digestStack = digestStack[:len(digestStack)-1]
				if n == lastDigest {
					sig(&f).Digest = strings.TrimSpace(e.Text)
				}
			}
		},
	})
	if !ok {
		return payloadFacts{}, false
	}
	for _, r := range refs {
		addOnce(&f.ids.RefToMessageIDs, r)
	}
	f.outcome = oc.outcome(f.interaction)
	return f, true
}

// sig returns f's signature, making it when needed.
func sig(f *payloadFacts) *Signature {
	if f.signature == nil {
		f.signature = &Signature{}
	}
	return f.signature
}

// outcomeCodes are the codes of a v3 answer's outcome, the first of each
// kind met in document order.
type outcomeCodes struct{ ack, ackCode, ackText, issueCode, issueText, respCode, respText string }

// acknowledgement takes an acknowledgement element's typeCode.
func (o *outcomeCodes) acknowledgement(typeCode string) {
	if o.ack == "" {
		o.ack = typeCode
	}
}

// code takes a code element's code and displayName, by its parent's tag.
func (o *outcomeCodes) code(parent, code, display string) {
	switch parent {
	case "acknowledgementDetail":
		if o.ackCode == "" {
			o.ackCode, o.ackText = code, display
		}
	case "justifyingDetectedIssueEvent", "detectedIssueEvent", "cancellationResponseReason", "rejectionReason":
		if o.issueCode == "" {
			o.issueCode, o.issueText = code, display
		}
	}
}

// response takes a pertinentResponse's value, a Cancel Response's outcome
// (code system 2.16.840.1.113883.2.1.3.2.4.17.19: 0001 cancelled, 0002
// and 0003 pending with the dispenser, 0004–0010 not cancelled), or a
// pertinentRejectionReason's, a Prescription Release Rejection's reason.
func (o *outcomeCodes) response(code, display string) {
	if o.respCode == "" {
		o.respCode, o.respText = code, display
	}
}

// outcome words the business outcome of the answer interaction: the
// value where a Cancel Response or a Release Rejection says it comes
// before the other issue codes.
func (o *outcomeCodes) outcome(interaction string) *Outcome {
	issueCode, issueText := o.issueCode, o.issueText
	if o.respCode != "" {
		issueCode, issueText = o.respCode, o.respText
	}
	return outcomeOf(interaction, o.ack, o.ackCode, o.ackText, issueCode, issueText)
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
		if issueCode != "" {
			code, text = issueCode, issueText
		}
		return &Outcome{Result: "not-released", Code: code, Text: orText(text, "release rejected")}
	case v3.CancelResponse, v3.SubsequentCancelResponse:
		// What became of the cancellation is the response's code, not an
		// acknowledgement detail.
		if issueCode != "" {
			code, text = issueCode, issueText
		}
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

// addIdentifier adds an identifier (an II: root OID and extension) to the
// list its OID says, when it is one the journal indexes.
func (ids *IDs) addIdentifier(rootOID, ext string) {
	if ext == "" {
		return
	}
	switch rootOID {
	case oidNHSNumber:
		addOnce(&ids.NHSNumbers, ext)
	case oidODSCode:
		addOnce(&ids.ODSCodes, ext)
	case oidShortFormRxID, oidShortFormRxID2:
		addOnce(&ids.PrescriptionIDs, ext)
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

// PrescriptionIDsOf returns the short-form prescription ids a v3 payload
// carries (as the journal indexes them), or none.
func PrescriptionIDsOf(payload []byte) []string {
	if len(payload) == 0 {
		return nil
	}
	return readV3(string(payload)).ids.PrescriptionIDs
}
