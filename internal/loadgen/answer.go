package loadgen

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/porxgate/porxgate/ebxml"
)

// answerFields are what the receiver needs of a delivered answer: the
// conversation it answers, its code, and what its eb:Acknowledgment
// repeats.
type answerFields struct {
	from, to, cpaID, conversationID, messageID, action string
	// ackRequested says the header holds an eb:AckRequested, ackActor its
	// SOAP actor.
	ackRequested bool
	ackActor     string
	// code is the HL7 acknowledgement typeCode, or action when there is none.
	code string
}

// message is the header of f as ebxml.BuildAcknowledgment reads it.
func (f answerFields) message() *ebxml.Message {
	return &ebxml.Message{FromPartyID: f.from, ToPartyID: f.to, CPAID: f.cpaID, ConversationID: f.conversationID,
		MessageID: f.messageID, Action: f.action, AckRequested: f.ackRequested, AckRequestedActor: f.ackActor}
}

// fieldsOf is answerFields of a message ebxml.ParseRequest read.
func fieldsOf(m *ebxml.Message) answerFields {
	return answerFields{from: m.FromPartyID, to: m.ToPartyID, cpaID: m.CPAID, conversationID: m.ConversationID,
		messageID: m.MessageID, action: m.Action, ackRequested: m.AckRequested, ackActor: m.AckRequestedActor, code: answerCode(m)}
}

// ackKey tells apart the eb:Acknowledgments whose markup is the same but
// for the ids and times written over its stand-ins: those of one sender
// (parties, CPA, AckRequested actor) with ids of the same lengths.
type ackKey struct {
	from, to, cpaID, actor string
	conversation, ref      int
}

// ackTemplate is an eb:Acknowledgment made once by
// ebxml.BuildAcknowledgment with stand-ins, and where they stand.
type ackTemplate struct {
	buf                          []byte
	conversation, ref, id, stamp []int
}

// ackTemplates are the receiver's acknowledgments made once (nil for a
// key whose stand-ins could not be told apart: built each time).
type ackTemplates struct {
	mu sync.Mutex
	m  map[ackKey]*ackTemplate
}

// ackIDStandIn stands for the acknowledgment's own MessageId.
const ackIDStandIn = "````````-````-````-````-````````````"

// appendAck appends to dst the eb:Acknowledgment of the answer f, with
// id (an upper-case UUID) as its MessageId, sent at now: the bytes
// ebxml.BuildAcknowledgment writes (TestAckTemplateIsBuildAcknowledgment),
// from a template once one is made for f's sender, which cost a fifth of
// the receiver's instructions an answer when written each time.
func (a *ackTemplates) appendAck(dst []byte, f answerFields, id string, now time.Time) ([]byte, error) {
	if !plainID(f.conversationID) || !plainID(f.messageID) || len(id) != len(ackIDStandIn) {
		return a.build(dst, f, id, now)
	}
	k := ackKey{from: f.from, to: f.to, cpaID: f.cpaID, actor: f.ackActor, conversation: len(f.conversationID), ref: len(f.messageID)}
	a.mu.Lock()
	t, ok := a.m[k]
	a.mu.Unlock()
	if !ok {
		var err error
		if t, err = newAckTemplate(f); err != nil {
			return dst, err
		}
		a.mu.Lock()
		if a.m == nil {
			a.m = map[ackKey]*ackTemplate{}
		}
		a.m[k] = t
		a.mu.Unlock()
	}
	if t == nil {
		return a.build(dst, f, id, now)
	}
	start := len(dst)
	dst = append(dst, t.buf...)
	b := dst[start:]
	for _, o := range t.conversation {
		copy(b[o:], f.conversationID)
	}
	for _, o := range t.ref {
		copy(b[o:], f.messageID)
	}
	for _, o := range t.id {
		copy(b[o:], id)
	}
	var stamp [len(ebxml.TimestampLayout)]byte
	now.UTC().AppendFormat(stamp[:0], ebxml.TimestampLayout)
	for _, o := range t.stamp {
		copy(b[o:], stamp[:])
	}
	return dst, nil
}

// build appends the acknowledgment of f written anew.
func (a *ackTemplates) build(dst []byte, f answerFields, id string, now time.Time) ([]byte, error) {
	ack, err := ebxml.BuildAcknowledgment(f.message(), id, now)
	if err != nil {
		return dst, fmt.Errorf("receiver: acknowledgment: %w", err)
	}
	return append(dst, ack...), nil
}

// newAckTemplate makes the acknowledgment template of f's sender: nil
// (and no error) when a stand-in is not found as often as it is written,
// as when a party id holds one.
func newAckTemplate(f answerFields) (*ackTemplate, error) {
	conv, ref := strings.Repeat("~", len(f.conversationID)), strings.Repeat("^", len(f.messageID))
	g := f
	g.conversationID, g.messageID = conv, ref
	ack, err := ebxml.BuildAcknowledgment(g.message(), ackIDStandIn, stampStandIn)
	if err != nil {
		return nil, fmt.Errorf("receiver: acknowledgment: %w", err)
	}
	t := &ackTemplate{buf: ack, conversation: offsets(ack, conv), ref: offsets(ack, ref),
		id: offsets(ack, ackIDStandIn), stamp: offsets(ack, ebxmlStamp(stampStandIn))}
	// eb:ConversationId; eb:MessageData's and eb:Acknowledgment's
	// RefToMessageId and Timestamp; eb:MessageId.
	if len(t.conversation) != 1 || len(t.ref) != 2 || len(t.id) != 1 || len(t.stamp) != 2 {
		return nil, nil
	}
	return t, nil
}

// plainID reports whether an id is written as it is in XML text: printable
// ASCII that needs no escape.
func plainID(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '&' || c == '<' || c == '>' || c == '"' {
			return false
		}
	}
	return s != ""
}
