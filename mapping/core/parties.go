package core

import (
	"slices"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// Parties, FHIR → v3: the patient (recordTarget/Patient) and the people and
// organisations acting in a message (AgentPerson with representedOrganization
// and healthCareProviderLicense), written the way the EPS API writes them.
// Every function takes a BundleContext (problems are recorded there with
// their FHIR path) and writes into an etree element; check c.Err() after.

// FHIR identifier and code systems used for the people in a prescription.
const (
	SystemSpuriousCode     = "https://fhir.hl7.org.uk/Id/nhsbsa-spurious-code"
	CodeSystemJobRoleName  = "https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName"
	SystemOrganizationRole = "https://fhir.nhs.uk/CodeSystem/organisation-role"
	// CodeSystemV3OrganizationType is the v3 organisation type code system
	// written as a FHIR URI; an Organization.type coding in it sets the
	// v3 organisation code (porxgate; the EPS API always writes 999).
	CodeSystemV3OrganizationType = "urn:oid:" + v3.OIDOrganizationType
)

// UnknownGPODSCode is the ODS code EPS uses for "GP not known", in FHIR and
// in the v3 it writes; a v3 null id (nullFlavor) reads as it.
const UnknownGPODSCode = "V81999"

// OrganizationTypeNotSpecified is the v3 organisation type code the EPS API
// writes for every organisation.
const OrganizationTypeNotSpecified = "999"

// PersonIDRule says which professional code becomes AgentPerson/agentPerson/id.
type PersonIDRule int

const (
	// AuthorPersonID takes exactly one of the practitioner's GMC (without a
	// leading C), GMP, NMC, GPhC, HCPC or unknown professional code.
	AuthorPersonID PersonIDRule = iota
	// ResponsiblePartyPersonID takes the role's NHSBSA spurious code, else the
	// practitioner's DIN, else the author rule. A role that names its
	// organisation by reference and its practitioner by identifier only (an
	// "organisation only" responsible party) takes the organisation's name as
	// the person's name.
	ResponsiblePartyPersonID
)

// AgentPersonOptions tune AddAgentPerson.
type AgentPersonOptions struct {
	// PersonID chooses the professional code rule.
	PersonID PersonIDRule
	// ProviderLicense writes representedOrganization/healthCareProviderLicense
	// (prescriptions; not cancellations, and never a dispenser: the
	// dispensing messages' CMET UKCT_MT120201UK03 has no such element).
	ProviderLicense bool
	// Dispenser writes the AgentPerson of UKCT_MT120201UK03 as the EPS API
	// does for a dispenser (agent-person.ts,
	// createAgentPersonUsingPractitionerRoleAndOrganization): the role's
	// first telecom only; the organisation's first telecom, else the role's
	// first (the CMET's Organization holds at most one of each), and its
	// first address.
	Dispenser bool
	// Released reads the person's code as the EPS API writes it when it
	// translates a prescription Spine releases (translation/response,
	// identifiers.ts): on the Practitioner under the system its shape picks
	// (a DIN for six digits starting 3, 8 or 9; a GMC number keeps its C),
	// or, for an NHSBSA spurious code, on the PractitionerRole only. The
	// code is written as Spine holds it (see releasedPersonID).
	Released bool
	// SharedRole, with Released: the role is the author's and the
	// responsible party's both. The EPS API's release translation makes one
	// PractitionerRole of the two AgentPersons when their role profile ids
	// are the same (common/response-bundles.ts), adding the responsible
	// party's code after the author's (common.ts,
	// addIdentifierToPractitionerOrRole).
	SharedRole bool
}

// answerCodeSystems are the systems of a person's code on a Practitioner
// of the EPS API's translations of Spine's answers (translation/response,
// identifiers.ts): those a code's shape picks, and professional-code for
// any other (an SDS user id included).
var answerCodeSystems = [...]string{
	fhir.SystemGMC, fhir.SystemGMP, fhir.SystemNMC, fhir.SystemGPhC, fhir.SystemHCPC, fhir.SystemDIN, fhir.SystemProfessionalCode,
}

// EPSAnswerPersonCode returns the code of a person in the EPS API's
// translation of one of Spine's answers (a release, a cancellation
// response), as Spine's v3 had it, and its identifier system. The EPS API
// puts the code on the Practitioner under the system its shape picks (a
// GMC number keeps its C), or, for an NHSBSA spurious code, on the
// PractitionerRole only; and it makes one PractitionerRole of the
// AgentPersons of an answer that have the same role profile id, adding
// their codes in the order of the answer's parties (response/common.ts,
// addIdentifierToPractitionerOrRole). at is the person's place among the
// of parties sharing role (0 of 1 when it has its own). A code on the
// Practitioner with a spurious code on the role could be either way round;
// the first party is given the code, the others the spurious code, as
// prescriptions usually have it. ok is false when the role and
// Practitioner do not hold one code for each party sharing them.
func EPSAnswerPersonCode(prac *fhir.Practitioner, role *fhir.PractitionerRole, at, of int) (code, system string, ok bool) {
	type found struct{ value, system string }
	var codeRoom, spuriousRoom [3]found
	codes, spurious := codeRoom[:0], spuriousRoom[:0]
	if prac != nil {
		for _, id := range prac.Identifier {
			if id.Value != "" && slices.Contains(answerCodeSystems[:], id.System) {
				codes = append(codes, found{id.Value, id.System})
			}
		}
	}
	for _, id := range role.Identifier {
		if id.Value != "" && id.System == SystemSpuriousCode {
			spurious = append(spurious, found{id.Value, id.System})
		}
	}
	list := codes
	if len(codes) == 0 || at > 0 && len(spurious) > 0 {
		list = spurious
	}
	if len(list) == 0 || len(list) > of {
		return "", "", false
	}
	f := list[min(at, len(list)-1)]
	return f.value, f.system, true
}

// releasedPersonID returns the code of the author (opts.PersonID
// AuthorPersonID) or responsible party of a released prescription
// (AgentPersonOptions.Released): EPSAnswerPersonCode, the author first
// when the role is shared.
func releasedPersonID(c *BundleContext, prac *fhir.Practitioner, pracPath string, role *fhir.PractitionerRole, opts AgentPersonOptions) string {
	at, of := 0, 1
	if opts.SharedRole {
		of = 2
		if opts.PersonID != AuthorPersonID {
			at = 1
		}
	}
	code, _, ok := EPSAnswerPersonCode(prac, role, at, of)
	if !ok {
		c.Fail(pracPath+".identifier", "expected the person's code on the Practitioner (GMC, GMP, NMC, GPhC, HCPC, DIN or professional-code) or its NHSBSA spurious code on the PractitionerRole, one for each party the role stands for")
	}
	return code
}

// AddName writes a HumanName as a v3 name element named tag: prefix, given,
// family and suffix parts, or the text alone when the name has no parts.
func AddName(c *BundleContext, parent *etree.Element, tag string, n fhir.HumanName, path string) *etree.Element {
	return addName(c, parent, tag, n, pathOf(path))
}

// AddNameAt is AddName for the name at path+field+"[i]" (path+field for
// a negative i), the path joined only for a problem.
func AddNameAt(c *BundleContext, parent *etree.Element, tag string, n fhir.HumanName, path, field string, i int) *etree.Element {
	return addName(c, parent, tag, n, lazyPath{path, field, i})
}

// addName is AddName with the name's path joined only for a problem.
func addName(c *BundleContext, parent *etree.Element, tag string, n fhir.HumanName, at lazyPath) *etree.Element {
	var kv [2]string
	attrs := kv[:0]
	if n.Use != "" {
		use, err := NameUseToV3(n.Use)
		if err != nil {
			c.Fail(at.String()+".use", "%v", err)
		}
		attrs = append(attrs, "use", use)
	}
	el := v3.Add(parent, tag, attrs...)
	if len(n.Prefix) == 0 && len(n.Given) == 0 && n.Family == "" && len(n.Suffix) == 0 {
		if n.Text != "" {
			el.SetText(n.Text)
		}
		return el
	}
	for _, p := range n.Prefix {
		v3.AddText(el, "prefix", p)
	}
	for _, g := range n.Given {
		v3.AddText(el, "given", g)
	}
	if n.Family != "" {
		v3.AddText(el, "family", n.Family)
	}
	for _, s := range n.Suffix {
		v3.AddText(el, "suffix", s)
	}
	return el
}

// AddTelecom writes a ContactPoint as <telecom use=".." value="tel:.."/>.
func AddTelecom(c *BundleContext, parent *etree.Element, cp fhir.ContactPoint, path string) *etree.Element {
	return addTelecom(c, parent, cp, pathOf(path))
}

// AddTelecomAt is AddTelecom for the telecom at path+field+"[i]"
// (path+field for a negative i), the path joined only for a problem.
func AddTelecomAt(c *BundleContext, parent *etree.Element, cp fhir.ContactPoint, path, field string, i int) *etree.Element {
	return addTelecom(c, parent, cp, lazyPath{path, field, i})
}

// addTelecom is AddTelecom with the telecom's path joined only for a
// problem.
func addTelecom(c *BundleContext, parent *etree.Element, cp fhir.ContactPoint, at lazyPath) *etree.Element {
	var kv [4]string
	attrs := kv[:0]
	if cp.Use != "" {
		use, err := TelecomUseToV3(cp.Use)
		if err != nil {
			c.Fail(at.String()+".use", "%v", err)
		}
		attrs = append(attrs, "use", use)
	}
	if cp.Value != "" {
		attrs = append(attrs, "value", TelecomValueToV3(cp.Value))
	}
	return v3.Add(parent, "telecom", attrs...)
}

// AddAddress writes an Address as <addr use=".."> with one streetAddressLine
// per line, then city, district and state, and the postalCode. An address
// given only as text is written as the addr's text (porxgate; the EPS API
// writes such an address empty).
func AddAddress(c *BundleContext, parent *etree.Element, a fhir.Address, path string) *etree.Element {
	return addAddress(c, parent, a, pathOf(path))
}

// addAddress is AddAddress with the address's path joined only for a
// problem.
func addAddress(c *BundleContext, parent *etree.Element, a fhir.Address, at lazyPath) *etree.Element {
	var kv [2]string
	attrs := kv[:0]
	if a.Use != "" {
		use, err := AddressUseToV3(a.Use)
		if err != nil {
			c.Fail(at.String()+".use", "%v", err)
		}
		attrs = append(attrs, "use", use)
	}
	el := v3.Add(parent, "addr", attrs...)
	lines := 0
	for _, l := range a.Line {
		if l != "" {
			v3.AddText(el, "streetAddressLine", l)
			lines++
		}
	}
	for _, l := range [...]string{a.City, a.District, a.State} {
		if l != "" {
			v3.AddText(el, "streetAddressLine", l)
			lines++
		}
	}
	if a.PostalCode != "" {
		v3.AddText(el, "postalCode", a.PostalCode)
	} else if lines == 0 && a.Text != "" {
		el.SetText(a.Text)
	}
	return el
}

// The parties' elements whose names and attributes are fixed (see
// v3.Fixed): the AgentPerson's, exported for the families' own
// AgentPersons (cancel's), the patient's and the organisation's, and the
// instance identifiers under a fixed root.
var (
	// FixedAgentPerson is <AgentPerson classCode="AGNT">.
	FixedAgentPerson = v3.NewFixed("AgentPerson", "classCode", "AGNT")
	// FixedAgentPersonPerson is AgentPerson's <agentPerson classCode="PSN"
	// determinerCode="INSTANCE">.
	FixedAgentPersonPerson = v3.NewFixed("agentPerson", "classCode", "PSN", "determinerCode", "INSTANCE")
	// FixedRoleProfileID is <id root=SDS role profile>, FixedUserID <id
	// root=SDS user>, FixedProfessionalCode <id root=professional code>:
	// an AgentPerson's and its person's ids (v3.AddFixedII).
	FixedRoleProfileID    = v3.NewFixed("id", "root", v3.OIDSDSRoleProfile)
	FixedUserID           = v3.NewFixed("id", "root", v3.OIDSDSUser)
	FixedProfessionalCode = v3.NewFixed("id", "root", v3.OIDProfessionalCode)
	// FixedNHSNumber is <id root=NHS number>, FixedODSCode <id root=ODS
	// code> (v3.AddFixedII).
	FixedNHSNumber = v3.NewFixed("id", "root", v3.OIDNHSNumber)
	FixedODSCode   = v3.NewFixed("id", "root", v3.OIDODS)
	// fixedCareProvisionCode is the patient's primary care provision's
	// code, fixedGenders the administrativeGenderCodes GenderToV3 gives
	// (0, 1, 2 and 9), by the code's digit.
	fixedCareProvisionCode = v3.NewFixed("code", "code", "1", "codeSystem", v3.OIDCareProvisionType)
	fixedGenders           = func() (t [10]*v3.Fixed) {
		for _, code := range []string{"0", "1", "2", "9"} {
			t[code[0]-'0'] = v3.NewFixed("administrativeGenderCode", "code", code, "codeSystem", v3.OIDGender)
		}
		return t
	}()

	fixedPatient                 = v3.NewFixed("Patient", "classCode", "PAT")
	fixedPatientPerson           = v3.NewFixed("patientPerson", "classCode", "PSN", "determinerCode", "INSTANCE")
	fixedPlayedProviderPatient   = v3.NewFixed("playedProviderPatient", "classCode", "PAT")
	fixedSubjectOf               = v3.NewFixed("subjectOf", "typeCode", "SBJ")
	fixedPatientCareProvision    = v3.NewFixed("patientCareProvision", "classCode", "PCPR", "moodCode", "EVN")
	fixedHealthCareProvider      = v3.NewFixed("healthCareProvider", "classCode", "PROV")
	fixedRepresentedOrganization = v3.NewFixed("representedOrganization", "classCode", "ORG", "determinerCode", "INSTANCE")
	fixedProviderLicense         = v3.NewFixed("healthCareProviderLicense", "classCode", "PROV")
	fixedLicenseOrganization     = v3.NewFixed("Organization", "classCode", "ORG", "determinerCode", "INSTANCE")
)

// AddPatient writes recordTarget's <Patient classCode="PAT">: NHS number,
// addresses, telecoms and patientPerson (names, gender, birth time and the
// GP practice as the primary care provider; no or an unknown GP becomes a
// null id). path is the Patient's FHIR path.
func AddPatient(c *BundleContext, parent *etree.Element, p *fhir.Patient, path string) *etree.Element {
	pat := v3.AddFixed(parent, fixedPatient)
	nhs := c.RequireIdentifierAt(p.Identifier, fhir.SystemNHSNumber, path, ".identifier")
	v3.AddFixedII(pat, FixedNHSNumber, nhs)
	for i, a := range p.Address {
		addAddress(c, pat, a, lazyPath{path, ".address", i})
	}
	for i, t := range p.Telecom {
		addTelecom(c, pat, t, lazyPath{path, ".telecom", i})
	}
	person := v3.AddFixed(pat, fixedPatientPerson)
	if len(p.Name) == 0 {
		c.Fail(path+".name", "missing mandatory name")
	}
	for i, n := range p.Name {
		addName(c, person, "name", n, lazyPath{path, ".name", i})
	}
	gender, err := GenderToV3(p.Gender)
	if err != nil {
		c.Fail(path+".gender", "%v", err)
	}
	addGender(person, gender)
	birth, err := V3DateFromFHIRDate(p.BirthDate)
	if err != nil {
		c.Fail(path+".birthDate", "%v", err)
	}
	v3.AddValue(person, "birthTime", birth)
	prov := v3.AddFixed(v3.AddFixed(v3.AddFixed(person, fixedPlayedProviderPatient), fixedSubjectOf), fixedPatientCareProvision)
	v3.AddFixed(prov, fixedCareProvisionCode)
	hcp := v3.AddFixed(v3.AddFixed(prov, FixedResponsibleParty), fixedHealthCareProvider)
	// The EPS API writes the unknown-GP code itself, V81999, both for a
	// patient without generalPractitioner and for one whose GP is V81999;
	// v3 nullFlavor="UNK" reads as V81999 (docs/mappings/conventions.md).
	gp := patientGP(c, p, path)
	if gp == "" {
		gp = UnknownGPODSCode
	}
	v3.AddFixedII(hcp, FixedODSCode, gp)
	return pat
}

// addGender writes the patient's administrativeGenderCode, a Fixed for the
// codes GenderToV3 gives.
func addGender(person *etree.Element, code string) {
	if len(code) == 1 && code[0] >= '0' && code[0] <= '9' && fixedGenders[code[0]-'0'] != nil {
		v3.AddFixed(person, fixedGenders[code[0]-'0'])
		return
	}
	v3.AddCV(person, "administrativeGenderCode", code, v3.OIDGender, "")
}

// patientGP returns the ODS code of the patient's only generalPractitioner.
func patientGP(c *BundleContext, p *fhir.Patient, path string) string {
	switch len(p.GeneralPractitioner) {
	case 0:
		return ""
	case 1:
	default:
		c.Fail(path+".generalPractitioner", "more than one generalPractitioner")
		return ""
	}
	ref := &p.GeneralPractitioner[0]
	if ref.Identifier != nil {
		return ref.Identifier.Value
	}
	if org, ok := c.ResolveAt(ref, path, ".generalPractitioner[0]").(*fhir.Organization); ok {
		return c.RequireIdentifierAt(org.Identifier, fhir.SystemODS, c.Path(org), ".identifier")
	}
	return ""
}

// AddAgentPerson writes <AgentPerson classCode="AGNT"> for a PractitionerRole:
// role profile id, job role code, telecoms, the person (professional code
// and name) and the represented organisation (the role's HealthcareService
// when it has one, else its Organization) with, when opts.ProviderLicense,
// the healthCareProviderLicense organisation (partOf, else the organisation
// itself). rolePath is the role's FHIR path.
func AddAgentPerson(c *BundleContext, parent *etree.Element, role *fhir.PractitionerRole, rolePath string, opts AgentPersonOptions) *etree.Element {
	org, orgPath := RoleOrganization(c, role, rolePath)
	prac, pracPath := RolePractitioner(c, role, org, rolePath, opts.PersonID == ResponsiblePartyPersonID)

	ap := v3.AddFixed(parent, FixedAgentPerson)
	if len(role.Identifier) > 0 {
		if id := c.IdentifierAt(role.Identifier, fhir.SystemSDSRoleProfile, rolePath, ".identifier"); id != "" {
			v3.AddFixedII(ap, FixedRoleProfileID, id)
		}
	}
	if len(role.Code) > 0 {
		code := c.CodingAt(role.Code, fhir.CodeSystemJobRole, rolePath, ".code")
		if code == nil {
			code = c.CodingAt(role.Code, CodeSystemJobRoleName, rolePath, ".code")
		}
		if code == nil {
			c.Fail(rolePath+".code", "no job role code in %s or %s", fhir.CodeSystemJobRole, CodeSystemJobRoleName)
		} else {
			v3.AddCV(ap, "code", code.Code, v3.OIDSDSJobRole, "")
		}
	}
	// The telecoms' paths are joined only for a problem.
	telecoms, telOf := role.Telecom, rolePath
	if telecoms == nil {
		if IsLiteral(role.Practitioner) && prac != nil {
			telecoms, telOf = prac.Telecom, pracPath
		} else if org != nil {
			telecoms, telOf = org.Telecom, orgPath
		}
	}
	if opts.Dispenser && len(telecoms) > 1 {
		telecoms = telecoms[:1]
	}
	for i, t := range telecoms {
		addTelecom(c, ap, t, lazyPath{telOf, ".telecom", i})
	}
	if prac != nil {
		person := v3.AddFixed(ap, FixedAgentPersonPerson)
		var id string
		switch {
		case opts.Released:
			id = releasedPersonID(c, prac, pracPath, role, opts)
		case opts.PersonID == ResponsiblePartyPersonID:
			id = responsiblePartyPersonID(c, prac, pracPath, role, rolePath)
		default:
			id = PractitionerCode(c, prac, pracPath)
		}
		v3.AddFixedII(person, FixedProfessionalCode, id)
		switch len(prac.Name) {
		case 0:
		case 1:
			addName(c, person, "name", prac.Name[0], lazyPath{pracPath, ".name", 0})
		default:
			c.Fail(pracPath+".name", "more than one name")
		}
	}
	if org == nil {
		return ap
	}
	if opts.Dispenser {
		addDispenserOrganization(c, ap, role, rolePath, org, orgPath)
		return ap
	}
	rep := AddRepresentedOrganization(c, ap, role, rolePath, org, orgPath)
	if opts.ProviderLicense {
		addProviderLicense(c, rep, org, orgPath)
	}
	return ap
}

// RoleOrganization returns the role's organisation: the referenced resource,
// or one made up from a logical reference (identifier and display, with the
// role's telecoms and its locations' addresses), as the EPS API does.
func RoleOrganization(c *BundleContext, role *fhir.PractitionerRole, rolePath string) (*fhir.Organization, string) {
	if IsLiteral(role.Organization) {
		// The usual case, where the path is joined only for a problem.
		org, ok := c.ResolveAt(role.Organization, rolePath, ".organization").(*fhir.Organization)
		if !ok {
			path := rolePath + ".organization"
			c.Fail(path, "does not reference an Organization")
			return nil, path
		}
		return org, c.Path(org)
	}
	path := rolePath + ".organization"
	if role.Organization == nil {
		c.Fail(path, "missing mandatory organization")
		return nil, path
	}
	if role.Organization.Identifier == nil {
		c.Fail(path, "neither a reference nor an identifier")
		return nil, path
	}
	org := &fhir.Organization{
		Identifier: []fhir.Identifier{*role.Organization.Identifier},
		Name:       role.Organization.Display,
		Telecom:    role.Telecom,
	}
	for i := range role.Location {
		if loc, ok := c.Resolve(&role.Location[i], Indexed(rolePath+".location", i)).(*fhir.Location); ok && loc.Address != nil {
			org.Address = append(org.Address, *loc.Address)
		}
	}
	return org, path
}

// RolePractitioner returns the role's practitioner: the referenced resource,
// or one made up from a logical reference (identifier, and as name the
// ExtensionPersonName kept with the display, else the display).
func RolePractitioner(c *BundleContext, role *fhir.PractitionerRole, org *fhir.Organization, rolePath string, orgOnlyName bool) (*fhir.Practitioner, string) {
	ref := role.Practitioner
	if IsLiteral(ref) {
		// The usual case, where the path is joined only for a problem.
		prac, ok := c.ResolveAt(ref, rolePath, ".practitioner").(*fhir.Practitioner)
		if !ok {
			path := rolePath + ".practitioner"
			c.Fail(path, "does not reference a Practitioner")
			return nil, path
		}
		return prac, c.Path(prac)
	}
	path := rolePath + ".practitioner"
	if ref == nil {
		return nil, path
	}
	if ref.Identifier == nil {
		c.Fail(path, "neither a reference nor an identifier")
		return nil, path
	}
	name := ref.Display
	if orgOnlyName && IsLiteral(role.Organization) && org != nil {
		name = org.Name
	}
	// The Practitioner, its identifier and its name in one allocation.
	made := new(struct {
		prac fhir.Practitioner
		id   [1]fhir.Identifier
		name [1]fhir.HumanName
	})
	made.id[0] = *ref.Identifier
	prac := &made.prac
	prac.Identifier = made.id[:]
	if kept := fhir.FindExtension(ref.Extension, ExtensionPersonName); kept != nil && kept.ValueHumanName != nil && name == ref.Display && NameDisplay(*kept.ValueHumanName) == name {
		// The name as v3 gave it, unless the display was changed since.
		made.name[0] = *kept.ValueHumanName
		prac.Name = made.name[:]
	} else if name != "" {
		made.name[0] = fhir.HumanName{Text: name}
		prac.Name = made.name[:]
	}
	return prac, path
}

// authorProfessionalSystems are the identifier systems of the author's
// professional code, in the order the EPS API looks for them.
var authorProfessionalSystems = [...]string{
	fhir.SystemGMC, fhir.SystemGMP, fhir.SystemNMC, fhir.SystemGPhC, fhir.SystemHCPC, fhir.SystemProfessionalCode,
}

// PractitionerCode returns the practitioner's only professional code.
func PractitionerCode(c *BundleContext, prac *fhir.Practitioner, pracPath string) string {
	var buf [2]string
	codes := buf[:0]
	for _, sys := range authorProfessionalSystems {
		v := c.IdentifierAt(prac.Identifier, sys, pracPath, ".identifier")
		if v == "" {
			continue
		}
		if sys == fhir.SystemGMC && (v[0] == 'C' || v[0] == 'c') {
			v = v[1:]
		}
		codes = append(codes, v)
	}
	if len(codes) != 1 {
		c.Fail(pracPath+".identifier", "expected exactly one professional code (GMC, GMP, NMC, GPhC, HCPC or professional-code), got %d [%s]",
			len(codes), strings.Join(codes, ", "))
		return ""
	}
	return codes[0]
}

// responsiblePartyPersonID returns the spurious code, DIN or author code.
func responsiblePartyPersonID(c *BundleContext, prac *fhir.Practitioner, pracPath string, role *fhir.PractitionerRole, rolePath string) string {
	if v := c.IdentifierAt(role.Identifier, SystemSpuriousCode, rolePath, ".identifier"); v != "" {
		return v
	}
	if v := c.IdentifierAt(prac.Identifier, fhir.SystemDIN, pracPath, ".identifier"); v != "" {
		return v
	}
	return PractitionerCode(c, prac, pracPath)
}

// AddRepresentedOrganization writes representedOrganization from the role's
// HealthcareService (its address from its Location) or its Organization.
func AddRepresentedOrganization(c *BundleContext, ap *etree.Element, role *fhir.PractitionerRole, rolePath string, org *fhir.Organization, orgPath string) *etree.Element {
	rep := v3.AddFixed(ap, fixedRepresentedOrganization)
	if len(role.HealthcareService) == 0 {
		addOrganizationCore(c, rep, org.Identifier, org.Type, org.Name, orgPath)
		atMostOneTelecom(c, org.Telecom, orgPath)
		for i, t := range org.Telecom {
			addTelecom(c, rep, t, lazyPath{orgPath, ".telecom", i})
		}
		switch len(org.Address) {
		case 0:
		case 1:
			addAddress(c, rep, org.Address[0], lazyPath{orgPath, ".address", 0})
		default:
			c.Fail(orgPath+".address", "more than one address")
		}
		return rep
	}
	var hs *fhir.HealthcareService
	var hsPath string
	if ref := &role.HealthcareService[0]; IsLiteral(ref) {
		var ok bool
		if hs, ok = c.ResolveAt(ref, rolePath, ".healthcareService[0]").(*fhir.HealthcareService); !ok {
			c.Fail(rolePath+".healthcareService[0]", "does not reference a HealthcareService")
			return rep
		}
		hsPath = c.Path(hs)
	} else {
		hsPath = rolePath + ".healthcareService[0]"
		hs = &fhir.HealthcareService{Name: ref.Display, Telecom: role.Telecom, Location: role.Location}
		if ref.Identifier != nil {
			hs.Identifier = []fhir.Identifier{*ref.Identifier}
		}
	}
	addOrganizationCore(c, rep, hs.Identifier, hs.Type, hs.Name, hsPath)
	atMostOneTelecom(c, hs.Telecom, hsPath)
	for i, t := range hs.Telecom {
		addTelecom(c, rep, t, lazyPath{hsPath, ".telecom", i})
	}
	switch len(hs.Location) {
	case 1:
		loc, ok := c.ResolveAt(&hs.Location[0], hsPath, ".location[0]").(*fhir.Location)
		if !ok {
			c.Fail(hsPath+".location[0]", "does not reference a Location")
		} else if loc.Address == nil {
			c.Fail(c.Path(loc)+".address", "missing mandatory address")
		} else {
			addAddress(c, rep, *loc.Address, lazyPath{c.Path(loc), ".address", -1})
		}
	default:
		c.Fail(hsPath+".location", "expected exactly one location, got %d", len(hs.Location))
	}
	return rep
}

// atMostOneTelecom records the refusal of a represented organisation with
// more than one telecom, as the EPS API refuses it
// (translation/request/organization.ts: onlyElement over the
// Organization's or HealthcareService's telecom, "Too many values
// submitted. Expected 1 element.") and the v3 schema
// (UKCT_MT120201UK03's Organization, telecom 0..1) holds one. A released
// prescription's or porxgate's own Bundle is written as it is.
func atMostOneTelecom(c *BundleContext, telecoms []fhir.ContactPoint, path string) {
	if len(telecoms) > 1 && !c.Released && !c.Trusted {
		c.Fail(path+".telecom", "more than one telecom")
	}
}

// addDispenserOrganization writes a dispenser's representedOrganization
// (UKCT_MT120201UK03: telecom and addr 0..1): id, type, name, the
// organisation's first telecom (else the role's first, as the EPS API
// writes it) and its first address.
func addDispenserOrganization(c *BundleContext, ap *etree.Element, role *fhir.PractitionerRole, rolePath string, org *fhir.Organization, orgPath string) {
	rep := v3.AddFixed(ap, fixedRepresentedOrganization)
	addOrganizationCore(c, rep, org.Identifier, org.Type, org.Name, orgPath)
	switch {
	case len(org.Telecom) > 0:
		addTelecom(c, rep, org.Telecom[0], lazyPath{orgPath, ".telecom", 0})
	case len(role.Telecom) > 0:
		addTelecom(c, rep, role.Telecom[0], lazyPath{rolePath, ".telecom", 0})
	}
	if len(org.Address) > 0 {
		addAddress(c, rep, org.Address[0], lazyPath{orgPath, ".address", 0})
	}
}

// addOrganizationCore writes an organisation's id (ODS code), type code and
// name (when it has one).
func addOrganizationCore(c *BundleContext, el *etree.Element, ids []fhir.Identifier, types []fhir.CodeableConcept, name, path string) {
	// The problems' paths are joined only for a problem.
	ods := c.RequireIdentifierAt(ids, fhir.SystemODS, path, ".identifier")
	v3.AddFixedII(el, FixedODSCode, ods)
	typeCode := OrganizationTypeNotSpecified
	if cd := c.CodingAt(types, CodeSystemV3OrganizationType, path, ".type"); cd != nil && cd.Code != "" {
		typeCode = cd.Code
	}
	v3.AddCV(el, "code", typeCode, v3.OIDOrganizationType, "")
	// The MIM's Organization name is 0..1: an organisation without one (known
	// by its ODS code) is written without one, as it came.
	if name != "" {
		v3.AddText(el, "name", name)
	}
}

// addProviderLicense writes healthCareProviderLicense: the organisation's
// partOf (a referenced resource, or an identifier with display as name), or
// the organisation itself.
func addProviderLicense(c *BundleContext, rep *etree.Element, org *fhir.Organization, orgPath string) {
	lic := v3.AddFixed(v3.AddFixed(rep, fixedProviderLicense), fixedLicenseOrganization)
	switch {
	case org.PartOf == nil:
		addOrganizationCore(c, lic, org.Identifier, org.Type, org.Name, orgPath)
	case IsLiteral(org.PartOf):
		parent, ok := c.Resolve(org.PartOf, orgPath+".partOf").(*fhir.Organization)
		if !ok {
			c.Fail(orgPath+".partOf", "does not reference an Organization")
			return
		}
		addOrganizationCore(c, lic, parent.Identifier, parent.Type, parent.Name, c.Path(parent))
	case org.PartOf.Identifier != nil:
		addOrganizationCore(c, lic, []fhir.Identifier{*org.PartOf.Identifier}, nil, org.PartOf.Display, orgPath+".partOf")
	default:
		c.Fail(orgPath+".partOf", "neither a reference nor an identifier")
	}
}
