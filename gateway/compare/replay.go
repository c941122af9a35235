package compare

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/porxgate/porxgate/ebxml"
)

// Recorded is one recorded legacy exchange: the request a legacy system
// sent and the answer Spine gave.
type Recorded struct {
	// Name is the exchange's name (its files' common prefix).
	Name string
	// Request and Answer are the HL7 v3 payloads.
	Request, Answer []byte
	// SOAP is set when the request was recorded as a SOAP sync request
	// (its envelope): its sender gets its answer, or a SOAP fault, in the
	// HTTP response.
	SOAP bool
}

// Suffixes of a recorded exchange's files in a replay folder.
const (
	RequestSuffix = ".request.xml"
	AnswerSuffix  = ".answer.xml"
)

// LoadRecorded reads a replay folder: every NAME.request.xml with its
// NAME.answer.xml (the HL7 payloads, as an MHS logs them; or the SOAP
// envelopes of a sync exchange, whose HL7 payloads are taken out, a SOAP
// fault answer being kept as it is: Spine's refusal). A request without
// an answer is an error: it cannot be compared.
func LoadRecorded(dir string) ([]Recorded, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*"+RequestSuffix))
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("compare: no *%s files in %s", RequestSuffix, dir)
	}
	sort.Strings(names)
	out := make([]Recorded, 0, len(names))
	for _, rq := range names {
		name := strings.TrimSuffix(filepath.Base(rq), RequestSuffix)
		req, err := os.ReadFile(rq)
		if err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
		ans, err := os.ReadFile(filepath.Join(dir, name+AnswerSuffix))
		if err != nil {
			return nil, fmt.Errorf("compare: %s has no recorded answer: %w", name, err)
		}
		rec := Recorded{Name: name, Request: unwrapRecorded(req), Answer: unwrapRecorded(ans)}
		rec.SOAP = rootTag(req) == "Envelope" && rootTag(rec.Request) != "Envelope"
		out = append(out, rec)
	}
	return out, nil
}

// unwrapRecorded returns the HL7 payload of a recorded SOAP envelope (b
// itself when it is none, cannot be read as one, or is a SOAP fault).
func unwrapRecorded(b []byte) []byte {
	if rootTag(b) != "Envelope" {
		return b
	}
	if _, ok := readRefusal(b); ok {
		return b
	}
	if m, err := ebxml.ParseSOAPRequest(b); err == nil && len(m.Payload) > 0 {
		return m.Payload
	}
	return b
}

// Result is what replaying one recorded exchange gave.
type Result struct {
	Name        string   `json:"name"`
	Interaction string   `json:"interaction"`
	Result      string   `json:"result"` // match, differ, error; interrupted: cut short by a stop
	Differences []string `json:"differences,omitempty"`
	Error       string   `json:"error,omitempty"`
}

// settle sets r from a comparison: error when it could not be made, else
// match or differ with the differences.
func (r *Result) settle(diffs []string, err error) {
	switch {
	case err != nil:
		r.Result, r.Error = "error", err.Error()
	case len(diffs) == 0:
		r.Result = "match"
	default:
		r.Result, r.Differences = "differ", diffs
	}
}

// ResultInterrupted is the Result of the exchange a stop cut short.
const ResultInterrupted = "interrupted"

// Report is a replay's results with counts by interaction and result.
type Report struct {
	Results []Result                  `json:"results"`
	Counts  map[string]map[string]int `json:"counts"`
	// Total is the number of recorded exchanges the replay was given.
	Total int `json:"total"`
	// Interrupted is set when a stop (its context done) ended the replay
	// before every exchange was compared: the report is partial.
	Interrupted bool `json:"interrupted,omitempty"`
}

// OK reports whether every exchange was compared and matched. A partial
// (interrupted) replay is never OK.
func (r Report) OK() bool {
	if r.Interrupted || len(r.Results) != r.Total {
		return false
	}
	for _, x := range r.Results {
		if x.Result != "match" {
			return false
		}
	}
	return len(r.Results) > 0
}

// Compared is the number of exchanges compared (matched, differed or
// failed), the one a stop cut short not counted.
func (r Report) Compared() int {
	n := 0
	for _, x := range r.Results {
		if x.Result != ResultInterrupted {
			n++
		}
	}
	return n
}

// RunFunc runs one recorded legacy request (rec.Request, of interaction;
// over SOAP when rec.SOAP) down the FHIR path and returns its v3 answer,
// or the refusal its sender gets for it (a SOAP fault, or an ebXML
// MessageError as MessageErrorRefusal gives it); err when it gives neither.
type RunFunc func(ctx context.Context, interaction string, rec Recorded) (answer []byte, refusal *ebxml.SOAPFault, err error)

// Replay runs each recorded request through run, in order, and compares
// the FHIR path's answer with Spine's recorded one. Once ctx is done it
// runs no more: the report is then Interrupted, and a run that failed
// because of the stop is reported as cut short (Result "interrupted"),
// not as an error of the FHIR path.
func Replay(ctx context.Context, recs []Recorded, run RunFunc) Report {
	rep := Report{Counts: map[string]map[string]int{}, Total: len(recs)}
	for _, rec := range recs {
		if ctx.Err() != nil {
			rep.Interrupted = true
			break
		}
		res := Result{Name: rec.Name, Interaction: rootTag(rec.Request)}
		answer, refusal, err := run(ctx, res.Interaction, rec)
		switch {
		case err != nil && ctx.Err() != nil:
			res.Result, res.Error = ResultInterrupted, err.Error()
			rep.Interrupted = true
			rep.Results = append(rep.Results, res)
			return rep
		case err != nil:
			res.Result, res.Error = "error", err.Error()
		default:
			// Spine's recorded refusal, if it refused, and the FHIR
			// path's are compared as refusals, as in online mode.
			f, _ := readRefusal(rec.Answer)
			res.settle(CompareOutcomes(f, rec.Answer, refusal, answer, rec.Request, "spine", "fhir"))
		}
		if rep.Counts[res.Interaction] == nil {
			rep.Counts[res.Interaction] = map[string]int{}
		}
		rep.Counts[res.Interaction][res.Result]++
		rep.Results = append(rep.Results, res)
	}
	if len(rep.Results) < rep.Total {
		rep.Interrupted = true
	}
	return rep
}

// Progress says how far an interrupted replay got, e.g. "interrupted: 1
// of 4 exchanges compared; 02-x cut short; 2 not run"; "" for a replay
// that ran to its end.
func (r Report) Progress() string {
	if !r.Interrupted {
		return ""
	}
	s := fmt.Sprintf("interrupted: %d of %d exchanges compared", r.Compared(), r.Total)
	for _, x := range r.Results {
		if x.Result == ResultInterrupted {
			s += "; " + x.Name + " cut short"
		}
	}
	return s + fmt.Sprintf("; %d not run", r.Total-len(r.Results))
}

// WriteText writes the report for a person: one line per exchange, its
// differences indented, then the counts.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, x := range r.Results {
		fmt.Fprintf(&b, "%-7s %s (%s)%s\n", x.Result, x.Name, x.Interaction, errSuffix(x.Error))
		for _, d := range x.Differences {
			fmt.Fprintf(&b, "        %s\n", d)
		}
	}
	ints := make([]string, 0, len(r.Counts))
	for i := range r.Counts {
		ints = append(ints, i)
	}
	sort.Strings(ints)
	b.WriteString("\nby interaction:\n")
	for _, i := range ints {
		c := r.Counts[i]
		fmt.Fprintf(&b, "  %-20s match %d  differ %d  error %d\n", i, c["match"], c["differ"], c["error"])
	}
	if p := r.Progress(); p != "" {
		b.WriteString("\n" + p + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// isRefusal reports whether b is Spine's refusal (readRefusal).
func isRefusal(b []byte) bool {
	_, ok := readRefusal(b)
	return ok
}

// readRefusal reads Spine's refusal out of a recorded answer: a SOAP
// fault, or an ebXML MessageError that refuses for good
// (readMessageError).
func readRefusal(b []byte) (*ebxml.SOAPFault, bool) {
	if f, ok := readFault(b); ok {
		return f, true
	}
	return readMessageError(b)
}

// errSuffix formats an error after a result line.
func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}
