package mapping_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/release"
)

// representedOrganization matches an AgentPerson's first organisation, with
// its id (the licence's Organization inside it is not a match).
var representedOrganization = regexp.MustCompile(`(?s)<representedOrganization( [^>]*)?>\s*(<id [^>]*/>).*?</representedOrganization>`)

// agentOrganization matches a recipient's organisation, with its id.
var agentOrganization = regexp.MustCompile(`(?s)<agentOrganization( [^>]*)?>\s*(<id [^>]*/>).*?</agentOrganization>`)

// TestOrganizationSDSSpineAccepts writes the CMETs' other choice for an
// organisation, by its id alone (representedOrganizationSDS in
// UKCT_MT120201UK03 and UK04, agentOrganizationSDS in UKCT_MT120401UK02;
// nhsdigitalmait/SPINE_schema omvt/Schemas/*_4200.xsd), into every message
// of testdata and the project's own prescription that has the other form,
// the first agent's organisation or the recipient's. Each is taken, its
// ODS code reaches the FHIR, and the message comes back from FHIR as sent
// (Env.KeepV3); a release request's answer names the owner. Both forms at
// once are refused, naming the choice.
func TestOrganizationSDSSpineAccepts(t *testing.T) {
	msgs := ownAndTestdataMessages(t)
	reg := mapping.NewRegistry()
	ran := 0
	for _, msg := range msgs {
		name, data := msg.name, msg.data
		payload, tag, err := conformance.ExtractPayload(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tr := reg.ByInteraction(tag)
		if tr == nil || strings.HasPrefix(tag, "MCCI") || tag == "PORX_IN070103UK31" || tag == "PORX_IN070101UK31" || tag == "PORX_IN110101UK30" {
			continue // Spine's own messages: Spine writes the full form
		}
		for _, edit := range []struct {
			kind string
			re   *regexp.Regexp
			sds  string
		}{
			{"representedOrganizationSDS", representedOrganization, "representedOrganizationSDS"},
			{"agentOrganizationSDS", agentOrganization, "agentOrganizationSDS"},
		} {
			m := edit.re.FindSubmatchIndex(payload)
			if m == nil {
				continue
			}
			id := string(payload[m[4]:m[5]])
			ods := regexp.MustCompile(`extension="([^"]*)"`).FindStringSubmatch(id)[1]
			sds := `<` + edit.sds + ` classCode="ORG" determinerCode="INSTANCE">` + id + `</` + edit.sds + `>`
			variant := []byte(string(payload[:m[0]]) + sds + string(payload[m[1]:]))
			both := []byte(string(payload[:m[1]]) + sds + string(payload[m[1]:]))
			ran++
			t.Run(filepath.Base(name)+" "+edit.kind, func(t *testing.T) {
				env := variantEnv(variant)
				body, meta, err := tr.ToFHIR(variant, env)
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !strings.Contains(string(body), `"value": "`+ods+`"`) && !strings.Contains(string(body), `"value":"`+ods+`"`) {
					t.Errorf("ODS code %s not in the FHIR", ods)
				}
				comesBack(t, tr, body, meta, env, variant)
				if strings.HasPrefix(tag, "PORX_IN060102") || strings.HasPrefix(tag, "PORX_IN132004") {
					// What the answer to the request is written from.
					if info, err := release.ReadReleaseRequestInfo(variant); err != nil || info.OwnerODS != ods {
						t.Errorf("ReadReleaseRequestInfo = %+v, %v; want owner %s", info, err, ods)
					}
				}
				if _, _, err := tr.ToFHIR(both, variantEnv(both)); err == nil || !strings.Contains(err.Error(), "are a choice") {
					t.Errorf("both forms at once: %v, want refused as a choice", err)
				}
			})
		}
	}
	if ran < 10 {
		t.Errorf("only %d messages varied", ran)
	}
}

// testMessage is a v3 message of the tests, by name.
type testMessage struct {
	name string
	data []byte
}

// ownAndTestdataMessages returns the project's own prescription (as v3)
// and every v3 message of testdata, named by their files.
func ownAndTestdataMessages(t *testing.T) []testMessage {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "*", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := []testMessage{{"own prescription", ownPrescriptionV3(t)}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, testMessage{f, data})
	}
	return msgs
}

// agentRole matches an AgentPerson's role profile id and job role code.
var agentRole = regexp.MustCompile(`(<AgentPerson classCode="AGNT">\s*)<id [^>]*/>(\s*)<code [^>]*/>`)

// TestAgentNullFlavorSpineAccepts sends an AgentPerson's optional role
// profile id and job role code (id II 0..1, code CV 0..1 in
// UKCT_MT120201UK03 and UK04) as nullFlavor, no value known, in every
// message of testdata and the project's own prescription that has them.
// Each is taken as the message with both left out is (the same FHIR), and
// comes back from FHIR as sent (Env.KeepV3).
func TestAgentNullFlavorSpineAccepts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "*", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := [][]byte{ownPrescriptionV3(t)}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, data)
	}
	reg := mapping.NewRegistry()
	ran := 0
	for i, data := range msgs {
		payload, tag, err := conformance.ExtractPayload(data)
		if err != nil {
			t.Fatal(err)
		}
		tr := reg.ByInteraction(tag)
		if tr == nil || strings.HasPrefix(tag, "MCCI") || !agentRole.Match(payload) {
			continue
		}
		m := agentRole.FindSubmatchIndex(payload)
		head, gap := string(payload[m[2]:m[3]]), string(payload[m[4]:m[5]])
		variant := []byte(string(payload[:m[0]]) + head + `<id nullFlavor="NI"/>` + gap + `<code nullFlavor="UNK"/>` + string(payload[m[1]:]))
		absent := []byte(string(payload[:m[0]]) + head + string(payload[m[1]:]))
		ran++
		t.Run(fmt.Sprintf("%d %s", i, tag), func(t *testing.T) {
			absentFHIR, _, err := tr.ToFHIR(absent, variantEnv(absent))
			if err != nil {
				t.Skipf("the message without them is refused: %v", err)
			}
			env := variantEnv(variant)
			body, meta, err := tr.ToFHIR(variant, env)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if got, want := epsVisible(t, body), epsVisible(t, absentFHIR); got != want {
				t.Errorf("FHIR differs from the message without them:\n got %s\nwant %s", got, want)
			}
			comesBack(t, tr, body, meta, env, variant)
		})
	}
	if ran < 10 {
		t.Errorf("only %d messages varied", ran)
	}
}
