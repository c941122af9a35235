package core

import (
	"regexp"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// Parties, v3 → FHIR: readers that turn v3 names, telecoms, addresses, the
// recordTarget Patient and AgentPersons into the FHIR resources the EPS API
// expects, shaped so that the FHIR → v3 writers of parties.go give the same
// v3 back. Problems are recorded on the nodes' v3.Reader with their path.
// Elements the FHIR profiles have no place for are not read here; a caller
// that must give the v3 back exactly compares it with what the writers make
// (see package prescribe's carry.go).

// ReadName reads a v3 name element into a HumanName: prefix, given, family
// and suffix parts, or its text when it has no parts. The PN datatype lets a
// name hold several family parts, where a HumanName has one family: they
// are joined by a space in their order (a double surname), not cut to the
// first, so EPS reads the whole name. (The v3 written back from it then
// differs, and what must come back exactly is carried: prescribe's
// carry.go, the cancel layout, Env.KeepV3.)
func ReadName(n v3.Node) fhir.HumanName {
	var hn fhir.HumanName
	if use := n.OptAttr("use"); use != "" {
		u, err := NameUseFromV3(use)
		if err != nil {
			n.Fail("%v", err)
		}
		hn.Use = u
	}
	// The parts are read from the tree itself: no part is refused, so
	// none needs a Node and its path. The prefixes, given names and
	// suffixes are counted first and take their lists from one (each
	// list full: appending to one copies it).
	parts, lists := 0, [3]int{}
	for i := 0; n.El != nil && i < len(n.El.Child); i++ {
		if c, ok := n.El.Child[i].(*etree.Element); ok {
			parts++
			switch c.Tag {
			case "prefix":
				lists[0]++
			case "given":
				lists[1]++
			case "suffix":
				lists[2]++
			}
		}
	}
	if all := lists[0] + lists[1] + lists[2]; all > 0 {
		room := make([]string, all)
		if p := lists[0]; p > 0 {
			hn.Prefix = room[:0:p]
		}
		if g := lists[1]; g > 0 {
			hn.Given = room[lists[0] : lists[0] : lists[0]+g]
		}
		if x := lists[2]; x > 0 {
			hn.Suffix = room[all-x : all-x : all]
		}
	}
	for i := 0; parts > 0 && i < len(n.El.Child); i++ {
		c, ok := n.El.Child[i].(*etree.Element)
		if !ok {
			continue
		}
		switch c.Tag {
		case "prefix":
			hn.Prefix = append(hn.Prefix, v3.ElementText(c))
		case "given":
			hn.Given = append(hn.Given, v3.ElementText(c))
		case "family":
			if hn.Family == "" {
				hn.Family = v3.ElementText(c)
			} else if f := v3.ElementText(c); f != "" {
				hn.Family += " " + f
			}
		case "suffix":
			hn.Suffix = append(hn.Suffix, v3.ElementText(c))
		}
	}
	if parts == 0 {
		hn.Text = strings.TrimSpace(n.Text())
	}
	return hn
}

// NameDisplay is a name as one line of text: its text, or its parts
// (prefixes, given names, family name, suffixes) joined by spaces.
func NameDisplay(hn fhir.HumanName) string {
	if hn.Text != "" {
		return hn.Text
	}
	parts := make([]string, 0, len(hn.Prefix)+len(hn.Given)+len(hn.Suffix)+1)
	for _, group := range [][]string{hn.Prefix, hn.Given, {hn.Family}, hn.Suffix} {
		for _, p := range group {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
	}
	return strings.Join(parts, " ")
}

// NamePersonReference names the person of a logical reference: hn as its
// display (NameDisplay) and, when that alone would not give hn back (a
// use, or parts), hn itself in ExtensionPersonName.
func NamePersonReference(ref *fhir.Reference, hn fhir.HumanName) {
	ref.Display = NameDisplay(hn)
	if hn.Use == "" && hn.Family == "" && len(hn.Given) == 0 && len(hn.Prefix) == 0 && len(hn.Suffix) == 0 && hn.Period == nil {
		return
	}
	kept := hn
	ref.Extension = append(ref.Extension, fhir.Extension{URL: ExtensionPersonName, ValueHumanName: &kept})
}

// ReadTelecom reads <telecom use value/> into a phone ContactPoint.
func ReadTelecom(n v3.Node) fhir.ContactPoint {
	cp := fhir.ContactPoint{System: "phone"}
	if use := n.OptAttr("use"); use != "" {
		u, err := TelecomUseFromV3(use)
		if err != nil {
			n.Fail("%v", err)
		}
		cp.Use = u
	}
	if v := n.OptAttr("value"); v != "" {
		cp.Value = TelecomValueFromV3(v)
	}
	return cp
}

// ReadTelecoms reads the telecom children of n (ReadTelecom each). A
// null-flavoured one (<telecom nullFlavor="NI"/>: no number known) beside
// a real one is left out: it would become an empty ContactPoint, and where
// it came first the one EPS writes back (a role's first), the real number
// lost. Alone it is read as before.
func ReadTelecoms(n v3.Node) []fhir.ContactPoint {
	return readEach(withoutNullBeside(n.All("telecom")), ReadTelecom)
}

// ReadAddresses reads the addr children of n (ReadAddress each), a
// null-flavoured one beside a real one left out, as ReadTelecoms.
func ReadAddresses(n v3.Node) []fhir.Address {
	return readEach(withoutNullBeside(n.All("addr")), ReadAddress)
}

// readEach returns read of each of nodes, in a list made at its size; nil
// for no nodes.
func readEach[T any](nodes []v3.Node, read func(v3.Node) T) []T {
	if len(nodes) == 0 {
		return nil
	}
	out := make([]T, len(nodes))
	for i, n := range nodes {
		out[i] = read(n)
	}
	return out
}

// withoutNullBeside returns nodes less those with a nullFlavor, when
// another is without one; else nodes.
func withoutNullBeside(nodes []v3.Node) []v3.Node {
	known := 0
	for _, n := range nodes {
		if !n.HasAttr("nullFlavor") {
			known++
		}
	}
	if known == 0 || known == len(nodes) {
		return nodes
	}
	out := make([]v3.Node, 0, known)
	for _, n := range nodes {
		if !n.HasAttr("nullFlavor") {
			out = append(out, n)
		}
	}
	return out
}

// ReadAddress reads <addr use> (its parts, or text) into an Address: the
// first postalCode is the postcode and every other part that holds address
// text (streetAddressLine, city, county, houseNumber, streetName… and a
// further postalCode) a line, in the order sent, as AddAddress and the EPS
// API write every line back as a streetAddressLine. A delimiter, an
// addressKey (a PAF key, no text of the address) and the AD's desc, id and
// useablePeriod are not lines.
func ReadAddress(n v3.Node) fhir.Address {
	var a fhir.Address
	if use := n.OptAttr("use"); use != "" {
		u, err := AddressUseFromV3(use)
		if err != nil {
			n.Fail("%v", err)
		}
		a.Use = u
	}
	// The parts are read from the tree itself (no part is refused, so
	// none needs a Node and its path), the lines made in one allocation
	// for as many as there may be.
	parts, most := 0, 0
	if n.El != nil {
		for _, t := range n.El.Child {
			if c, ok := t.(*etree.Element); ok {
				parts++
				switch c.Tag {
				case "delimiter", "addressKey", "desc", "id", "useablePeriod":
				default:
					most++
				}
			}
		}
	}
	for i := 0; parts > 0 && i < len(n.El.Child); i++ {
		c, ok := n.El.Child[i].(*etree.Element)
		if !ok {
			continue
		}
		switch c.Tag {
		case "postalCode":
			if a.PostalCode == "" {
				a.PostalCode = v3.ElementText(c)
				continue
			}
		case "delimiter", "addressKey", "desc", "id", "useablePeriod":
			continue
		}
		if a.Line == nil {
			a.Line = make([]string, 0, most)
		}
		a.Line = append(a.Line, v3.ElementText(c))
	}
	if parts == 0 {
		a.Text = strings.TrimSpace(n.Text())
	}
	return a
}

// ReadPatient reads recordTarget/Patient into a Patient with the given id:
// NHS number, addresses, telecoms, names, gender, birth date and the GP
// practice (a null provider id becomes the unknown-GP code V81999).
func ReadPatient(n v3.Node, id string) *fhir.Patient {
	parts := new(patientParts)
	p := &parts.patient
	p.ResourceType, p.ID = "Patient", id
	nhs := V3ID(n.Child("id"), v3.OIDNHSNumber)
	parts.identifier[0] = fhir.Identifier{System: fhir.SystemNHSNumber, Value: nhs}
	p.Identifier = parts.identifier[:]
	p.Address = ReadAddresses(n)
	p.Telecom = ReadTelecoms(n)
	person := n.Child("patientPerson")
	if names := person.All("name"); len(names) > 0 {
		if len(names) == 1 { // as nearly every patient has, in the Patient's allocation
			p.Name = parts.name[:]
		} else {
			p.Name = make([]fhir.HumanName, len(names))
		}
		for i, nm := range names {
			p.Name[i] = ReadName(nm)
		}
	}
	if person.Exists() && len(p.Name) == 0 {
		person.Child("name")
	}
	gn := person.Child("administrativeGenderCode")
	if code := V3Code(gn, v3.OIDGender); code != "" {
		g, err := GenderFromV3(code)
		if err != nil {
			gn.Fail("%v", err)
		}
		p.Gender = g
	}
	bn := person.Child("birthTime")
	if ts := bn.Value(); ts != "" {
		d, err := FHIRDateFromV3(ts)
		if err != nil {
			bn.Fail("%v", err)
		}
		p.BirthDate = d
	}
	prov := person.Child("playedProviderPatient").Child("subjectOf").Child("patientCareProvision")
	// The care provision's code (CV 0..1 in COCT_MT050012UK05) is the
	// fixed "1" (primary care) when given; left out, which Spine's
	// schematron does not check, it says nothing FHIR holds (the EPS API
	// writes the fixed code back), so it is taken: what must come back as
	// sent is carried (a prescription's parts, the cancel layout) or kept
	// beside (Env.KeepV3).
	V3FixedCode(prov.Opt("code"), "1", v3.OIDCareProvisionType)
	gpID := prov.Child("responsibleParty").Child("healthCareProvider").Child("id")
	gp := UnknownGPODSCode
	if gpID.Exists() && !gpID.HasAttr("nullFlavor") {
		gp = V3ID(gpID, v3.OIDODS)
	}
	parts.gpID = fhir.Identifier{System: fhir.SystemODS, Value: gp}
	parts.gp[0] = fhir.Reference{Identifier: &parts.gpID}
	p.GeneralPractitioner = parts.gp[:]
	return p
}

// patientParts is a Patient ReadPatient reads and the parts it points to
// that every Patient has (its NHS number, its GP, nearly always one name),
// in one allocation (632 bytes, in the allocator's class of 640, where
// the Patient and its name apart took 512 and 128).
type patientParts struct {
	patient    fhir.Patient
	identifier [1]fhir.Identifier
	gp         [1]fhir.Reference
	gpID       fhir.Identifier
	name       [1]fhir.HumanName // the name of a patient with one
}

// CheckPrescribingPatient refuses, with the message constraint rule, the
// Patient of a Parent Prescription or a Cancel Request that has no address
// (the CMET, COCT_MT050012UK05, lets addr be 0..*). Spine's schematron for
// PORX_MT132004UK31 and PORX_MT135001UK32 faults it
// (ErrorBase1634.UNABLE_TO_PROCESS, "Patient address is missing"), and the
// EPS API's translation fails on it with HTTP 500 every time
// (request/patient.ts maps Patient.address unchecked), so the message
// would wait for the poison rule instead of being answered. A missing
// name, gender or birth time (each 0..1 in the CMET), which the schematron
// faults alike, is refused with the same rule and Spine's words.
func CheckPrescribingPatient(patient v3.Node) {
	if !patient.Exists() || patient.Reader() == nil {
		return
	}
	if person := patient.Opt("patientPerson"); person.Exists() {
		SpineRequired(person, "name", SpineNeedsPatientName)
		SpineRequired(person, "administrativeGenderCode", SpineNeedsPatientGender)
		SpineRequired(person, "birthTime", SpineNeedsBirthTime)
	}
	for _, t := range patient.El.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == "addr" {
			return
		}
	}
	patient.Reader().FailRule(patient.Opt("addr").Path(), v3.RuleConstraint, "Spine refuses a patient without an address (Patient address is missing)")
}

// AgentPersonResources are the FHIR resources one v3 AgentPerson maps to.
type AgentPersonResources struct {
	// Role is the PractitionerRole (role profile id, job role, telecoms).
	Role *fhir.PractitionerRole
	// Practitioner is the person (professional code, name); nil when the
	// AgentPerson names no person.
	Practitioner *fhir.Practitioner
	// Organization is the represented organisation; its partOf carries the
	// healthCareProviderLicense organisation.
	Organization *fhir.Organization
	// Parent is the healthCareProviderLicense organisation as a resource of
	// its own, when partOf as an identifier cannot carry it (its type code
	// is not 999); nil otherwise.
	Parent *fhir.Organization
	// roleURL is RoleURL's, once made.
	roleURL string
}

// RoleURL returns FullURL(a.Role.ID), made once for AppendEntries and the
// references to the role (a prescription's requester) alike, and again
// only if the role's id has changed.
func (a *AgentPersonResources) RoleURL() string {
	if !isFullURL(a.roleURL, a.Role.ID) {
		a.roleURL = FullURL(a.Role.ID)
	}
	return a.roleURL
}

// FullURL is the fullUrl porxgate gives a resource with a UUID id.
func FullURL(id string) string { return "urn:uuid:" + id }

// fullURLPrefix is what FullURL puts before an id.
const fullURLPrefix = "urn:uuid:"

// isFullURL reports whether url is FullURL(id).
func isFullURL(url, id string) bool {
	return len(url) == len(fullURLPrefix)+len(id) && url[len(fullURLPrefix):] == id && url[:len(fullURLPrefix)] == fullURLPrefix
}

// LowerIDURL returns LowerID(id) and its FullURL, the id a view of the
// URL's end: one allocation where the two took one each (LowerID's copy
// of an id with upper-case letters, as v3 writes UUIDs, and FullURL's).
func LowerIDURL(id string) (lower, url string) {
	b := make([]byte, len(fullURLPrefix)+len(id))
	copy(b, fullURLPrefix)
	if !PutLowerASCII(b[len(fullURLPrefix):], id) {
		lower = LowerID(id)
		return lower, FullURL(lower)
	}
	url = unsafe.String(unsafe.SliceData(b), len(b)) // b is not kept: the string owns it
	return url[len(fullURLPrefix):], url
}

// PutLowerASCII writes id into dst (of id's length) with its capitals
// lowered, as LowerID lowers them, and reports true; or false, dst written
// in part, when id holds a byte past ASCII, which LowerID lowers by
// strings.ToLower. It lets a caller make LowerID's copy in room of its own
// (a Space's lent room).
func PutLowerASCII(dst []byte, id string) bool {
	dst = dst[:len(id)]
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c >= utf8.RuneSelf {
			return false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return true
}

// ReadAgentPerson reads an AgentPerson into a PractitionerRole, Practitioner
// and Organization(s) with fresh ids from newID. The person's professional
// code gets an identifier system that the rule gives back on the way to v3:
// for AuthorPersonID one of GMC/GMP/NMC/HCPC/professional-code by its shape
// (see ProfessionalCodeIdentifier); for ResponsiblePartyPersonID the DIN.
func ReadAgentPerson(n v3.Node, newID func() string, rule PersonIDRule) *AgentPersonResources {
	a := new(agentPersonParts)
	res, role := &a.res, &a.role
	role.ResourceType, role.ID = "PractitionerRole", FreshID(newID)
	res.Role = role
	if id := OptKnown(n, "id"); id.Exists() {
		a.roleID[0] = fhir.Identifier{System: fhir.SystemSDSRoleProfile, Value: V3ID(id, v3.OIDSDSRoleProfile)}
		role.Identifier = a.roleID[:]
	}
	if cn := OptKnown(n, "code"); cn.Exists() {
		code := V3Code(cn, v3.OIDSDSJobRole)
		sys := CodeSystemJobRoleName
		if strings.Contains(code, ":") {
			sys = fhir.CodeSystemJobRole
		}
		a.coding[0] = fhir.Coding{System: sys, Code: code}
		a.code[0] = fhir.CodeableConcept{Coding: a.coding[:]}
		role.Code = a.code[:]
	}
	role.Telecom = ReadTelecoms(n)
	if pn := n.Opt("agentPerson"); pn.Exists() {
		prac := &a.prac
		prac.ResourceType, prac.ID = "Practitioner", FreshID(newID)
		// Legacy senders are known to use other roots here (e.g.
		// 1.2.826.0.1285.0.2.0.54); the code is read whatever the root, and
		// the prescription's regeneration check keeps the element exact.
		code := SpineRequired(pn, "id", SpineNeedsPersonID).Attr("extension")
		if rule == ResponsiblePartyPersonID {
			a.pracID[0] = fhir.Identifier{System: fhir.SystemDIN, Value: code}
		} else {
			a.pracID[0] = ProfessionalCodeIdentifier(code)
		}
		prac.Identifier = a.pracID[:]
		if nm := pn.Opt("name"); nm.Exists() {
			a.name[0] = ReadName(nm)
			prac.Name = a.name[:]
		}
		res.Practitioner = prac
		role.Practitioner = &a.pracRef
	}
	org, parent := readOrganizationInto(RepresentedOrganization(n), newID, &a.org)
	res.Organization, res.Parent = org, parent
	role.Organization = &a.orgRef
	// The fullUrls of the role, the person and the organisation, in one
	// allocation: the role's is RoleURL's, the others' the role's
	// references.
	if res.Practitioner != nil {
		ids := [3]string{role.ID, res.Practitioner.ID, org.ID}
		urls := fullURLs(ids[:])
		res.roleURL, a.pracRef.Reference, a.orgRef.Reference = urls[0], urls[1], urls[2]
	} else {
		ids := [2]string{role.ID, org.ID}
		urls := fullURLs(ids[:])
		res.roleURL, a.orgRef.Reference = urls[0], urls[1]
	}
	return res
}

// fullURLs returns FullURL of each of ids (at most three), the URLs views
// of one string.
func fullURLs(ids []string) (urls [3]string) {
	size := 0
	for _, id := range ids {
		size += len(fullURLPrefix) + len(id)
	}
	b := make([]byte, 0, size)
	for _, id := range ids {
		b = append(b, fullURLPrefix...)
		b = append(b, id...)
	}
	all := unsafe.String(unsafe.SliceData(b), len(b)) // b is not kept: the string owns it
	at := 0
	for i, id := range ids {
		urls[i] = all[at : at+len(fullURLPrefix)+len(id)]
		at += len(fullURLPrefix) + len(id)
	}
	return urls
}

// agentPersonParts holds what ReadAgentPerson makes of an AgentPerson
// and its represented organisation (not a licence's), so that it is one
// allocation instead of eleven (1,488 bytes, in the allocator's class of
// 1,536, where the two apart took 1,152 and 448).
// The slices taken from its arrays are full (appending to one copies it).
type agentPersonParts struct {
	res     AgentPersonResources
	role    fhir.PractitionerRole
	roleID  [1]fhir.Identifier
	coding  [1]fhir.Coding
	code    [1]fhir.CodeableConcept
	prac    fhir.Practitioner
	pracID  [1]fhir.Identifier
	name    [1]fhir.HumanName
	pracRef fhir.Reference
	orgRef  fhir.Reference
	org     organizationParts // the represented organisation
}

// Entries returns the resources as bundle entries, role first.
func (a *AgentPersonResources) Entries() []fhir.Entry { return a.AppendEntries(nil) }

// AppendEntries appends the resources to entries as bundle entries, role
// first (Entries without a list of its own). An entry's fullUrl is the
// reference to it already made where one was (the role's to the
// Practitioner and Organization, the Organization's partOf), else made.
func (a *AgentPersonResources) AppendEntries(entries []fhir.Entry) []fhir.Entry {
	entries = append(entries, fhir.Entry{FullURL: a.RoleURL(), Resource: a.Role})
	if a.Practitioner != nil {
		entries = append(entries, fhir.Entry{FullURL: fullURLOf(a.Role.Practitioner, a.Practitioner.ID), Resource: a.Practitioner})
	}
	if a.Organization != nil {
		entries = append(entries, fhir.Entry{FullURL: fullURLOf(a.Role.Organization, a.Organization.ID), Resource: a.Organization})
	}
	if a.Parent != nil {
		var partOf *fhir.Reference
		if a.Organization != nil {
			partOf = a.Organization.PartOf
		}
		entries = append(entries, fhir.Entry{FullURL: fullURLOf(partOf, a.Parent.ID), Resource: a.Parent})
	}
	return entries
}

// fullURLOf returns FullURL(id): ref's reference when it is that already
// (ref may be nil), else a new string.
func fullURLOf(ref *fhir.Reference, id string) string {
	if ref != nil && isFullURL(ref.Reference, id) {
		return ref.Reference
	}
	return FullURL(id)
}

// ReadOrganization reads a representedOrganization (id, code, name,
// telecoms, address, healthCareProviderLicense) into an Organization, and
// the licence organisation into partOf, or into a resource of its own when
// its type code needs one. Only the first licence is read: UKCT_MT120201UK04
// allows several, FHIR's partOf holds one, and the callers carry the
// element whole where a second must come back (a prescription's parts, the
// cancel layout, a release request's agent) or refuse it where the CMET has
// no licence at all (ReadDispensingAgentPerson).
func ReadOrganization(n v3.Node, newID func() string) (org, parent *fhir.Organization) {
	return readOrganizationInto(n, newID, new(organizationParts))
}

// readOrganizationInto is ReadOrganization making the Organization in
// parts (a party's, made with it).
func readOrganizationInto(n v3.Node, newID func() string, parts *organizationParts) (org, parent *fhir.Organization) {
	org = &parts.org
	org.ResourceType, org.ID = "Organization", FreshID(newID)
	readOrganizationFields(n).fill(parts)
	org.Telecom = ReadTelecoms(n)
	org.Address = ReadAddresses(n)
	lic := n.Opt("healthCareProviderLicense")
	if !lic.Exists() {
		return org, nil
	}
	// The licence's organisation is read before anything is made of it:
	// without a type (as nearly every licence is) it is no resource, only
	// the partOf reference and its identifier, a sixth of an
	// organizationParts.
	f := readOrganizationFields(lic.Child("Organization"))
	if f.typ == "" {
		ref := new(partOfParts)
		ref.identifier = fhir.Identifier{System: fhir.SystemODS, Value: f.ods}
		ref.ref = fhir.Reference{Identifier: &ref.identifier, Display: f.name}
		org.PartOf = &ref.ref
		return org, nil
	}
	pparts := new(organizationParts)
	p := &pparts.org
	p.ResourceType = "Organization"
	f.fill(pparts)
	p.ID = FreshID(newID)
	org.PartOf = &fhir.Reference{Reference: FullURL(p.ID)}
	return org, p
}

// organizationParts is an Organization ReadOrganization reads and the
// parts organizationFields.fill gives it (its ODS code, its type), in one
// allocation.
type organizationParts struct {
	org        fhir.Organization
	identifier [1]fhir.Identifier
	typ        [1]fhir.CodeableConcept
	coding     [1]fhir.Coding
}

// partOfParts is the partOf reference to a licence's organisation without
// a type, and its identifier, in one allocation.
type partOfParts struct {
	ref        fhir.Reference
	identifier fhir.Identifier
}

// organizationFields is what ReadOrganization reads of an organisation
// itself: its ODS code, its type code ("" when absent or not specified)
// and its name.
type organizationFields struct {
	ods, typ, name string
}

// readOrganizationFields reads an organisation's id, type code and name.
func readOrganizationFields(n v3.Node) organizationFields {
	f := organizationFields{ods: V3ID(SpineRequired(n, "id", SpineNeedsOrganizationID), v3.OIDODS)}
	if code := OrganizationType(n.Opt("code")); code != OrganizationTypeNotSpecified {
		f.typ = code
	}
	// name is optional in the MIM's Organization (0..1): Spine accepts an
	// organisation known by its ODS code alone, and so does porxgate.
	f.name = n.Opt("name").Text()
	return f
}

// fill gives parts.org the identifier, type and name of f.
func (f organizationFields) fill(parts *organizationParts) {
	org := &parts.org
	parts.identifier[0] = fhir.Identifier{System: fhir.SystemODS, Value: f.ods}
	org.Identifier = parts.identifier[:]
	if f.typ != "" {
		parts.coding[0] = fhir.Coding{System: CodeSystemV3OrganizationType, Code: f.typ}
		parts.typ[0] = fhir.CodeableConcept{Coding: parts.coding[:]}
		org.Type = parts.typ[:]
	}
	org.Name = f.name
}

// RepresentedOrganization returns an AgentPerson's organisation: its
// representedOrganization or the CMETs' other choice, a
// representedOrganizationSDS (UKCT_MT120201UK03 and UK04: the organisation
// by its id alone, and in UK04 its licences), which ReadOrganization reads
// alike. Both at once are refused (a choice); neither is a missing
// representedOrganization.
func RepresentedOrganization(n v3.Node) v3.Node {
	return organizationChoice(n, "representedOrganization", "representedOrganizationSDS")
}

// organizationChoice returns the child of n named tag or, when there is
// none, the one named sdsTag (the CMETs' choice of an organisation or an
// organisation by SDS id); both at once are refused, neither is a missing
// tag.
func organizationChoice(n v3.Node, tag, sdsTag string) v3.Node {
	sds := n.Opt(sdsTag)
	if !sds.Exists() {
		return n.Child(tag)
	}
	if n.Opt(tag).Exists() {
		sds.Fail("%s and %s are a choice: one organisation, not both", tag, sdsTag)
	}
	return sds
}

// OptKnown returns n's optional child tag, or no node when that child is
// null-flavoured (<code nullFlavor="UNK"/>, no value known): the readers
// take it as absent, as they take the element left out. Such a child may
// hold nothing but its nullFlavor.
func OptKnown(n v3.Node, tag string) v3.Node {
	c := n.Opt(tag)
	if !c.Exists() || !c.HasAttr("nullFlavor") {
		return c
	}
	Attrs(c, "nullFlavor", "*")
	ExpectChildren(c)
	return v3.Node{}
}

// OrganizationType reads an organisation's type code, optional in every
// CMET porxgate reads (code, CS 0..1, in UKCT_MT120201UK03 and UK04 and
// UKCT_MT120401UK02: nhsdigitalmait/SPINE_schema omvt/Schemas): "" when it
// is absent or null-flavoured, the type not given, which the EPS API writes
// back as OrganizationTypeNotSpecified.
func OrganizationType(cn v3.Node) string {
	if !cn.Exists() || cn.HasAttr("nullFlavor") && !cn.HasAttr("code") {
		return ""
	}
	return V3Code(cn, v3.OIDOrganizationType)
}

// professionalCodeShapes pick the FHIR identifier system of a professional
// code by its shape. A GMC number is only recognised without a leading C,
// since the way back to v3 drops one. A G followed by seven digits (GMP
// national codes and the spurious code G9999999 alike) is written as a GMC
// number, as the EPS API's own prescriptions carry G9999999: EPS refuses a
// prescriber Practitioner with a gmp-number ("expected exactly one
// professional code from GMC|NMC|GPhC|HCPC|professional-code"), so porxgate
// never writes one (docs/mappings/conventions.md).
var professionalCodeShapes = []struct {
	system string
	re     *regexp.Regexp
}{
	{fhir.SystemNMC, regexp.MustCompile(`^[0-9]{2}[A-Z][0-9]{4}[A-Z]$`)},
	{fhir.SystemGMC, regexp.MustCompile(`^G?[0-9]{7}$`)},
	{fhir.SystemHCPC, regexp.MustCompile(`^[A-Z]{2}[0-9]{6}$`)},
}

// ProfessionalCodeIdentifier returns the Practitioner identifier for an
// author's v3 professional code (agentPerson/id, 1.2.826.0.1285.0.2.1.54):
// NMC, GMC or HCPC by its shape, else the unknown professional-code system;
// never GMP (see professionalCodeShapes). Each gives the code back
// unchanged under the author rule.
func ProfessionalCodeIdentifier(code string) fhir.Identifier {
	for _, s := range professionalCodeShapes {
		if s.re.MatchString(code) {
			return fhir.Identifier{System: s.system, Value: code}
		}
	}
	return fhir.Identifier{System: fhir.SystemProfessionalCode, Value: code}
}

// FreshID returns a new lower-case id from newID.
func FreshID(newID func() string) string {
	if newID == nil {
		return ""
	}
	return LowerID(newID())
}

// SameElement reports whether two v3 elements are equal in name, attributes
// (in any order; a declaration of the v3 default namespace does not count),
// trimmed text and children, ignoring the child elements for which skip
// returns true.
func SameElement(a, b *etree.Element, skip func(*etree.Element) bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	if !sameOwn(a, b) {
		return false
	}
	i, j := 0, 0
	for {
		ae := nextElement(a, &i, skip)
		be := nextElement(b, &j, skip)
		if ae == nil || be == nil {
			return ae == be
		}
		if !SameElement(ae, be, skip) {
			return false
		}
	}
}

// sameOwn is SameElement's rule for two elements themselves, children
// aside: name, attributes and trimmed text.
func sameOwn(a, b *etree.Element) bool {
	return a.Tag == b.Tag && a.Space == b.Space &&
		(sameAttrsInOrder(a.Attr, b.Attr) || sameAttrsSwapped(a.Attr, b.Attr) || sameAttrsAnyOrder(a, b)) &&
		(noLeadingText(a) && noLeadingText(b) || sameTrimmedText(a, b))
}

// sameAttrsInOrder reports whether two attribute lists are the same
// attributes in the same order: what a tree written back from what was read
// usually has, told without looking each one up.
func sameAttrsInOrder(a, b []etree.Attr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		// An empty prefix (nearly every attribute) is told by its length:
		// the compiler calls memequal for two strings of equal length,
		// however short.
		if a[i].Key != b[i].Key || a[i].Value != b[i].Value ||
			len(a[i].Space) != len(b[i].Space) || (len(a[i].Space) != 0 && a[i].Space != b[i].Space) {
			return false
		}
	}
	return true
}

// sameAttrsSwapped reports whether two lists are the same two unprefixed
// attributes of different names in the other order, as the EPS API writes
// an id's extension before its root and porxgate after it: both
// sameAttrsAnyOrder and v3.SameSignedAttrs then hold, told without looking
// each one up.
func sameAttrsSwapped(a, b []etree.Attr) bool {
	return len(a) == 2 && len(b) == 2 && a[0].Space == "" && a[1].Space == "" && b[0].Space == "" && b[1].Space == "" &&
		a[0].Key != a[1].Key && a[0].Key == b[1].Key && a[1].Key == b[0].Key &&
		a[0].Value == b[1].Value && a[1].Value == b[0].Value
}

// sameAttrsAnyOrder is SameElement's comparison of attributes: in any order, a
// declaration of the v3 default namespace or of a prefix not counted (where
// a prefix is declared does not change what the names it binds mean: a
// carried part declares the prefixes it uses that its original's ancestors
// declared).
func sameAttrsAnyOrder(a, b *etree.Element) bool {
	n := 0
	for _, at := range a.Attr {
		if setAsideDecl(at) {
			continue
		}
		n++
		if v, ok := attrValue(b, at.Space, at.Key); !ok || v != at.Value {
			return false
		}
	}
	return n == countAttrs(b)
}

// sameTrimmedText is trimmedText(a) == trimmedText(b), told without
// trimming for two elements that each hold one text alike, flagged alike:
// a leaf's text as read and as written back.
func sameTrimmedText(a, b *etree.Element) bool {
	if noLeadingText(a) && noLeadingText(b) {
		return true
	}
	if len(a.Child) == 1 && len(b.Child) == 1 {
		x, xok := a.Child[0].(*etree.CharData)
		y, yok := b.Child[0].(*etree.CharData)
		if xok && yok && x.Data == y.Data && x.IsWhitespace() == y.IsWhitespace() {
			return true
		}
	}
	return trimmedText(a) == trimmedText(b)
}

// noLeadingText reports, for the shapes nearly every element has, that
// trimmedText(e) is empty, without its loop: no child, or a child element
// first, or white space (as the reader and the writers flag it) alone or
// before a child element. False means only that trimmedText must tell.
func noLeadingText(e *etree.Element) bool {
	c := e.Child
	if len(c) == 0 {
		return true
	}
	switch t := c[0].(type) {
	case *etree.Element:
		return true
	case *etree.CharData:
		if !t.IsWhitespace() {
			return false
		}
		if len(c) == 1 {
			return true
		}
		_, ok := c[1].(*etree.Element)
		return ok
	}
	return false
}

// trimmedText is strings.TrimSpace(v3.ElementText(e)), told at once for an
// element whose text before its first child element is white space only,
// as etree's reader and the writers flag it: the indentation of every
// element with children.
func trimmedText(e *etree.Element) string {
	for _, t := range e.Child {
		switch c := t.(type) {
		case *etree.CharData:
			if !c.IsWhitespace() {
				return strings.TrimSpace(v3.ElementText(e))
			}
		case *etree.Element:
			return ""
		}
	}
	return ""
}

// nextElement returns the next child element of e from token index *i on
// that skip does not rule out, advancing *i past it; nil at the end.
func nextElement(e *etree.Element, i *int, skip func(*etree.Element) bool) *etree.Element {
	for *i < len(e.Child) {
		t := e.Child[*i]
		*i++
		if c, ok := t.(*etree.Element); ok && (skip == nil || !skip(c)) {
			return c
		}
	}
	return nil
}

// attrValue returns the value of e's first attribute matching space and
// key as etree's SelectAttrValue matches them (an empty space matches
// any), without putting the two together and apart again.
func attrValue(e *etree.Element, space, key string) (string, bool) {
	for i := range e.Attr {
		if a := &e.Attr[i]; a.Key == key && (space == "" || space == a.Space) {
			return a.Value, true
		}
	}
	return "", false
}

// setAsideDecl tells a namespace declaration SameElement does not compare:
// one of the v3 default namespace, which changes nothing where the v3
// namespace is already in force, or one of a prefix (the prefixes of names
// are compared).
func setAsideDecl(a etree.Attr) bool {
	return a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns" && a.Value == v3.Namespace
}

func countAttrs(e *etree.Element) int {
	n := 0
	for _, a := range e.Attr {
		if !setAsideDecl(a) {
			n++
		}
	}
	return n
}

// ExpectChildren records a child element whose name is not in allowed, so
// nothing a message carries is silently dropped. (Readers whose output is
// checked by regeneration, as the prescription's is, need not call it.)
func ExpectChildren(n v3.Node, allowed ...string) {
	if !n.Exists() {
		return
	}
next:
	for _, c := range n.Elements() {
		for _, a := range allowed {
			if c.El.Tag == a {
				continue next
			}
		}
		c.Fail("unexpected element")
		return
	}
}
