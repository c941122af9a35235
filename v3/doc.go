// Package v3 reads and writes HL7 v3 PORX messages as Spine exchanges them:
// the transmission and ControlActEvent wrappers, the datatypes (II, CV, PQ,
// TS, IVL), interaction ids in their UK and SM families, the short-form
// prescription id check, and the prescriber's signature fragments.
//
// It builds on github.com/beevik/etree and imports no other porxgate package.
// Parsing goes through Reader, which tracks the element path of everything it
// reads so that an error names the interaction, the path and what was wrong.
// Documents are read by ReadXML, a scanner for the XML messages are made of
// that builds the tree etree's own reader would, several times faster, and
// hands anything unusual to etree's reader.
package v3
