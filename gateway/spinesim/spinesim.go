package spinesim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// Options configure the stand-in.
type Options struct {
	// State is the simulator state Spine's decisions come from; nil: a
	// fresh one of its own.
	State *sim.State
	// Faults are injected into the state's FHIR face (e.g. a forced error).
	Faults sim.Faults
	// Alter, when set, changes each answer before it is sent (a difference
	// injected on the legacy side).
	Alter func(interaction string, answer []byte) []byte
	// Now and NewID are the clock and id generator (defaults: time.Now,
	// random UUIDs).
	Now   func() time.Time
	NewID func() string
	// Log receives one line per message.
	Log *slog.Logger
}

// Server is the Spine stand-in.
type Server struct {
	opts Options
	sim  *sim.Server
	proc *gateway.EPSProcessor
}

// New returns a stand-in over opts.State (or a state of its own).
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = ids.NewUUID
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.State == nil {
		opts.State = sim.NewState(nil)
	}
	s := &Server{opts: opts}
	s.sim = sim.New(sim.Options{State: opts.State, Faults: opts.Faults, Now: opts.Now, NewID: opts.NewID, Logger: opts.Log})
	s.proc = gateway.NewEPSProcessor(mapping.NewRegistry(), inProcess{h: s.sim.Handler()}, opts.Now, opts.NewID, opts.Log)
	return s
}

// State returns the state Spine's decisions come from.
func (s *Server) State() *sim.State { return s.sim.State() }

// ServeHTTP answers one ebXML request with its v3 answer (multipart ebXML,
// 200), an ebXML MessageError for what cannot be read (500), as Spine does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, "read: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/") {
		s.serveSOAP(w, r, body)
		return
	}
	msg, err := ebxml.ParseRequest(r.Header.Get("Content-Type"), r.Header.Get("SOAPAction"), body)
	var me *ebxml.MessageError
	switch {
	case errors.As(err, &me):
	case err != nil:
		me = ebxml.NewMessageError(ebxml.CodeOtherXML, 0, "not an ebXML message: "+err.Error())
	case msg.Payload == nil:
		me = ebxml.NewMessageError(ebxml.CodeMimeProblem, 0, "no HL7 payload part")
	}
	if me != nil {
		s.refuse(w, msg, me)
		return
	}
	_, fam, _ := v3.Canonical(msg.Action)
	in := &gateway.Inbound{Transport: gateway.TransportEbXML, Interaction: msg.Action, Family: fam, Service: msg.Service,
		MessageID: msg.MessageID, ConversationID: msg.ConversationID, FromParty: msg.FromPartyID, ToParty: msg.ToPartyID,
		CPAID: msg.CPAID, ReceivedAt: s.opts.Now(), Payload: msg.Payload.Body}
	if !s.proc.Supports(in.Interaction) {
		s.refuse(w, msg, ebxml.NewMessageError(ebxml.CodeNotSupported, 0, "interaction "+in.Interaction+" not supported by the stand-in"))
		return
	}
	out, err := s.proc.Process(r.Context(), in)
	if err != nil || out == nil || len(out.Answers) == 0 {
		http.Error(w, fmt.Sprintf("no answer: %v", err), http.StatusInternalServerError)
		return
	}
	a := out.Answers[0]
	payload := a.Payload
	if s.opts.Alter != nil {
		payload = s.opts.Alter(a.Interaction, payload)
	}
	ct, resp, err := ebxml.BuildMessage(ebxml.OutboundMessage{FromPartyID: msg.ToPartyID, ToPartyID: msg.FromPartyID, CPAID: msg.CPAID,
		ConversationID: msg.ConversationID, Service: msg.Service, Action: a.Interaction, MessageID: strings.ToUpper(s.opts.NewID()),
		Timestamp: s.opts.Now().UTC(), RefToMessageID: msg.MessageID, Payload: payload})
	if err != nil {
		http.Error(w, "build answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	s.opts.Log.Info("spine stand-in answered", "message_id", msg.MessageID, "interaction", msg.Action, "answer", a.Interaction)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("SOAPAction", `"`+ebxml.ServiceMM+"/"+a.Interaction+`"`)
	_, _ = w.Write(resp)
}

// refuse answers an ebXML message with the eb:MessageError me (HTTP 500),
// as Spine refuses a message it will not take; msg is what was read of
// the message, if anything.
func (s *Server) refuse(w http.ResponseWriter, msg *ebxml.Message, me *ebxml.MessageError) {
	b, err := ebxml.BuildMessageError(msg, strings.ToUpper(s.opts.NewID()), s.opts.Now().UTC(), me)
	if err != nil {
		http.Error(w, "build MessageError: "+err.Error(), http.StatusInternalServerError)
		return
	}
	s.opts.Log.Info("spine stand-in refused", "error_code", me.Code, "description", me.Description())
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(b)
}

// serveSOAP answers one SOAP sync request with its v3 answer in a SOAP
// response, or a SOAP fault.
func (s *Server) serveSOAP(w http.ResponseWriter, r *http.Request, body []byte) {
	m, err := ebxml.ParseSOAPRequest(body)
	if err != nil {
		http.Error(w, "not a SOAP request: "+err.Error(), http.StatusInternalServerError)
		return
	}
	action := m.Action[strings.LastIndex(m.Action, "/")+1:]
	id := strings.TrimPrefix(m.MessageID, "uuid:")
	_, fam, _ := v3.Canonical(action)
	in := &gateway.Inbound{Transport: gateway.TransportSOAP, Interaction: action, Family: fam, Service: ebxml.ServiceMM,
		MessageID: id, FromASID: m.SenderASID, ToASID: m.ReceiverASID, FromAddress: m.FromAddress, ReceivedAt: s.opts.Now(), Payload: m.Payload}
	var out *gateway.Outcome
	if s.proc.Supports(action) {
		out, err = s.proc.Process(r.Context(), in)
	}
	if err != nil || out == nil || out.Reply == nil {
		f := ebxml.SOAPFault{FaultString: fmt.Sprintf("no answer for %s: %v", action, err)}
		if out != nil && out.Fault != nil {
			f = *out.Fault
		}
		b, _ := ebxml.BuildSOAPFault(f)
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(b)
		return
	}
	payload := out.Reply.Payload
	if s.opts.Alter != nil {
		payload = s.opts.Alter(out.Reply.Interaction, payload)
	}
	b, err := ebxml.BuildSOAPResponse(ebxml.SOAPResponse{MessageID: s.opts.NewID(), Action: ebxml.ServiceMM + "/" + out.Reply.Interaction,
		ReceiverASID: m.SenderASID, SenderASID: m.ReceiverASID, RelatesTo: m.MessageID, Payload: payload})
	if err != nil {
		http.Error(w, "build answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	s.opts.Log.Info("spine stand-in answered (SOAP)", "message_id", id, "interaction", action, "answer", out.Reply.Interaction)
	w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
	_, _ = w.Write(b)
}

// inProcess calls the simulator's FHIR face in-process.
type inProcess struct{ h http.Handler }

// call runs one FHIR request through the handler.
func (p inProcess) call(ctx context.Context, path string, body []byte) (*upstream.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sim.DefaultBasePath+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("spine stand-in: %w", err)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("X-Request-ID", ids.NewUUID())
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	p.h.ServeHTTP(rec, req)
	return &upstream.Response{Status: rec.status, Body: rec.body.Bytes(), Header: rec.header, Attempts: 1}, nil
}

// ProcessMessage implements gateway.EPSAPI.
func (p inProcess) ProcessMessage(ctx context.Context, b []byte) (*upstream.Response, error) {
	return p.call(ctx, "/$process-message", b)
}

// Release implements gateway.EPSAPI.
func (p inProcess) Release(ctx context.Context, b []byte) (*upstream.Response, error) {
	return p.call(ctx, "/Task/$release", b)
}

// PostTask implements gateway.EPSAPI.
func (p inProcess) PostTask(ctx context.Context, b []byte) (*upstream.Response, error) {
	return p.call(ctx, "/Task", b)
}

// PostClaim implements gateway.EPSAPI.
func (p inProcess) PostClaim(ctx context.Context, b []byte) (*upstream.Response, error) {
	return p.call(ctx, "/Claim", b)
}

// recorder is a minimal http.ResponseWriter that keeps the answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
