package core

import (
	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// WriteDocument serialises the document indented, with the signature
// fragment spliced in untouched (its bytes are what was signed).
// (Other families call it too; c is kept for their sake and unused.)
func WriteDocument(c *BundleContext, doc *etree.Document, sig *SignaturePlacement) ([]byte, error) {
	if sig == nil {
		return WriteIndented(doc), nil
	}
	sig.Insert()
	return writeIndented(doc, SignatureMarker, sig.Raw), nil
}

// BundleMessageID returns the Bundle identifier (system rfc4122).
func BundleMessageID(c *BundleContext) string {
	id := c.Bundle.Identifier
	if id == nil || id.Value == "" {
		c.Fail("Bundle.identifier", "missing mandatory identifier")
		return ""
	}
	if id.System != fhir.SystemRFC4122 {
		c.Fail("Bundle.identifier.system", "system %q, want %s", id.System, fhir.SystemRFC4122)
	}
	return id.Value
}

// CheckMessageEvent checks that the bundle has exactly one MessageHeader
// and that its event is the expected one.
func CheckMessageEvent(c *BundleContext, event string) {
	var mh *fhir.MessageHeader
	for i, e := range c.Bundle.Entry {
		if h, ok := e.Resource.(*fhir.MessageHeader); ok {
			if mh != nil {
				c.Fail(Indexed("Bundle.entry", i), "more than one MessageHeader")
				return
			}
			mh = h
		}
	}
	if mh == nil {
		c.Fail("Bundle.entry", "no MessageHeader")
		return
	}
	if mh.EventCoding.Code != event {
		c.Fail(c.Path(mh)+".eventCoding.code", "message event %q, want %s", mh.EventCoding.Code, event)
	}
}

// CheckShortFormID checks a short-form prescription id's shape
// (XXXXXX-OOOOOO-XXXXXC).
// It does not judge the check character: porxgate's one rule for every
// interaction, in both directions, is that the check character is Spine's to
// judge, as the EPS API's translation leaves it (EPS then refuses a
// prescription-order with FAILURE_TO_PROCESS_MESSAGE "prescriptionID has
// invalid checksum", which reaches the legacy sender as Spine's error). See
// docs/mappings/conventions.md.
func CheckShortFormID(id string) error {
	err := v3.ValidateShortFormID(id)
	if err == nil || len(id) != 20 {
		return err
	}
	want, cerr := v3.ShortFormCheckChar(id[:19])
	if cerr == nil && v3.ValidateShortFormID(id[:19]+string(want)) == nil {
		return nil
	}
	return err
}

// LongFormID returns the Extension-DM-PrescriptionId of a group identifier.
func LongFormID(c *BundleContext, gi *fhir.Identifier, path string) string {
	ext := c.ExtensionAt(gi.Extension, fhir.ExtensionPrescriptionID, path, ".extension")
	if ext == nil || ext.ValueIdentifier == nil || ext.ValueIdentifier.Value == "" {
		c.Fail(path+".extension", "missing mandatory extension %s", fhir.ExtensionPrescriptionID)
		return ""
	}
	return ext.ValueIdentifier.Value
}
