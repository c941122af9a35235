package fhir

// MedicationDispense is one supplied (or owing, or not dispensed) item of a
// dispense notification.
type MedicationDispense struct {
	Base
	Identifier                  []Identifier        `json:"identifier,omitempty"`
	PartOf                      []Reference         `json:"partOf,omitempty"`
	Status                      string              `json:"status,omitempty"`
	StatusReasonCodeableConcept *CodeableConcept    `json:"statusReasonCodeableConcept,omitempty"`
	Category                    *CodeableConcept    `json:"category,omitempty"`
	MedicationCodeableConcept   *CodeableConcept    `json:"medicationCodeableConcept,omitempty"`
	MedicationReference         *Reference          `json:"medicationReference,omitempty"`
	Subject                     *Reference          `json:"subject,omitempty"`
	Context                     *Reference          `json:"context,omitempty"`
	Performer                   []DispensePerformer `json:"performer,omitempty"`
	Location                    *Reference          `json:"location,omitempty"`
	AuthorizingPrescription     []Reference         `json:"authorizingPrescription,omitempty"`
	Type                        *CodeableConcept    `json:"type,omitempty"`
	Quantity                    *Quantity           `json:"quantity,omitempty"`
	DaysSupply                  *Quantity           `json:"daysSupply,omitempty"`
	WhenPrepared                string              `json:"whenPrepared,omitempty"`
	WhenHandedOver              string              `json:"whenHandedOver,omitempty"`
	Note                        []Annotation        `json:"note,omitempty"`
	DosageInstruction           []Dosage            `json:"dosageInstruction,omitempty"`
}

// GetResourceType implements Resource.
func (*MedicationDispense) GetResourceType() string { return "MedicationDispense" }

// DispensePerformer is who performed the dispense.
type DispensePerformer struct {
	Function *CodeableConcept `json:"function,omitempty"`
	Actor    Reference        `json:"actor"`
}

// Task is the EPS FHIR resource for release, return and withdraw, and the
// tracker's answer.
type Task struct {
	Base
	Identifier      []Identifier     `json:"identifier,omitempty"`
	BasedOn         []Reference      `json:"basedOn,omitempty"`
	GroupIdentifier *Identifier      `json:"groupIdentifier,omitempty"`
	PartOf          []Reference      `json:"partOf,omitempty"`
	Status          string           `json:"status,omitempty"`
	StatusReason    *CodeableConcept `json:"statusReason,omitempty"`
	BusinessStatus  *CodeableConcept `json:"businessStatus,omitempty"`
	Intent          string           `json:"intent,omitempty"`
	Code            *CodeableConcept `json:"code,omitempty"`
	Description     string           `json:"description,omitempty"`
	Focus           *Reference       `json:"focus,omitempty"`
	For             *Reference       `json:"for,omitempty"`
	AuthoredOn      string           `json:"authoredOn,omitempty"`
	LastModified    string           `json:"lastModified,omitempty"`
	Requester       *Reference       `json:"requester,omitempty"`
	Owner           *Reference       `json:"owner,omitempty"`
	ReasonCode      *CodeableConcept `json:"reasonCode,omitempty"`
	Note            []Annotation     `json:"note,omitempty"`
	Input           []TaskParameter  `json:"input,omitempty"`
	Output          []TaskParameter  `json:"output,omitempty"`
}

// GetResourceType implements Resource.
func (*Task) GetResourceType() string { return "Task" }

// TaskParameter is a Task input or output.
type TaskParameter struct {
	Extension      []Extension     `json:"extension,omitempty"`
	Type           CodeableConcept `json:"type"`
	ValueReference *Reference      `json:"valueReference,omitempty"`
	ValueString    string          `json:"valueString,omitempty"`
}

// Claim is a dispenser's claim for reimbursement.
type Claim struct {
	Base
	Identifier   []Identifier     `json:"identifier,omitempty"`
	Status       string           `json:"status,omitempty"`
	Type         *CodeableConcept `json:"type,omitempty"`
	Use          string           `json:"use,omitempty"`
	Patient      *Reference       `json:"patient,omitempty"`
	Created      string           `json:"created,omitempty"`
	Enterer      *Reference       `json:"enterer,omitempty"`
	Provider     *Reference       `json:"provider,omitempty"`
	Priority     *CodeableConcept `json:"priority,omitempty"`
	Prescription *Reference       `json:"prescription,omitempty"`
	Payee        *ClaimPayee      `json:"payee,omitempty"`
	Insurance    []ClaimInsurance `json:"insurance,omitempty"`
	Item         []ClaimItem      `json:"item,omitempty"`
}

// GetResourceType implements Resource.
func (*Claim) GetResourceType() string { return "Claim" }

// ClaimPayee is who receives the payment.
type ClaimPayee struct {
	Type  *CodeableConcept `json:"type,omitempty"`
	Party *Reference       `json:"party,omitempty"`
}

// ClaimInsurance is the claim's coverage.
type ClaimInsurance struct {
	Sequence int       `json:"sequence"`
	Focal    bool      `json:"focal"`
	Coverage Reference `json:"coverage"`
}

// ClaimItem is one prescription-level item of a claim.
type ClaimItem struct {
	Extension        []Extension       `json:"extension,omitempty"`
	Sequence         int               `json:"sequence"`
	ProductOrService CodeableConcept   `json:"productOrService"`
	Modifier         []CodeableConcept `json:"modifier,omitempty"`
	ProgramCode      []CodeableConcept `json:"programCode,omitempty"`
	Quantity         *Quantity         `json:"quantity,omitempty"`
	Detail           []ClaimDetail     `json:"detail,omitempty"`
}

// ClaimDetail is one line item of a claim item.
type ClaimDetail struct {
	Extension        []Extension       `json:"extension,omitempty"`
	Sequence         int               `json:"sequence"`
	ProductOrService CodeableConcept   `json:"productOrService"`
	Modifier         []CodeableConcept `json:"modifier,omitempty"`
	ProgramCode      []CodeableConcept `json:"programCode,omitempty"`
	Quantity         *Quantity         `json:"quantity,omitempty"`
	SubDetail        []ClaimSubDetail  `json:"subDetail,omitempty"`
}

// ClaimSubDetail is one supplied product of a claim line item.
type ClaimSubDetail struct {
	Extension        []Extension       `json:"extension,omitempty"`
	Sequence         int               `json:"sequence"`
	ProductOrService CodeableConcept   `json:"productOrService"`
	Modifier         []CodeableConcept `json:"modifier,omitempty"`
	ProgramCode      []CodeableConcept `json:"programCode,omitempty"`
	Quantity         *Quantity         `json:"quantity,omitempty"`
}
