package core

// The once-only elements of the parties (CheckOnce), from the MIM 4.2.00
// schemas (nhsdigitalmait/SPINE_schema, TightenedSchemas). Elements the MIM
// lets repeat (a patient's addr, telecom and name; an AgentPerson's addr and
// telecom; the healthCareProviderLicenses) are not named. An organisation's
// telecom and addr are 0..1 in the CMETs (UKCT_MT120201UK03/UK04's
// Organization, omvt/Schemas/*_4200.xsd), and Spine's schematron for an
// author's or dispenser's organisation wants exactly one of each
// (Prescriber_ and Dispenser_Common_Stage_1.xsl: count(telecom/@value)=1,
// count(addr)=1), as the EPS API takes one (request/organization.ts
// onlyElement): a second is refused as a repeat. (Before, porxgate read
// them all and carried what did not come back.)

// organizationOnce is UKCT_MT120201UK04's Organization (the represented
// organisation, a licence's organisation); licenceOnce is a
// healthCareProviderLicense, which holds an Organization in turn.
var organizationOnce, licenceOnce = organizationAndLicenceOnce()

// organizationAndLicenceOnce makes organizationOnce and licenceOnce, each
// naming the other.
func organizationAndLicenceOnce() (org, lic *Once) {
	org = &Once{Tags: []string{"id", "code", "name", "desc", "telecom", "addr"}}
	lic = &Once{Tags: []string{"Organization", "OrganizationSDS"}, Kids: map[string]*Once{"Organization": org}}
	org.Kids = map[string]*Once{"healthCareProviderLicense": lic}
	return org, lic
}

// AgentPersonOnce is UKCT_MT120201UK04's AgentPerson (a prescriber, a
// canceller, a responsible party), for CheckOnce and for the Once of a
// message that holds one. It is shared: read it, do not change it.
func AgentPersonOnce() *Once { return agentPersonOnce }

// PatientOnce is COCT_MT050012UK05's Patient (recordTarget/Patient), as
// AgentPersonOnce.
func PatientOnce() *Once { return patientOnce }

var agentPersonOnce = &Once{
	Tags: []string{"id", "code", "agentPerson", "agentPersonSDS", "representedOrganization", "representedOrganizationSDS"},
	Kids: map[string]*Once{
		"agentPerson": {Tags: []string{"id", "name", "administrativeGenderCode"},
			Kids: map[string]*Once{"healthCareProviderLicense": licenceOnce}},
		"representedOrganization": organizationOnce,
	},
}

var patientOnce = &Once{
	Tags: []string{"id", "code", "certificateText", "patientPerson"},
	Kids: map[string]*Once{"patientPerson": {
		Tags: []string{"administrativeGenderCode", "birthTime", "deceasedTime", "playedProviderPatient"},
		Kids: map[string]*Once{"playedProviderPatient": {
			Tags: []string{"subjectOf"},
			Kids: map[string]*Once{"subjectOf": {
				Tags: []string{"patientCareProvision"},
				Kids: map[string]*Once{"patientCareProvision": {
					Tags: []string{"code", "responsibleParty"},
					Kids: map[string]*Once{"responsibleParty": {
						Tags: []string{"healthCareProvider"},
						Kids: map[string]*Once{"healthCareProvider": {Tags: []string{"id"}}},
					}},
				}},
			}},
		}},
	}},
}
