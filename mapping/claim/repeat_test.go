package claim_test

import (
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

// TestClaimLineRepeatWithoutHeaderRepeat: a claim whose supplied line items
// carry a repeatNumber while its supply header carries none (the schema has
// both 0..1) comes back as it was, and its FHIR says so the way the EPS API
// reads it: with no Extension-EPS-RepeatInformation on the item, the EPS
// API takes the header's from the first detail and each line item's from
// its first subDetail (dispense-claim.ts, the older location), so a line's
// repeat goes on its first subDetail and none on the detail. A line without
// supplies keeps its repeat in porxgate's extension. Before, the line
// repeats went on the details: the EPS API (and porxgate) then wrote the
// first line's repeat as the header's and no line repeat at all.
func TestClaimLineRepeatWithoutHeaderRepeat(t *testing.T) {
	base := string(maptest.Testdata(t, "claim/claim-mixed-supplies.xml"))
	const header = `<effectiveTime nullFlavor="NA" />
            <repeatNumber>
              <low value="2" />
              <high value="6" />
            </repeatNumber>
            <legalAuthenticator`
	if !strings.Contains(base, header) {
		t.Fatal("fixture: want a supply header repeatNumber")
	}
	noHeader := strings.Replace(base, header, "<effectiveTime nullFlavor=\"NA\" />\n            <legalAuthenticator", 1)
	// The second line item (not dispensed, no supplies) gets a repeat too.
	const second = `<id root="B1000000-0000-4000-8000-000000000022" />
                <code code="225426007" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" displayName="Administration of therapeutic substance (procedure)" />
                <effectiveTime nullFlavor="NA" />`
	if !strings.Contains(noHeader, second) {
		t.Fatal("fixture: want the second line item")
	}
	bothLines := strings.Replace(noHeader, second, second+"\n                <repeatNumber><low value=\"2\" /><high value=\"6\" /></repeatNumber>", 1)
	for name, msg := range map[string]string{"first line": noHeader, "both lines": bothLines} {
		t.Run(name, func(t *testing.T) {
			body := dispensetest.RoundTrip(t, claim.ClaimToFHIR, claim.ClaimToV3, []byte(msg))
			res, err := fhir.DecodeResource(body)
			if err != nil {
				t.Fatal(err)
			}
			item := res.(*fhir.Claim).Item[0]
			if fhir.FindExtension(item.Extension, core.ExtensionEPSRepeatInformation) != nil {
				t.Error("Claim.item has repeat information; the v3 supply header has none")
			}
			d0 := item.Detail[0]
			if fhir.FindExtension(d0.Extension, core.ExtensionEPSRepeatInformation) != nil {
				t.Error("Claim.item.detail[0] has repeat information: the EPS API would write it as the supply header's")
			}
			if len(d0.SubDetail) == 0 || fhir.FindExtension(d0.SubDetail[0].Extension, core.ExtensionEPSRepeatInformation) == nil {
				t.Error("Claim.item.detail[0].subDetail[0] has no repeat information: the EPS API would write no line repeat")
			}
		})
	}
}

// TestClaimRepeatOlderLocationFHIR: a Claim without repeat information on
// its item is read as the EPS API reads it (dispense-claim.ts): the supply
// header's repeat from the first detail, every line item's from its first
// subDetail, a later detail's own repeat ignored. Before, porxgate took
// the older location only when the first detail had one, so a repeat on a
// later detail became a line repeat the EPS API does not write, and one on
// a first subDetail was lost where the EPS API writes it.
func TestClaimRepeatOlderLocationFHIR(t *testing.T) {
	good := maptest.Testdata(t, "eps-fhir/Claim--two-items-packs-not-dispensed.json")
	repeat := func() fhir.Extension {
		ext, ok := core.RepeatExtension("2", "6")
		if !ok {
			t.Fatal("RepeatExtension")
		}
		return ext
	}
	tests := []struct {
		name   string
		mutate func(c *fhir.Claim)
		want   []string // the v3 repeatNumbers' parents, in order
	}{
		{"later detail only", func(c *fhir.Claim) {
			c.Item[0].Detail[1].Extension = append(c.Item[0].Detail[1].Extension, repeat())
		}, nil},
		{"first subDetail only", func(c *fhir.Claim) {
			sd := &c.Item[0].Detail[0].SubDetail[0]
			sd.Extension = append(sd.Extension, repeat())
		}, []string{"pertinentSuppliedLineItem"}},
		{"first detail and a later first subDetail", func(c *fhir.Claim) {
			c.Item[0].Detail[0].Extension = append(c.Item[0].Detail[0].Extension, repeat())
			sd := &c.Item[0].Detail[1].SubDetail[0]
			sd.Extension = append(sd.Extension, repeat())
		}, []string{"pertinentSupplyHeader", "pertinentSuppliedLineItem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := fhir.DecodeResource(good)
			if err != nil {
				t.Fatal(err)
			}
			c := res.(*fhir.Claim)
			tt.mutate(c)
			body, err := fhir.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			out, err := claim.ClaimToV3(body, core.Meta{}, dispensetest.Env())
			if err != nil {
				t.Fatal(err)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(out); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rn := range doc.FindElements("//repeatNumber") {
				got = append(got, rn.Parent().Tag)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("repeatNumber under %v, want %v", got, tt.want)
			}
		})
	}
}

// TestClaimNothingSuppliedEPSShape: a claim line item without supplies (not
// dispensed; component is 0..* in PORX_MT142001UK31) becomes a detail with
// the programCode the EPS API's own claims give such a detail, a charge
// not paid and the endorsement NDEC (No Dispenser Endorsement Code). The EPS
// API writes neither into v3 for a detail without subDetails, but its claim
// validator (claim-validator.ts, medicationDispenseEndorsementPresent)
// refuses a Claim in which no detail names an endorsement: before, a claim
// of which nothing was supplied reached EPS without one and was refused
// ("The claim is missing the required endorsement code"), where Spine takes
// it. The v3 comes back unchanged.
func TestClaimNothingSuppliedEPSShape(t *testing.T) {
	msg := maptest.Testdata(t, "claim/claim-nothing-dispensed.xml")
	body, _, err := claim.ClaimToFHIR(msg, dispensetest.Env())
	if err != nil {
		t.Fatal(err)
	}
	res, err := fhir.DecodeResource(body)
	if err != nil {
		t.Fatal(err)
	}
	details := res.(*fhir.Claim).Item[0].Detail
	if len(details) == 0 {
		t.Fatal("no details")
	}
	for i, d := range details {
		if len(d.SubDetail) != 0 {
			t.Fatalf("detail %d has subDetails; the fixture supplies nothing", i)
		}
		var codes []string
		for _, pc := range d.ProgramCode {
			for _, cd := range pc.Coding {
				codes = append(codes, cd.System+"|"+cd.Code)
			}
		}
		want := []string{core.CodeSystemPrescriptionCharge + "|not-paid", core.CodeSystemDispenseEndorsement + "|NDEC"}
		if strings.Join(codes, " ") != strings.Join(want, " ") {
			t.Errorf("detail %d programCode %v, want %v", i, codes, want)
		}
	}
}
