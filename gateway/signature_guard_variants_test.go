package gateway

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	prescribemap "github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// signedVariantsDir holds one signed legacy prescription per way a legacy
// XML writer may serialise it (the project's own messages: the acute
// controlled-drug fixture as a UK-family ParentPrescription, varied, then
// signed with a key and certificate of the test's own over the digest of
// its own signature fragments, SHA-256 unless named sha1).
const signedVariantsDir = "../testdata/prescribe/signed-variants"

// TestSignatureGuardLegacySerialisations runs each signed variant through
// porxgate's v3 → FHIR and the signature guard and checks the guard's
// verdict against the official EPS translator's. The digests were recorded
// by running the translator's own code beside the project (never in CI):
// epsV3 is what its fragment code (readXmlStripNamespace, extractFragments,
// convertFragmentsToHashableFormat) hashes for the v3 as sent, epsFHIR what
// it hashes for the ParentPrescription it derives from porxgate's FHIR
// (convertParentPrescription), which $process-message compares with the
// signature. For every variant the guard sends, EPS's signature check
// (digest and value) passed on that FHIR; for every one it keeps back,
// EPS's answered "Signature doesn't match prescription".
//
// Before this test: porxgate hashed a carriage return (&#xD;, &#13;, NEL,
// LS, PS) in text or an attribute as itself where EPS's parser reads a line
// end, so porxgate's digest differed from EPS's for the cr-*, nel-* and
// attribute-* variants; and a processing instruction in the dosage text cut
// the FHIR dosage to "One tablet" and the guard sent the prescription,
// whose signature EPS then refused.
func TestSignatureGuardLegacySerialisations(t *testing.T) {
	const (
		base     = "SN/Edf+T9dOHIktmQKyF/9AF7FcKZhpUwawtlc9N+ps="
		dosageCR = "hmaO7uYHnO/yg2rMkkK0ZaBVylsJx8Cy/YGqYq/un4U="
	)
	tests := []struct {
		file string
		// epsV3 is EPS's digest of the v3's fragments; "" where EPS's own
		// v3 reader is no guide (it hashes a CDATA section as nothing and a
		// processing instruction as "<?undefined …?>", and cannot hash an
		// xsi:type).
		epsV3   string
		epsFHIR string
		sent    bool
		// element is what the refusal names: the first differing element,
		// or the path porxgate cannot hash.
		element string
		dosage  string // the FHIR dosage text, when the variant is about it
	}{
		{"base.xml", base, base, true, "", ""},
		{"sha1.xml", "RiB5qO6cG9UNRWPEKInH554F5Rw=", "RiB5qO6cG9UNRWPEKInH554F5Rw=", true, "", ""},
		{"prefix-hl7-everywhere.xml", base, base, true, "", ""},
		{"prefix-hl7-parent-prescription-only.xml", base, base, true, "", ""},
		{"redundant-namespace-declarations.xml", base, base, true, "", ""},
		{"attributes-reversed-single-quoted.xml", base, base, true, "", ""},
		{"empty-elements-with-end-tags.xml", base, base, true, "", ""},
		{"tab-indented.xml", base, base, true, "", ""},
		{"crlf-line-ends-indented.xml", base, base, true, "", ""},
		{"bom-and-declaration.xml", base, base, true, "", ""},
		{"declaration-single-quoted-lowercase.xml", base, base, true, "", ""},
		{"no-declaration.xml", base, base, true, "", ""},
		{"comments-in-fragments.xml", base, base, true, "", "One tablet every twelve hours"},
		{"entities-in-text.xml", "BaNmAnXYVnezaEyCeQVV1OlY98tAWPY5OBKv6gSwWRo=", "BaNmAnXYVnezaEyCeQVV1OlY98tAWPY5OBKv6gSwWRo=", true, "",
			`One tablet "every" twelve hours & <no more>`},
		{"non-ascii-names-and-dosage.xml", "GmWqZFN/05+b00TvtwxBALb930E//6i8ZmJuVTSD7cQ=", "GmWqZFN/05+b00TvtwxBALb930E//6i8ZmJuVTSD7cQ=", true, "", ""},
		{"spaces-around-text.xml", "jGLy17Bc6T1hBlOJCGz+EpZwW4Q/uXQ0yH+H/bsa6xk=", "jGLy17Bc6T1hBlOJCGz+EpZwW4Q/uXQ0yH+H/bsa6xk=", true, "",
			" One tablet every twelve hours  "},
		{"cr-charref-crlf-in-dosage.xml", dosageCR, dosageCR, true, "", ""},
		{"cr-charref-lone-in-dosage.xml", dosageCR, dosageCR, true, "", ""},
		{"nel-ls-ps-in-dosage.xml", "SvE2qfh6WJ5brkYZXOOEqNvYiRKmXcy8L2DKI4fHa5g=", "SvE2qfh6WJ5brkYZXOOEqNvYiRKmXcy8L2DKI4fHa5g=", true, "", ""},
		{"attribute-entities-and-line-ends.xml", "L1i//HLyirBCFN6KCYK7saajHUhvpd9PL8L9t9Ocngg=", "L1i//HLyirBCFN6KCYK7saajHUhvpd9PL8L9t9Ocngg=", true, "", ""},
		{"cdata-dosage.xml", "", "qX1yWAKgxWmgpXbzPkrT2OSfnqbiN5TiH3PU+pC8SdA=", true, "", "One tablet every twelve hours & <more>"},
		{"processing-instruction-in-dosage.xml", "", base, false,
			"/Fragment/pertinentLineItem/pertinentInformation2/pertinentDosageInstructions/value", "One tablet every twelve hours"},
		{"extra-attribute-on-name.xml", "JrPBz1pfTRHrMpTVRCpnocOCG0m5R9U8F2jfCUVlfGw=", base, false, "/Fragment/recordTarget/Patient/patientPerson/name", ""},
		{"xsi-type-in-dosage.xml", "", base, false, "pertinentDosageInstructions/value/@xsi:type", ""},
		// The patient's name with its family part first (PN parts come in
		// any order). The file keeps the base's signature: the guard
		// compares fragments, not the signature. A legacy system signs
		// its own order, which Spine verifies; porxgate's FHIR is the
		// base's, from which EPS derives the base's order, so no
		// signature over the variant's fragments can pass EPS's check.
		{"name-family-first.xml", "", base, false, "/Fragment/recordTarget/Patient/patientPerson/name/family", ""},
		// The patient's care provision without its code (CV 0..1 in
		// COCT_MT050012UK05; Spine's schematron does not check it), the
		// base's signature kept as above: porxgate takes it, and the FHIR
		// is the base's, from which EPS derives the fixed code again: the
		// first element to differ is the sent one after it.
		{"care-provision-code-absent.xml", "", base, false,
			"/Fragment/recordTarget/Patient/patientPerson/playedProviderPatient/subjectOf/patientCareProvision/responsibleParty", ""},
	}
	env := core.FixedEnv()
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".xml"), func(t *testing.T) {
			payload, err := os.ReadFile(filepath.Join(signedVariantsDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, signed, err := v3.Parse(payload)
			if err != nil {
				t.Fatal(err)
			}
			alg := v3.DigestSHA256
			if tt.file == "sha1.xml" {
				alg = v3.DigestSHA1
			}
			if tt.epsV3 != "" {
				// The variant is signed over its own fragments, as EPS hashes them.
				if err := v3.VerifySignature(signed); err != nil {
					t.Fatalf("variant's own signature: %v", err)
				}
				if d, err := v3.PrescriptionDigest(signed, alg); err != nil || d != tt.epsV3 {
					t.Errorf("porxgate's digest of the v3 fragments %q, %v; EPS's %q", d, err, tt.epsV3)
				}
			}
			body, _, err := prescribemap.PrescribeToFHIR(payload, env)
			if err != nil {
				t.Fatalf("v3 → FHIR: %v", err)
			}
			if tt.dosage != "" {
				b, err := fhir.ParseBundle(body)
				if err != nil {
					t.Fatal(err)
				}
				mrs := fhir.EntriesOf[*fhir.MedicationRequest](b)
				if len(mrs) != 1 || len(mrs[0].DosageInstruction) != 1 || mrs[0].DosageInstruction[0].Text != tt.dosage {
					t.Errorf("FHIR dosage %+v, want the text %q", mrs, tt.dosage)
				}
			}
			rederived, err := prescribemap.EPSParentPrescription(body, env)
			if err != nil {
				t.Fatalf("ParentPrescription EPS derives: %v", err)
			}
			if d, err := v3.PrescriptionDigest(rederived, alg); err != nil || d != tt.epsFHIR {
				t.Errorf("digest of the fragments EPS derives from porxgate's FHIR: porxgate's %q, %v; EPS's %q", d, err, tt.epsFHIR)
			}
			// The mapping's quick walk never calls fragments the same that
			// the fragment comparison tells apart.
			pp := signed.El.FindElement("ControlActEvent/subject/ParentPrescription")
			if v3.SameSignedParts(pp, rederived) && v3.CompareSignatureFragments(pp, rederived) != nil {
				t.Error("SameSignedParts says same where the fragments differ")
			}
			guardErr := checkSignature(payload, body, env)
			if tt.sent {
				if guardErr != nil {
					t.Fatalf("guard keeps back a prescription EPS verifies: %v", guardErr)
				}
				return
			}
			if guardErr == nil {
				t.Fatal("guard sends a prescription whose signature EPS refuses")
			}
			if got := guardElement(guardErr); !strings.HasSuffix(got, tt.element) {
				t.Errorf("guard names %q, want …%s (%v)", got, tt.element, guardErr)
			}
		})
	}
}

// TestGuardElementNamesUnhashablePath: the refusal's log names the first
// differing element, or the path of what porxgate cannot hash (an
// xsi:type in a signed fragment), not nothing.
func TestGuardElementNamesUnhashablePath(t *testing.T) {
	err := &v3.Error{Path: "/X/value/@xsi:type", Msg: "namespaced attribute not supported inside signature fragments"}
	if got := guardElement(errors.Join(errors.New("fragments of the original"), err)); got != err.Path {
		t.Errorf("guardElement = %q, want %q", got, err.Path)
	}
	if got := guardElement(&v3.FragmentsDiff{Element: "/Fragment/AgentPerson"}); got != "/Fragment/AgentPerson" {
		t.Errorf("guardElement = %q", got)
	}
	if got := guardElement(errors.New("other")); got != "" {
		t.Errorf("guardElement = %q, want empty", got)
	}
}
