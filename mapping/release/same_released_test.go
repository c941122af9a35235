package release

import (
	"regexp"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestSameReleasedEdited holds the lossless check of a released
// prescription to one answer whichever way it is asked: comparing only the
// release additions and their paths (core.SameElementEdited, the
// shortcut) answers as comparing the whole ParentPrescription
// (core.SameElement) does, for every released prescription of the corpus's
// and the project's release responses and for variants of them whose
// additions are moved, dropped, changed or doubled, or whose other
// elements differ from what the FHIR writes; both answers occur.
func TestSameReleasedEdited(t *testing.T) {
	bases := releasedTestMessages(t)
	// Each variant changes the first match of its pattern (all matches
	// with -1).
	const itemStatus = `(?s)<pertinentInformation4 [^>]*>\s*<seperatableInd [^>]*>\s*<pertinentItemStatus .*?</pertinentInformation4>`
	variants := []struct {
		name, re, repl string
		n              int
	}{
		{"as sent", `^`, ``, 1},
		{"status display changed", `displayName="With Dispenser"`, `displayName="With dispenser"`, 1},
		{"status updateMode dropped", `<seperatableInd updateMode="added" value="false"/>`, `<seperatableInd value="false"/>`, 1},
		{"status dropped", `(?s)<pertinentInformation10 .*?</pertinentInformation10>`, ``, 1},
		{"status doubled", `(?s)(<pertinentInformation10 .*?</pertinentInformation10>)`, `$1$1`, 1},
		{"status after the items", `(?s)(<pertinentInformation10 .*?</pertinentInformation10>)(.*)(</pertinentPrescription>)`, `$2$1$3`, 1},
		{"low exemption dropped", `(?s)<pertinentInformation9 .*?</pertinentInformation9>`, ``, 1},
		{"low exemption date changed", `(?s)(<pertinentLowPermanentExemptionInfo .*?<value value=")(\d{8})`, `${1}19000101`, 1},
		{"high exemption dropped", `(?s)<pertinentInformation11 .*?</pertinentInformation11>`, ``, 1},
		{"high exemption attribute", `<pertinentInformation11 `, `<pertinentInformation11 inversionInd="false" `, 1},
		{"item status dropped", itemStatus, ``, 1},
		{"item status changed", `(?s)(<pertinentItemStatus .*?<value code=")(\d{4})`, `${1}0003`, 1},
		{"item status doubled", `(?s)(` + itemStatus[4:] + `)`, `$1$1`, 1},
		{"every item status dropped", itemStatus, ``, -1},
		{"item status moved first", `(?s)(<pertinentLineItem [^>]*>)(.*?)(<pertinentInformation4 .*?</pertinentInformation4>)`, `$1$3$2`, 1},
		{"item status code system", `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.23"`, `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.99"`, 1},
		{"item status extra element", `(?s)(<pertinentItemStatus [^>]*>)`, `$1<id root="2AB3C7D1-0A34-4DA3-B4B7-3B5B61F4FC10"/>`, 1},
		{"typeId of the prescriber", `(<typeId root="[^"]*" extension=")PORX_MT122003UK32"`, `${1}PORX_MT132004UK31"`, 1},
		{"typeId other root", `(<typeId root=")2.16.840.1.113883.2.1.3.2.4.18.7(" extension="PORX_MT122003UK32")`, `${1}2.16.840.1.113883.2.1.3.2.4.18.8$2`, 1},
	}
	seen := map[bool]int{}
	for name, msg := range bases {
		for _, vr := range variants {
			re := regexp.MustCompile(vr.re)
			n := 0
			varied := re.ReplaceAllFunc(msg, func(m []byte) []byte {
				n++
				if vr.n > 0 && n > vr.n {
					return m
				}
				return re.ReplaceAll(m, []byte(vr.repl))
			})
			if n == 0 {
				continue
			}
			checkSameReleased(t, name+", "+vr.name, varied, seen)
		}
	}
	if seen[true] == 0 || seen[false] == 0 {
		t.Errorf("alike %d, unlike %d: want both", seen[true], seen[false])
	}
}

// checkSameReleased compares, for each released prescription of msg that
// the prescribing mapper wrote back, the two ways of asking whether the
// Bundle writes it exactly, counting the answers in seen. It also writes
// each back with release parts moved from prescription to prescription
// (one releasedParts for the message, as a response is read), which must
// give the same tree and the same answers as parts made in place.
func checkSameReleased(t *testing.T, name string, msg []byte, seen map[bool]int) {
	t.Helper()
	var parts releasedParts
	eachReleasedComponent(t, name, msg, func(i int, interaction string, comp v3.Node) {
		pp, regen, edits := writtenBackReleased(comp, interaction, nil)
		if regen == nil {
			return
		}
		want := core.SameElement(pp.El, regen, prescribe.InSignature)
		got := sameReleased(pp.El, regen, true, edits)
		seen[want]++
		if got != want {
			t.Errorf("%s component %d: the shortcut says alike %v, the whole comparison %v:\n%s\nwritten back:\n%s", name, i, got, want, xmlOf(pp.El), xmlOf(regen))
		}
		_, moved, movedEdits := writtenBackReleased(comp, interaction, &parts)
		if got, want := xmlOf(moved), xmlOf(regen); got != want {
			t.Errorf("%s component %d: written back with moved parts:\n%s\nwith parts made in place:\n%s", name, i, got, want)
		}
		if got, whole := sameReleased(pp.El, moved, true, movedEdits), core.SameElement(pp.El, moved, prescribe.InSignature); got != want || whole != want {
			t.Errorf("%s component %d: with moved parts alike %v (whole comparison %v), with parts made in place %v", name, i, got, whole, want)
		}
	})
}

// writtenBackReleased reads a component's released prescription and writes
// it back with the release parts taken from parts (nil: made in place):
// the ParentPrescription, what releasedFrom wrote back (nil when the
// prescribing mapper or it gave nothing) and the edits recorded.
func writtenBackReleased(comp v3.Node, interaction string, parts *releasedParts) (v3.Node, *etree.Element, core.TreeEdits) {
	env := core.FixedEnv()
	var edits core.TreeEdits
	b, written, pp := readReleasedBundle(nil, nil, comp, interaction, nil, "", env, &edits)
	if b == nil || written == nil {
		return pp, nil, edits
	}
	regen := releasedFrom(nil, b, written, env, &edits, parts)
	return pp, regen, edits
}

// TestPathUnder checks how a released prescription's problem paths are put
// under its component's.
func TestPathUnder(t *testing.T) {
	const base, root = "/M/subject/R/component[2]/ParentPrescription", "/ParentPrescription"
	for _, tt := range []struct{ path, want string }{
		{root, base},
		{root + "/id", base + "/id"},
		{root + "/pertinentInformation2[3]/@extension", base + "/pertinentInformation2[3]/@extension"},
		{"/ParentPrescriptionX/id", "/ParentPrescriptionX/id"},
		{"/Other/id", "/Other/id"},
	} {
		if got := pathUnder(base, root, tt.path); got != tt.want {
			t.Errorf("pathUnder(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
