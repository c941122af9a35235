package fhir

import "encoding/json"

// Dosage is how a medication is to be taken (R4 Dosage).
type Dosage struct {
	Extension                []Extension       `json:"extension,omitempty"`
	Sequence                 *json.Number      `json:"sequence,omitempty"`
	Text                     string            `json:"text,omitempty"`
	AdditionalInstruction    []CodeableConcept `json:"additionalInstruction,omitempty"`
	PatientInstruction       string            `json:"patientInstruction,omitempty"`
	Timing                   *Timing           `json:"timing,omitempty"`
	AsNeededBoolean          *bool             `json:"asNeededBoolean,omitempty"`
	AsNeededCodeableConcept  *CodeableConcept  `json:"asNeededCodeableConcept,omitempty"`
	Site                     *CodeableConcept  `json:"site,omitempty"`
	Route                    *CodeableConcept  `json:"route,omitempty"`
	Method                   *CodeableConcept  `json:"method,omitempty"`
	DoseAndRate              []DoseAndRate     `json:"doseAndRate,omitempty"`
	MaxDosePerPeriod         *Ratio            `json:"maxDosePerPeriod,omitempty"`
	MaxDosePerAdministration *Quantity         `json:"maxDosePerAdministration,omitempty"`
	MaxDosePerLifetime       *Quantity         `json:"maxDosePerLifetime,omitempty"`
}

// DoseAndRate is an amount of medication per dose or per time.
type DoseAndRate struct {
	Type         *CodeableConcept `json:"type,omitempty"`
	DoseRange    *Range           `json:"doseRange,omitempty"`
	DoseQuantity *Quantity        `json:"doseQuantity,omitempty"`
	RateRatio    *Ratio           `json:"rateRatio,omitempty"`
	RateRange    *Range           `json:"rateRange,omitempty"`
	RateQuantity *Quantity        `json:"rateQuantity,omitempty"`
}

// Timing is when an event is to occur.
type Timing struct {
	Event  []string         `json:"event,omitempty"`
	Repeat *TimingRepeat    `json:"repeat,omitempty"`
	Code   *CodeableConcept `json:"code,omitempty"`
}

// TimingRepeat is the repetition pattern of a Timing.
type TimingRepeat struct {
	BoundsDuration *Quantity    `json:"boundsDuration,omitempty"`
	BoundsRange    *Range       `json:"boundsRange,omitempty"`
	BoundsPeriod   *Period      `json:"boundsPeriod,omitempty"`
	Count          *json.Number `json:"count,omitempty"`
	CountMax       *json.Number `json:"countMax,omitempty"`
	Duration       *json.Number `json:"duration,omitempty"`
	DurationMax    *json.Number `json:"durationMax,omitempty"`
	DurationUnit   string       `json:"durationUnit,omitempty"`
	Frequency      *json.Number `json:"frequency,omitempty"`
	FrequencyMax   *json.Number `json:"frequencyMax,omitempty"`
	Period         *json.Number `json:"period,omitempty"`
	PeriodMax      *json.Number `json:"periodMax,omitempty"`
	PeriodUnit     string       `json:"periodUnit,omitempty"`
	DayOfWeek      []string     `json:"dayOfWeek,omitempty"`
	TimeOfDay      []string     `json:"timeOfDay,omitempty"`
	When           []string     `json:"when,omitempty"`
	Offset         *json.Number `json:"offset,omitempty"`
}
