package dispense

import (
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Dispense Notification (PORX_IN080101UK31, MIM 4.2.00 PORX_MT024001UK31)
// ↔ the EPS FHIR dispense-notification message: one MedicationDispense per
// supplied product (suppliedLineItemQuantity), grouped into v3 supplied line
// items by their prescription-dispense-item-number; an owing or not
// dispensed item without a supply is a MedicationDispense without quantity.
// An amendment carries MessageHeader.extension Extension-replacementOf. See
// docs/mappings/PORX_IN080101UK31.md.

// Fixed v3 values of a Dispense Notification.
const (
	dnTypeID = "PORX_MT024001UK31"
	// Extension names of porxgate's own extensions on a dispense notification.
	pxDispenseNotification = "DispenseNotification"
	pxSuppliedLineItem     = "SuppliedLineItem"
	pxSuppliedQuantity     = "SuppliedLineItemQuantity"
)

// DispenseTranslator returns the Translator for the corpus kind "Dispense".
func DispenseTranslator() *core.Translator {
	return &core.Translator{
		Kind:         "Dispense",
		Interactions: []string{v3.DispenseNotification},
		ToV3:         DispenseToV3,
		ToFHIR:       DispenseToFHIR,
	}
}

// DispenseAmendTranslator returns the Translator for the corpus kind
// "DispenseAmend": the same interaction, an amending notification.
func DispenseAmendTranslator() *core.Translator {
	t := DispenseTranslator()
	t.Kind = "DispenseAmend"
	return t
}

// DispenseToV3 turns a FHIR dispense-notification Bundle into the v3
// Dispense Notification with its wrappers. The transmission id is
// meta.MessageID when set, else the Bundle identifier.
func DispenseToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	interaction := v3.InFamily(v3.DispenseNotification, env.WriteFamily())
	// The Bundle is decoded and the message written in a Space of env's
	// Scratch, given back once it is serialised: nothing returned refers
	// to either, nor to body.
	sp := env.Scratch.Get()
	defer env.Scratch.Put(sp)
	b, err := core.ParseBundleIn(sp, body)
	if err != nil {
		return nil, &core.FHIRError{Interaction: interaction, Path: "Bundle", Msg: err.Error()}
	}
	c := core.NewBundleContext(b, interaction)
	msgID := core.BundleMessageID(c)
	core.CheckMessageEvent(c, fhir.EventDispenseNotification)
	if c.Failed() {
		return nil, c.Err()
	}
	doc, subject := core.NewV3MessageIn(sp, meta, interaction, msgID, env)
	WriteDispenseNotification(c, subject, env)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return core.WriteDocument(c, doc, nil)
}

// DispenseToFHIR turns a v3 Dispense Notification (UK or SM family) into the
// FHIR dispense-notification Bundle, with the wrapper values that travel
// beside it.
func DispenseToFHIR(payload []byte, env core.Env) ([]byte, core.Meta, error) {
	return core.PayloadToFHIR(payload, env, "Dispense Notification (PORX_IN080101)", "DispenseNotification", ReadDispenseNotification, v3.DispenseNotification)
}
