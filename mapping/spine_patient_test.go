package mapping_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/cancel"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestPatientWithoutAddressRefusedAsSpine: a Parent Prescription or Cancel
// Request whose Patient has no addr (0..* in COCT_MT050012UK05) is refused
// at once, naming the element, as Spine's schematron faults it
// (nhsdigitalmait/SPINE_schema spine2_xslt, Parent_Prescription_PORX_MT132004UK31
// and Cancel_Prescription_PORX_MT135001UK32: count(hl7:addr)=1, else
// ErrorBase1634.UNABLE_TO_PROCESS "Patient address is missing"). Before,
// both were translated: the EPS API's translation of such a Bundle throws a
// TypeError (request/patient.ts maps Patient.address unchecked), HTTP 500
// every time, so the message was retried until the poison rule took it and
// the prescriber heard nothing meanwhile. An address given as nullFlavor
// counts for Spine and is still taken.
func TestPatientWithoutAddressRefusedAsSpine(t *testing.T) {
	rx := legacyRx(t, "acute-nurse-controlled-drug-unsigned.json")
	cr := maptest.Testdata(t, "cancel/cancel_request_uk.xml")
	const (
		ppPatient = "/PORX_IN020101UK31/ControlActEvent/subject/ParentPrescription/recordTarget/Patient"
		crPatient = "/PORX_IN030101UK32/ControlActEvent/subject/CancellationRequest/recordTarget/Patient"
	)
	toFHIR := map[string]func([]byte, core.Env) ([]byte, core.Meta, error){
		"prescription": prescribe.PrescribeToFHIR,
		"cancel":       cancel.CancelToFHIR,
	}
	tests := []struct {
		name, kind string
		msg        []byte
		wantPath   string // "" when the message is taken
	}{
		{"prescription without an address", "prescription", patientAddrs(t, rx, ""), ppPatient + "/addr"},
		{"cancel request without an address", "cancel", patientAddrs(t, cr, ""), crPatient + "/addr"},
		{"prescription with a nullFlavor address", "prescription", patientAddrs(t, rx, `<addr nullFlavor="UNK"/>`), ""},
		{"cancel request with a nullFlavor address", "cancel", patientAddrs(t, cr, `<addr nullFlavor="NI"/>`), ""},
		{"prescription as written", "prescription", rx, ""},
		{"cancel request as written", "cancel", cr, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _, err := toFHIR[tt.kind](tt.msg, core.FixedEnv())
			if tt.wantPath == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("taken, as FHIR EPS fails on with HTTP 500:\n%.600s", body)
			}
			var ve *v3.Error
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v, want *v3.Error", err, err)
			}
			if ve.Path != tt.wantPath || ve.Rule != v3.RuleConstraint || !strings.Contains(ve.Msg, "Patient address is missing") {
				t.Errorf("error %q (rule %q)\nwant path %s, rule %q, Spine's words", err, ve.Rule, tt.wantPath, v3.RuleConstraint)
			}
		})
	}
}

// patientAddrs replaces the addresses of msg's recordTarget Patient with
// with (nothing for "").
func patientAddrs(t *testing.T, msg []byte, with string) []byte {
	t.Helper()
	s := string(msg)
	start, end := strings.Index(s, "<Patient "), strings.Index(s, "<patientPerson ")
	if start < 0 || end < start {
		t.Fatal("test message has no Patient")
	}
	addrs := regexp.MustCompile(`(?s)\s*<addr\b.*?</addr>`)
	part := s[start:end]
	if !addrs.MatchString(part) {
		t.Fatal("test message's Patient has no address")
	}
	first := true
	part = addrs.ReplaceAllStringFunc(part, func(string) string {
		if first {
			first = false
			return with
		}
		return ""
	})
	return []byte(s[:start] + part + s[end:])
}
