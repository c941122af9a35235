package fhir

import json "github.com/goccy/go-json"

// ExtensionList is a list of extensions inside an extension or inside a
// data type an extension's value may be (CodeableConcept, Identifier,
// Reference, Quantity). It writes itself, and that is why it is a type of
// its own: Extension is the package's one recursive type, and the JSON
// codec compiles a recursive type into a copy of its whole tree at every
// place it recurs, about 40 MiB of compiled code for the resource types
// the gateway writes, live for the life of the process and marked again
// by every garbage collection. Cut at these lists, Extension compiles
// once in each place it is used (about 3 MiB in all), and only the nested
// lists, which most extensions and data types do not have, are encoded
// apart. Resources' own extension lists stay []Extension and are encoded
// in the same pass as the rest.
type ExtensionList []Extension

// plainExtensionList is ExtensionList without its MarshalJSON.
type plainExtensionList []Extension

// MarshalJSON writes the list exactly as the JSON codec would without this
// method.
func (l ExtensionList) MarshalJSON() ([]byte, error) {
	return json.MarshalWithOption(plainExtensionList(l), json.DisableHTMLEscape())
}
