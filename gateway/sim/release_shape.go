package sim

import (
	"regexp"

	"github.com/porxgate/porxgate/fhir"
)

// What EPS releases is not the prescription-order Bundle it was sent: the
// EPS API writes the v3 of that Bundle to Spine and, on release, translates
// Spine's v3 back (translation/response). The simulator gives a released
// prescription's people and dates the shape that translation gives them
// (epsReleaseShape), so that the gateway answers dispensers from what EPS
// really hands it:
//   - each person's code is the one the EPS API wrote to Spine (the
//     author's only professional code, a GMC number without its C; the
//     responsible party's spurious code, else DIN, else the author rule),
//     under the system its shape picks on the way back (identifiers.ts), an
//     NHSBSA spurious code on the PractitionerRole only;
//   - an author and a responsible party with the same role profile id are
//     one PractitionerRole (common/response-bundles.ts), its Practitioner
//     holding the author's code, then the responsible party's;
//   - the Bundle's meta.lastUpdated is the ParentPrescription's
//     effectiveTime (validityPeriod.start, else the author's time).

// Identifier systems of a person's code.
const (
	systemGMC              = "https://fhir.hl7.org.uk/Id/gmc-number"
	systemGMP              = "https://fhir.hl7.org.uk/Id/gmp-number"
	systemNMC              = "https://fhir.hl7.org.uk/Id/nmc-number"
	systemGPhC             = "https://fhir.hl7.org.uk/Id/gphc-number"
	systemHCPC             = "https://fhir.hl7.org.uk/Id/hcpc-number"
	systemDIN              = "https://fhir.hl7.org.uk/Id/din-number"
	systemProfessionalCode = "https://fhir.hl7.org.uk/Id/professional-code"
	systemSpuriousCode     = "https://fhir.hl7.org.uk/Id/nhsbsa-spurious-code"
	extResponsible         = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ResponsiblePractitioner"
	extDispensingPerformer = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-DispensingPerformer"
)

// authorCodeSystems are the systems the EPS API takes an author's code
// from, one of them exactly (practitioner.ts, getAgentPersonPersonIdForAuthor).
var authorCodeSystems = []string{systemGMC, systemGMP, systemNMC, systemGPhC, systemHCPC, systemProfessionalCode}

// releaseCodeShapes pick a code's system on the way back, in the EPS API's
// order (identifiers.ts); any other code is a professional-code.
var releaseCodeShapes = []struct {
	system string
	re     *regexp.Regexp
}{
	{systemSpuriousCode, regexp.MustCompile(`^6\d{5}$`)},
	{systemNMC, regexp.MustCompile(`^\d{2}[A-Z]\d{4}[A-Z]$`)},
	{systemGMP, regexp.MustCompile(`^G[01234589]\d{6}$`)},
	{systemGMC, regexp.MustCompile(`^C\d{7}$`)},
	{systemHCPC, regexp.MustCompile(`^[A-Z]{2}\d{6}$`)},
	{systemDIN, regexp.MustCompile(`^[389]\d{5}$`)},
}

// releaseCodeSystem is the system the EPS API gives a code on release.
func releaseCodeSystem(code string) string {
	for _, s := range releaseCodeShapes {
		if s.re.MatchString(code) {
			return s.system
		}
	}
	return systemProfessionalCode
}

// jsonMap is a decoded JSON object.
type jsonMap = map[string]any

// epsReleaseShape gives a decoded prescription-order Bundle its people and
// meta.lastUpdated as the EPS API releases them, and reports whether it
// changed anything: not for a Bundle the EPS API would not have written to
// Spine (a person without exactly one code).
func epsReleaseShape(b jsonMap) bool {
	entries, _ := b["entry"].([]any)
	byURL := make(map[string]jsonMap, len(entries))
	var mrs, provenances []jsonMap
	for _, e := range entries {
		em, _ := e.(jsonMap)
		r, _ := em["resource"].(jsonMap)
		if r == nil {
			continue
		}
		if u, _ := em["fullUrl"].(string); u != "" {
			byURL[u] = r
		}
		switch r["resourceType"] {
		case "MedicationRequest":
			mrs = append(mrs, r)
		case "Provenance":
			provenances = append(provenances, r)
		}
	}
	if len(mrs) == 0 {
		return false
	}
	authorRef, respRef := refOf(mrs[0]["requester"]), ""
	for _, x := range extensionsOf(mrs[0]) {
		if x["url"] == extResponsible {
			respRef = refOf(x["valueReference"])
		}
	}
	if respRef == "" {
		respRef = authorRef
	}
	authorRole, respRole := byURL[authorRef], byURL[respRef]
	if authorRole == nil || respRole == nil {
		return false
	}
	authorPrac, respPrac := byURL[refOf(authorRole["practitioner"])], byURL[refOf(respRole["practitioner"])]
	if authorPrac == nil || respPrac == nil {
		return false
	}
	authorCode, ok := sentAuthorCode(authorPrac)
	if !ok {
		return false
	}
	respCode, ok := sentResponsibleCode(respPrac, respRole)
	if !ok {
		return false
	}
	shared := respRef != authorRef && roleProfileOf(authorRole) != "" && roleProfileOf(authorRole) == roleProfileOf(respRole)
	setCodes(authorPrac, authorRole, authorCode)
	switch {
	case respRef == authorRef:
		addCode(authorPrac, authorRole, respCode)
	case shared:
		addCode(authorPrac, authorRole, respCode)
		for _, mr := range mrs {
			for _, x := range extensionsOf(mr) {
				if x["url"] == extResponsible {
					x["valueReference"] = jsonMap{"reference": authorRef}
				}
			}
		}
		drop := map[string]bool{respRef: true, refOf(respRole["practitioner"]): true}
		if org := refOf(respRole["organization"]); org != "" && org != refOf(authorRole["organization"]) {
			drop[org] = true
		}
		keep := entries[:0]
		for _, e := range entries {
			if u, _ := e.(jsonMap)["fullUrl"].(string); !drop[u] {
				keep = append(keep, e)
			}
		}
		b["entry"] = keep
	default:
		setCodes(respPrac, respRole, respCode)
	}
	if t := parentEffectiveTime(mrs[0], provenances); t != "" {
		meta, _ := b["meta"].(jsonMap)
		if meta == nil {
			meta = jsonMap{}
		}
		meta["lastUpdated"] = t
		b["meta"] = meta
	}
	return true
}

// refOf returns a Reference's reference.
func refOf(v any) string {
	m, _ := v.(jsonMap)
	s, _ := m["reference"].(string)
	return s
}

// extensionsOf returns a resource's extensions.
func extensionsOf(r jsonMap) []jsonMap {
	xs, _ := r["extension"].([]any)
	out := make([]jsonMap, 0, len(xs))
	for _, x := range xs {
		if m, ok := x.(jsonMap); ok {
			out = append(out, m)
		}
	}
	return out
}

// identifiersOf returns a resource's identifiers as system, value pairs.
func identifiersOf(r jsonMap) [][2]string {
	ids, _ := r["identifier"].([]any)
	out := make([][2]string, 0, len(ids))
	for _, id := range ids {
		m, _ := id.(jsonMap)
		s, _ := m["system"].(string)
		v, _ := m["value"].(string)
		out = append(out, [2]string{s, v})
	}
	return out
}

// roleProfileOf returns a role's SDS role profile id.
func roleProfileOf(role jsonMap) string {
	for _, id := range identifiersOf(role) {
		if id[0] == fhir.SystemSDSRoleProfile {
			return id[1]
		}
	}
	return ""
}

// sentAuthorCode is the author code the EPS API writes to Spine.
func sentAuthorCode(prac jsonMap) (string, bool) {
	code, n := "", 0
	for _, id := range identifiersOf(prac) {
		for _, s := range authorCodeSystems {
			if id[0] == s && id[1] != "" {
				code, n = id[1], n+1
				if s == systemGMC && (code[0] == 'C' || code[0] == 'c') {
					code = code[1:]
				}
			}
		}
	}
	return code, n == 1
}

// sentResponsibleCode is the responsible party's code the EPS API writes
// to Spine: the role's spurious code, else the DIN, else the author rule.
func sentResponsibleCode(prac, role jsonMap) (string, bool) {
	for _, id := range identifiersOf(role) {
		if id[0] == systemSpuriousCode && id[1] != "" {
			return id[1], true
		}
	}
	for _, id := range identifiersOf(prac) {
		if id[0] == systemDIN && id[1] != "" {
			return id[1], true
		}
	}
	return sentAuthorCode(prac)
}

// setCodes gives a person only the code Spine holds, where the EPS API puts
// it on release: the Practitioner, or the role for a spurious code.
func setCodes(prac, role jsonMap, code string) {
	delete(prac, "identifier")
	var keep []any
	ids, _ := role["identifier"].([]any)
	for _, id := range ids {
		if m, _ := id.(jsonMap); m["system"] != systemSpuriousCode {
			keep = append(keep, id)
		}
	}
	role["identifier"] = keep
	addCode(prac, role, code)
}

// addCode adds a code where the EPS API puts it, unless it is there.
func addCode(prac, role jsonMap, code string) {
	sys := releaseCodeSystem(code)
	target := prac
	if sys == systemSpuriousCode {
		target = role
	}
	for _, id := range identifiersOf(target) {
		if id[0] == sys && id[1] == code {
			return
		}
	}
	ids, _ := target["identifier"].([]any)
	target["identifier"] = append(ids, jsonMap{"system": sys, "value": code})
}

// parentEffectiveTime is the ParentPrescription effectiveTime the EPS API
// writes to Spine (validityPeriod.start, else the author's time: the
// signature's, else authoredOn), as its release translation dates it.
func parentEffectiveTime(mr jsonMap, provenances []jsonMap) string {
	if dr, _ := mr["dispenseRequest"].(jsonMap); dr != nil {
		if vp, _ := dr["validityPeriod"].(jsonMap); vp != nil {
			if s, _ := vp["start"].(string); s != "" {
				return releaseDateTime(s)
			}
		}
	}
	for _, p := range provenances {
		sigs, _ := p["signature"].([]any)
		for _, s := range sigs {
			if w, _ := s.(jsonMap)["when"].(string); w != "" {
				return releaseDateTime(w)
			}
		}
	}
	if a, _ := mr["authoredOn"].(string); a != "" {
		return releaseDateTime(a)
	}
	return ""
}

// releaseDateTime writes a FHIR date or dateTime as the EPS API dates a
// v3 timestamp (UTC, to the second, "+00:00"); "" when it is neither.
func releaseDateTime(v string) string {
	t, err := parseFHIRTime(v)
	if err != nil {
		return ""
	}
	return fhirTime(t)
}
