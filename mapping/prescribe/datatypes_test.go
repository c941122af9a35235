package prescribe

import (
	"testing"
	"time"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

func TestV3TimestampFromFHIR(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"2022-10-21", "20221021000000", false},
		{"2021-05-07T14:47:30+00:00", "20210507144730", false},
		{"2021-05-07T14:47:30Z", "20210507144730", false},
		{"2021-05-07T15:47:30+01:00", "20210507144730", false},
		{"2021-05-07T14:47:30.123Z", "20210507144730", false},
		{"2021-05", "20210501000000", false},
		{"2021", "20210101000000", false},
		{"", "", true},
		{"07/05/2021", "", true},
		{"2021-13-01", "", true},
		{"+2021-01-01", "", true},
	}
	for _, tt := range tests {
		got, err := core.V3TimestampFromFHIR(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("V3TimestampFromFHIR(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestV3DateFromFHIRDate(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"1948-04-30", "19480430", false},
		{"1948", "19480101", false},
		{"1948-04-30T00:00:00Z", "", true},
		{"30-04-1948", "", true},
	}
	for _, tt := range tests {
		got, err := core.V3DateFromFHIRDate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("V3DateFromFHIRDate(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFHIRDateTimeFromV3(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"20210507144730", "2021-05-07T14:47:30+00:00", false},
		{"20210507144730+0100", "2021-05-07T14:47:30+01:00", false},
		{"202105071447", "2021-05-07T14:47:00+00:00", false},
		{"20210507", "2021-05-07", false},
		{"202105", "2021-05", false},
		{"2021", "2021", false},
		{"20210507144730.1", "2021-05-07T14:47:30.1+00:00", false},
		{"20210507144730.1230", "2021-05-07T14:47:30.1230+00:00", false},
		{"20210507144730.123+0100", "2021-05-07T14:47:30.123+01:00", false},
		{"20210507144730+01", "2021-05-07T14:47:30+01:00", false},
		{"20210507144730-05", "2021-05-07T14:47:30-05:00", false},
		{"202105071447+0100", "2021-05-07T14:47:00+01:00", false},
		{"2021050714+0000", "2021-05-07T14:00:00+00:00", false},
		{"2021050714473", "", true},
		{"20210507144730.", "", true},
		{"20210507144730.1234567890", "", true},
		{"202105071447.5", "", true},
		{"20210507144730+1", "", true},
		{"20210507144730+010", "", true},
		{"20210507144730 0100", "", true},
		{"20210507+0100", "", true},
		{"20210507144730+2500", "", true},
		{"20211307144730", "", true},
		{"", "", true},
		{"tomorrow", "", true},
	}
	for _, tt := range tests {
		got, err := core.FHIRDateTimeFromV3(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("FHIRDateTimeFromV3(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && len(tt.in) == 14 {
			back, err := core.V3TimestampFromFHIR(got)
			if err != nil || back != tt.in {
				t.Errorf("V3TimestampFromFHIR(%q) = %q, %v; want %q back", got, back, err, tt.in)
			}
		}
	}
}

func TestFHIRDateFromV3(t *testing.T) {
	for in, want := range map[string]string{"19480430": "1948-04-30", "20210507144730": "2021-05-07", "1948": "1948", "194804": "1948-04"} {
		if got, err := core.FHIRDateFromV3(in); err != nil || got != want {
			t.Errorf("FHIRDateFromV3(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := core.FHIRDateFromV3("1948-04-30"); err == nil {
		t.Error("FHIRDateFromV3 accepted a FHIR date")
	}
}

// TestCodeTables pins the small code tables both ways. A v3 use is a set
// of codes (an xsd:list) from the MIM 4.2.00 datatypes' value sets
// (nhsdigitalmait/SPINE_schema dt/datatypes.xsd: cs_EntityNameUse,
// cs_TelecommunicationAddressUse, cs_PostalAddressUse); every code of them
// is taken, a code FHIR has no use for giving none, and a code outside them
// (TMP on a telecom, EC on an address) is refused as Spine's schema
// refuses it.
func TestCodeTables(t *testing.T) {
	type table struct {
		name     string
		to       func(string) (string, error)
		from     func(string) (string, error)
		pairs    [][2]string // FHIR, v3 (both ways)
		onlyTo   [][2]string // FHIR → v3 only
		onlyFrom [][2]string // v3 → FHIR only
		badFHIR  string
		badV3    []string
	}
	tables := []table{
		{"gender", core.GenderToV3, core.GenderFromV3,
			[][2]string{{"male", "1"}, {"female", "2"}, {"other", "9"}, {"unknown", "0"}}, nil, nil, "M", []string{"3"}},
		{"name use", core.NameUseToV3, core.NameUseFromV3,
			[][2]string{{"usual", "L"}, {"temp", "A"}, {"nickname", "PREFERRED"}, {"old", "PREVIOUS"}, {"maiden", "PREVIOUS-MAIDEN"}},
			[][2]string{{"official", "L"}, {"anonymous", "A"}},
			[][2]string{{"old", "PREVIOUS-BIRTH"}, {"maiden", "PREVIOUS-BACHELOR"}, {"", "I"}, {"", "R"}, {"", "ABC"},
				{"", "SYL"}, {"", "IDE"}, {"usual", "L ABC"}, {"usual", "IDE L"}, {"nickname", " PREFERRED\tA "}},
			"legal", []string{"XYZ", "L XYZ", "l"}},
		{"telecom use", core.TelecomUseToV3, core.TelecomUseFromV3,
			[][2]string{{"home", "HP"}, {"work", "WP"}, {"temp", "HV"}, {"mobile", "MC"}}, nil,
			[][2]string{{"home", "H"}, {"mobile", "PG"}, {"", "AS"}, {"", "EC"}, {"work", "WP H"}, {"home", "H WP"},
				{"mobile", "EC MC"}, {"", "AS EC"}},
			"old", []string{"TMP", "PHYS", "BAD", "DIR", "PUB", "XYZ", "WP TMP", "wp"}},
		{"address use", core.AddressUseToV3, core.AddressUseFromV3,
			[][2]string{{"home", "H"}, {"work", "WP"}, {"temp", "TMP"}, {"billing", "PST"}}, nil,
			[][2]string{{"home", "HP"}, {"work", "BP"}, {"temp", "HV"}, {"", "PHYS"}, {"", "BAD"}, {"", "ABC"},
				{"", "SYL"}, {"", "IDE"}, {"billing", "PST PHYS"}, {"home", "PHYS H"}, {"", "BAD PHYS"}},
			"old", []string{"EC", "AS", "MC", "PG", "XYZ", "H EC", "h"}},
	}
	for _, tb := range tables {
		t.Run(tb.name, func(t *testing.T) {
			for _, p := range append(tb.pairs, tb.onlyTo...) {
				if got, err := tb.to(p[0]); err != nil || got != p[1] {
					t.Errorf("to v3 %q = %q, %v; want %q", p[0], got, err, p[1])
				}
			}
			for _, p := range append(tb.pairs, tb.onlyFrom...) {
				if got, err := tb.from(p[1]); err != nil || got != p[0] {
					t.Errorf("from v3 %q = %q, %v; want %q", p[1], got, err, p[0])
				}
			}
			if _, err := tb.to(tb.badFHIR); err == nil {
				t.Errorf("to v3 accepted %q", tb.badFHIR)
			}
			for _, bad := range tb.badV3 {
				if got, err := tb.from(bad); err == nil {
					t.Errorf("from v3 accepted %q as %q", bad, got)
				}
			}
		})
	}
}

func TestTelecomValue(t *testing.T) {
	for in, want := range map[string]string{
		"01823 333444":     "tel:01823333444",
		"0115 9737320":     "tel:01159737320",
		"tel:01234567890":  "tel:01234567890",
		" 07700\t900123 ":  "tel:07700900123",
		"mailto:a@example": "tel:mailto:a@example",
	} {
		if got := core.TelecomValueToV3(in); got != want {
			t.Errorf("TelecomValueToV3(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"tel:01823333444": "01823333444", "01823333444": "01823333444", "tel:mailto:a@b": "mailto:a@b"} {
		if got := core.TelecomValueFromV3(in); got != want {
			t.Errorf("TelecomValueFromV3(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProfessionalCodeIdentifier(t *testing.T) {
	for code, system := range map[string]string{
		"6095103":  "https://fhir.hl7.org.uk/Id/gmc-number",
		"C6095103": "https://fhir.hl7.org.uk/Id/professional-code",
		"G8123456": "https://fhir.hl7.org.uk/Id/gmc-number",
		"G9999999": "https://fhir.hl7.org.uk/Id/gmc-number",
		"12A3456B": "https://fhir.hl7.org.uk/Id/nmc-number",
		"PH123456": "https://fhir.hl7.org.uk/Id/hcpc-number",
		"999999":   "https://fhir.hl7.org.uk/Id/professional-code",
	} {
		if got := core.ProfessionalCodeIdentifier(code); got.System != system || got.Value != code {
			t.Errorf("ProfessionalCodeIdentifier(%q) = %+v, want system %s", code, got, system)
		}
	}
}

func TestParseAdditionalInstructions(t *testing.T) {
	tests := []struct {
		in   string
		want additionalInstructionText
	}{
		{"", additionalInstructionText{}},
		{"Take with food", additionalInstructionText{note: "Take with food"}},
		{"CD: twenty (20)", additionalInstructionText{cdWords: "twenty (20)"}},
		{"CD: five\nTake care &amp; rest", additionalInstructionText{cdWords: "five", note: "Take care & rest"}},
		{"<medication>A &amp; B</medication><medication>C</medication><patientInfo>Closed</patientInfo>CD: ten\nNote",
			additionalInstructionText{medication: []string{"A & B", "C"}, patientInfo: []string{"Closed"}, cdWords: "ten", note: "Note"}},
	}
	for _, tt := range tests {
		got := parseAdditionalInstructions(tt.in)
		if got.cdWords != tt.want.cdWords || got.note != tt.want.note || len(got.medication) != len(tt.want.medication) || len(got.patientInfo) != len(tt.want.patientInfo) {
			t.Errorf("parseAdditionalInstructions(%q) = %+v, want %+v", tt.in, got, tt.want)
			continue
		}
		for i := range got.medication {
			if got.medication[i] != tt.want.medication[i] {
				t.Errorf("medication[%d] = %q, want %q", i, got.medication[i], tt.want.medication[i])
			}
		}
	}
	if got := escapeInstructionText("A & B <x> &amp; C"); got != "A &amp; B &lt;x&gt; &amp; C" {
		t.Errorf("escapeInstructionText = %q", got)
	}
}

// TestParseFHIRDateTimeAsEveryLayout checks that trying only the layouts
// that can fit gives what trying every layout in turn gives.
func TestParseFHIRDateTimeAsEveryLayout(t *testing.T) {
	every := func(s string) (time.Time, bool) {
		if !core.LooksLikeFHIRDate(s) {
			return time.Time{}, false
		}
		for _, layout := range core.FHIRDateTimeLayouts {
			if tm, err := time.Parse(layout, s); err == nil {
				return tm.UTC(), true
			}
		}
		return time.Time{}, false
	}
	for _, s := range []string{
		"2024", "2024-06", "2024-06-07", "2024-06-07T08:09:10Z", "2024-06-07T08:09:10+01:00",
		"2024-06-07T08:09:10.123Z", "2024-06-07T08:09:10.123456789-05:30", "2024-06-07T08:09Z",
		"2024-06-07T08:09:10", "2024-6-7", "2024-06-7", "20240607", "2024-13", "2024-02-30",
		"2024-06-07 08:09:10Z", "2024-06-07T25:09:10Z", "2024-06-07T08:09:10Zjunk", "2024-06-07X08:09:10Z",
		"", "20", "abcd", "2024-", "2024-06-07T", "2024-06-07T08:09:10.Z",
	} {
		want, wantOK := every(s)
		got, err := core.ParseFHIRDateTime(s)
		if (err == nil) != wantOK || !got.Equal(want) {
			t.Errorf("parseFHIRDateTime(%q) = %v, %v; every layout gives %v, %v", s, got, err, want, wantOK)
		}
	}
}

// TestBundleContextPath checks Path for entries (asked twice, as writers
// do), a resource outside the bundle and none.
func TestBundleContextPath(t *testing.T) {
	p, mr := &fhir.Patient{}, &fhir.MedicationRequest{}
	c := core.NewBundleContext(&fhir.Bundle{Entry: []fhir.Entry{{Resource: &fhir.MessageHeader{}}, {Resource: p}, {}, {Resource: mr}}}, "x")
	for range 2 {
		if got := c.Path(p); got != "Bundle.entry[1].resource" {
			t.Errorf("Path(patient) = %q", got)
		}
		if got := c.Path(mr); got != "Bundle.entry[3].resource" {
			t.Errorf("Path(request) = %q", got)
		}
	}
	if got := c.Path(&fhir.Organization{}); got != "Organization" {
		t.Errorf("Path(outsider) = %q", got)
	}
	if got := c.Path(nil); got != "Bundle" {
		t.Errorf("Path(nil) = %q", got)
	}
}
