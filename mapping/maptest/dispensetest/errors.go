package dispensetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	v3 "github.com/porxgate/porxgate/v3"
)

// EPSRefusal checks what a family's EPSCannotTake said of a message of an
// interaction: nil when element is "", else an error at the path
// /interaction/…element that names no MIM rule (the MIM allows the
// message; EPS cannot take it).
func EPSRefusal(t testing.TB, err error, interaction, element string) {
	t.Helper()
	if element == "" {
		if err != nil {
			t.Fatalf("EPSCannotTake = %v, want nil", err)
		}
		return
	}
	var ve *v3.Error
	if !errors.As(err, &ve) || !strings.HasSuffix(ve.Path, element) || !strings.HasPrefix(ve.Path, "/"+interaction+"/") {
		t.Fatalf("EPSCannotTake = %v, want the path /%s/…%s", err, interaction, element)
	}
	if strings.Contains(err.Error(), "MIM rule") {
		t.Errorf("%q names a MIM rule; the MIM allows the message", err)
	}
}

// V3ErrorCase is a malformed v3 message made from a good fixture, and what
// the error reading it must say. With Old set, New replaces its first
// occurrence (every occurrence when All is set); with Old empty, New is the
// whole message.
type V3ErrorCase struct {
	Name     string
	Old, New string
	Want     []string
	All      bool
}

// RunV3Errors runs each case as a subtest: the malformed message made from
// base must fail toFHIR with an error containing every Want (the
// interaction, the element path, the reason).
func RunV3Errors(t *testing.T, toFHIR func([]byte, core.Env) ([]byte, core.Meta, error), base string, cases []V3ErrorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			if tc.Old != "" && !strings.Contains(base, tc.Old) {
				t.Fatalf("fixture lacks %q", tc.Old)
			}
			var msg string
			switch {
			case tc.All:
				msg = strings.ReplaceAll(base, tc.Old, tc.New)
			case tc.Old != "":
				msg = strings.Replace(base, tc.Old, tc.New, 1)
			default:
				msg = tc.New
			}
			_, _, err := toFHIR([]byte(msg), Env())
			if err == nil {
				t.Fatal("want an error, got none")
			}
			wantAll(t, err, tc.Want)
		})
	}
}

// FHIROf returns the FHIR that the v3 fixture rel (a path under the
// repository's testdata) maps to, failing the test when it does not map.
func FHIROf(t *testing.T, toFHIR func([]byte, core.Env) ([]byte, core.Meta, error), rel string) []byte {
	t.Helper()
	body, _, err := toFHIR(maptest.Testdata(t, rel), Env())
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return body
}

// FHIRErrorCase is a malformed FHIR body made by Mutate from a good one (a
// body that is not JSON when Mutate is nil), and what the error writing it
// to v3 must say.
type FHIRErrorCase struct {
	Name   string
	Mutate func(r fhir.Resource)
	Want   []string
}

// RunFHIRErrors runs each case as a subtest: the body made from good must
// fail toV3 with an error containing every Want (the interaction, the FHIR
// element path, the reason).
func RunFHIRErrors(t *testing.T, toV3 func([]byte, core.Meta, core.Env) ([]byte, error), good []byte, cases []FHIRErrorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			body := []byte(`{"resourceType":`)
			if tc.Mutate != nil {
				r, err := fhir.DecodeResource(good)
				if err != nil {
					t.Fatal(err)
				}
				tc.Mutate(r)
				if body, err = fhir.Marshal(r); err != nil {
					t.Fatal(err)
				}
			}
			_, err := toV3(body, core.Meta{}, Env())
			if err == nil {
				t.Fatal("want an error, got none")
			}
			wantAll(t, err, tc.Want)
		})
	}
}

// wantAll reports each of want that err does not mention.
func wantAll(t *testing.T, err error, want []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// Dispenses returns the MedicationDispenses of a Bundle.
func Dispenses(r fhir.Resource) []*fhir.MedicationDispense {
	return fhir.EntriesOf[*fhir.MedicationDispense](r.(*fhir.Bundle))
}

// RunV3Repeats runs one subtest per path (an etree path from the message
// root, e.g. "ControlActEvent/subject/DispenseNotification/replacementOf"):
// the first element there is written twice, one after the other, and
// toFHIR must refuse the message naming the second one (its indexed path,
// "replacementOf[2]") as repeated. The MIM allows each such element once,
// and a reader that takes the first must not drop the other unsaid.
func RunV3Repeats(t *testing.T, toFHIR func([]byte, core.Env) ([]byte, core.Meta, error), base string, paths []string) {
	t.Helper()
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			msg := repeatElement(t, base, p)
			_, _, err := toFHIR(msg, Env())
			if err == nil {
				t.Fatal("want an error, got none")
			}
			tag := p[strings.LastIndex(p, "/")+1:]
			wantAll(t, err, []string{"/" + tag + "[2]", "repeated"})
		})
	}
}

// repeatElement returns base with the first element at path written twice.
func repeatElement(t *testing.T, base, path string) []byte {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(base); err != nil {
		t.Fatal(err)
	}
	el := doc.Root().FindElement(path)
	if el == nil {
		t.Fatalf("fixture has no element at %s", path)
	}
	parent := el.Parent()
	parent.InsertChildAt(el.Index()+1, el.Copy())
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
