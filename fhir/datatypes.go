package fhir

import "encoding/json"

// Coding is a code from a code system.
type Coding struct {
	System  string `json:"system,omitempty"`
	Version string `json:"version,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a concept given as one or more codings and/or text.
type CodeableConcept struct {
	Extension ExtensionList `json:"extension,omitempty"`
	Coding    []Coding      `json:"coding,omitempty"`
	Text      string        `json:"text,omitempty"`
}

// Identifier is a business identifier in a naming system.
type Identifier struct {
	Extension ExtensionList `json:"extension,omitempty"`
	Use       string        `json:"use,omitempty"`
	System    string        `json:"system,omitempty"`
	Value     string        `json:"value,omitempty"`
}

// Reference points at another resource, by literal reference and/or identifier.
type Reference struct {
	Extension  ExtensionList `json:"extension,omitempty"`
	Reference  string        `json:"reference,omitempty"`
	Type       string        `json:"type,omitempty"`
	Identifier *Identifier   `json:"identifier,omitempty"`
	Display    string        `json:"display,omitempty"`
}

// Quantity is a measured amount; Value keeps the sender's decimal text.
type Quantity struct {
	Extension  ExtensionList `json:"extension,omitempty"`
	Value      json.Number   `json:"value,omitempty"`
	Comparator string        `json:"comparator,omitempty"`
	Unit       string        `json:"unit,omitempty"`
	System     string        `json:"system,omitempty"`
	Code       string        `json:"code,omitempty"`
}

// Period is a time range; either end may be open.
type Period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Range is a low and high quantity.
type Range struct {
	Low  *Quantity `json:"low,omitempty"`
	High *Quantity `json:"high,omitempty"`
}

// Ratio is a numerator over a denominator.
type Ratio struct {
	Numerator   *Quantity `json:"numerator,omitempty"`
	Denominator *Quantity `json:"denominator,omitempty"`
}

// HumanName is a person's name.
type HumanName struct {
	Use    string   `json:"use,omitempty"`
	Text   string   `json:"text,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Prefix []string `json:"prefix,omitempty"`
	Suffix []string `json:"suffix,omitempty"`
	Period *Period  `json:"period,omitempty"`
}

// Address is a postal address.
type Address struct {
	Use        string   `json:"use,omitempty"`
	Type       string   `json:"type,omitempty"`
	Text       string   `json:"text,omitempty"`
	Line       []string `json:"line,omitempty"`
	City       string   `json:"city,omitempty"`
	District   string   `json:"district,omitempty"`
	State      string   `json:"state,omitempty"`
	PostalCode string   `json:"postalCode,omitempty"`
	Country    string   `json:"country,omitempty"`
	Period     *Period  `json:"period,omitempty"`
}

// ContactPoint is a phone number, email address or similar.
type ContactPoint struct {
	System string  `json:"system,omitempty"`
	Value  string  `json:"value,omitempty"`
	Use    string  `json:"use,omitempty"`
	Rank   int     `json:"rank,omitempty"`
	Period *Period `json:"period,omitempty"`
}

// Meta is resource metadata.
type Meta struct {
	LastUpdated string   `json:"lastUpdated,omitempty"`
	Profile     []string `json:"profile,omitempty"`
}

// Annotation is a text note.
type Annotation struct {
	Text string `json:"text,omitempty"`
}

// Signature is a digital signature with who and when.
type Signature struct {
	Type []Coding  `json:"type,omitempty"`
	When string    `json:"when,omitempty"`
	Who  Reference `json:"who"`
	// SigFormat is the MIME type of Data.
	SigFormat string `json:"sigFormat,omitempty"`
	// Data is the base64 signature as the sender gave it.
	Data string `json:"data,omitempty"`
}

// Extension is a FHIR extension: a URL with either nested extensions or one value.
type Extension struct {
	URL                  string           `json:"url"`
	Extension            ExtensionList    `json:"extension,omitempty"`
	ValueCoding          *Coding          `json:"valueCoding,omitempty"`
	ValueCodeableConcept *CodeableConcept `json:"valueCodeableConcept,omitempty"`
	ValueIdentifier      *Identifier      `json:"valueIdentifier,omitempty"`
	ValueReference       *Reference       `json:"valueReference,omitempty"`
	ValueString          *string          `json:"valueString,omitempty"`
	ValueCode            *string          `json:"valueCode,omitempty"`
	ValueBoolean         *bool            `json:"valueBoolean,omitempty"`
	ValueInteger         *json.Number     `json:"valueInteger,omitempty"`
	ValueUnsignedInt     *json.Number     `json:"valueUnsignedInt,omitempty"`
	ValueDecimal         *json.Number     `json:"valueDecimal,omitempty"`
	ValueDateTime        *string          `json:"valueDateTime,omitempty"`
	ValueDate            *string          `json:"valueDate,omitempty"`
	ValueInstant         *string          `json:"valueInstant,omitempty"`
	ValueQuantity        *Quantity        `json:"valueQuantity,omitempty"`
	ValuePeriod          *Period          `json:"valuePeriod,omitempty"`
	ValueDuration        *Quantity        `json:"valueDuration,omitempty"`
	ValueHumanName       *HumanName       `json:"valueHumanName,omitempty"`
}

// FindExtension returns the first extension with the given URL, or nil.
func FindExtension(exts []Extension, url string) *Extension {
	for i := range exts {
		if exts[i].URL == url {
			return &exts[i]
		}
	}
	return nil
}

// FindIdentifier returns the value of the first identifier in the given system, or "".
func FindIdentifier(ids []Identifier, system string) string {
	for _, id := range ids {
		if id.System == system {
			return id.Value
		}
	}
	return ""
}

// FindCoding returns the first coding in the given system, or nil.
func FindCoding(cc *CodeableConcept, system string) *Coding {
	if cc == nil {
		return nil
	}
	for i := range cc.Coding {
		if cc.Coding[i].System == system {
			return &cc.Coding[i]
		}
	}
	return nil
}
