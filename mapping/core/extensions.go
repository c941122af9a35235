package core

import "github.com/porxgate/porxgate/fhir"

// porxgate's own FHIR extensions for the few v3 prescription values the EPS
// FHIR profiles have no place for. v3 → FHIR adds one only when the value
// differs from what the EPS rules derive on the way back, so FHIR made from
// EPS-shaped v3 carries none; FHIR → v3 honours them when present.
const (
	// PorxgateExtensionBase prefixes porxgate's extension URLs.
	PorxgateExtensionBase = "https://fhir.porxgate.dev/StructureDefinition/"
	// ExtensionRepeatNumber carries a v3 repeatNumber interval exactly
	// (sub-extensions scope = prescription | lineItem, low, high as
	// valueString; no low/high means "no repeatNumber element").
	ExtensionRepeatNumber = PorxgateExtensionBase + "Extension-Porxgate-RepeatNumber"
	// ExtensionTokenIssued carries pertinentTokenIssued when it is true
	// (valueBoolean); the EPS API always writes false.
	ExtensionTokenIssued = PorxgateExtensionBase + "Extension-Porxgate-TokenIssued"
	// ExtensionEffectiveTime carries the ParentPrescription effectiveTime
	// (valueString, a v3 TS) when neither the validity period start nor the
	// author time gives it.
	ExtensionEffectiveTime = PorxgateExtensionBase + "Extension-Porxgate-EffectiveTime"
	// ExtensionPersonName carries, on a logical reference to a person, the
	// person's name as v3 gave it (valueHumanName: its use and parts) when
	// the reference's display (the one form of it the EPS API takes) would
	// not give it back.
	ExtensionPersonName = PorxgateExtensionBase + "Extension-Porxgate-PersonName"
)

// EPS FHIR extensions a released prescription carries (besides
// ExtensionTaskBusinessStatus, the prescription status as an
// EPS-task-business-status coding, which porxgate puts on every
// MedicationRequest of a released prescription).
const (
	// ExtensionDispensingInformation carries the item status (v3
	// pertinentItemStatus) in its dispenseStatus sub-extension.
	ExtensionDispensingInformation = fhir.ExtensionDispensingInformation
	// ExtensionSpineSupportingInfo points a release refusal at the
	// organisation that holds the prescription.
	ExtensionSpineSupportingInfo = fhir.ExtensionSpineSupportingInfo
)
