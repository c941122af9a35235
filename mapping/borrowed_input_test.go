package mapping

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
)

// TestToV3KeepsNothingOfItsInput checks that the FHIR → v3 translations
// that decode their input in place (fhir.ParseBundleBorrowed: CancelToV3,
// DispenseToV3, PrescribeToV3) return nothing that refers to it: each
// message, and variants of it that are refused at a path or do not decode,
// is translated from a buffer that is then overwritten, as a server reuses
// a request's buffer, and the v3 and the error text must stay as they were.
func TestToV3KeepsNothingOfItsInput(t *testing.T) {
	env := core.FixedEnv()
	reg := NewRegistry()
	msgs := borrowedInputs(t, reg, env)
	refused, written := 0, 0
	for _, m := range msgs {
		tr := reg.ByKind(m.kind)
		for _, v := range borrowedVariants(m.body) {
			in := bytes.Clone(v.body)
			out, err := tr.ToV3(in, core.Meta{}, env)
			wantOut, wantErr := bytes.Clone(out), ""
			if err != nil {
				wantErr = err.Error()
				refused++
			} else {
				written++
			}
			for i := range in {
				in[i] = '#'
			}
			if !bytes.Equal(out, wantOut) {
				t.Errorf("%s (%s): the v3 changed when the input buffer was overwritten", m.name, v.name)
			}
			if err != nil && err.Error() != wantErr {
				t.Errorf("%s (%s): the error changed when the input buffer was overwritten: %q, was %q", m.name, v.name, err, wantErr)
			}
		}
	}
	if refused == 0 || written == 0 {
		t.Fatalf("%d messages refused and %d written: the check needs both", refused, written)
	}
}

// borrowedMessage is a FHIR message of a kind whose ToV3 borrows its input.
type borrowedMessage struct {
	name, kind string
	body       []byte
}

// borrowedInputs returns the corpus's prescription, cancellation and
// dispense requests; without the corpus, the project's prescriptions and
// the FHIR of its own cancel request and dispense notifications.
func borrowedInputs(t *testing.T, reg *Registry, env core.Env) []borrowedMessage {
	t.Helper()
	var msgs []borrowedMessage
	if corpustest.Present() {
		kind := regexp.MustCompile(`Process-Request-(Send|Cancel|Dispense|DispenseAmend)-`)
		for _, f := range corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, ".json") && kind.MatchString(rel) }) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, borrowedMessage{filepath.Base(f), kind.FindStringSubmatch(f)[1], body})
		}
		return msgs
	}
	files, err := filepath.Glob(filepath.Join("..", "testdata", "prescribe", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, borrowedMessage{filepath.Base(f), "Send", body})
	}
	v3Files := map[string][]string{"Cancel": {filepath.Join("..", "testdata", "cancel", "cancel_request_uk.xml")}}
	if v3Files["Dispense"], err = filepath.Glob(filepath.Join("..", "testdata", "dispense", "*.xml")); err != nil {
		t.Fatal(err)
	}
	for kind, fs := range v3Files {
		for _, f := range fs {
			v3Msg, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			body, _, err := reg.ByKind(kind).ToFHIR(v3Msg, env)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			msgs = append(msgs, borrowedMessage{filepath.Base(f), kind, body})
		}
	}
	return msgs
}

// borrowedVariant is a message as given, or changed so that it is refused.
type borrowedVariant struct {
	name string
	body []byte
}

// borrowedVariants returns body and variants of it refused at a path (a
// Bundle identifier of another system, a reference to no entry, a
// resource's id where its reference is) or not decoding (cut short).
func borrowedVariants(body []byte) []borrowedVariant {
	vs := []borrowedVariant{{"as given", body}}
	swap := func(name, old, new string, n int) {
		if bytes.Contains(body, []byte(old)) {
			vs = append(vs, borrowedVariant{name, bytes.Replace(body, []byte(old), []byte(new), n)})
		}
	}
	swap("identifier system", `"https://tools.ietf.org/html/rfc4122"`, `"urn:scribbled:system"`, 1)
	swap("reference", `"reference":"urn:uuid:`, `"reference":"urn:uuid:scribbled-`, 1)
	swap("every reference", `"reference":"`, `"reference":"scribbled/`, -1)
	vs = append(vs, borrowedVariant{"cut short", body[:len(body)/2]})
	return vs
}
