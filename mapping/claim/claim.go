package claim

import (
	"fmt"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Dispense Claim Information (PORX_IN090101UK31, MIM 4.2.00
// PORX_MT142001UK31 DispenseClaim) ↔ the EPS FHIR Claim: one Claim.item for
// the prescription, one item.detail per supplied line item and one
// detail.subDetail per supplied product; endorsements and the prescription
// charge in programCode, the charge exemption and its evidence in
// item.programCode, an amendment by Claim.extension Extension-replacementOf.
// See docs/mappings/PORX_IN090101UK31.md.

// Fixed v3 values and porxgate extension names of a claim.
const (
	claimTypeID      = "PORX_MT142001UK31"
	pxDispenseClaim  = "DispenseClaim"
	pxClaimLineItem  = "ClaimSuppliedLineItem"
	pxClaimSupply    = "ClaimSuppliedLineItemQuantity"
	claimCodeProduct = "16076005"
	claimNameProduct = "Prescription"
	// claimNoEndorsement is the dispensing endorsement "No Dispenser
	// Endorsement Code" the EPS API's claims give a line item without
	// supplies.
	claimNoEndorsement     = "NDEC"
	claimNameNoEndorsement = "No Dispenser Endorsement Code"
)

// ClaimTranslator returns the Translator for the corpus kind "Claim".
func ClaimTranslator() *core.Translator {
	return &core.Translator{
		Kind:         "Claim",
		Interactions: []string{v3.DispenseClaimInformation},
		ToV3:         ClaimToV3,
		ToFHIR:       ClaimToFHIR,
	}
}

// ClaimAmendTranslator returns the Translator for the corpus kind "Amend":
// the same interaction, a claim replacing an earlier one.
func ClaimAmendTranslator() *core.Translator {
	t := ClaimTranslator()
	t.Kind = "Amend"
	return t
}

// ClaimToV3 turns a FHIR Claim into the v3 Dispense Claim Information with
// its wrappers. The transmission id is meta.MessageID when set, else the
// Claim identifier.
func ClaimToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	interaction := v3.InFamily(v3.DispenseClaimInformation, env.WriteFamily())
	claim, err := decodeClaim(body)
	if err != nil {
		return nil, &core.FHIRError{Interaction: interaction, Path: "Claim", Msg: err.Error()}
	}
	c := core.NewBundleContext(&fhir.Bundle{ResourceType: "Bundle"}, interaction)
	msgID := c.RequireIdentifier(claim.Identifier, fhir.SystemRFC4122, "Claim.identifier")
	if c.Failed() {
		return nil, c.Err()
	}
	doc, subject := core.NewV3Message(meta, interaction, msgID, env)
	WriteDispenseClaim(c, subject, claim, "Claim", env)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return core.WriteDocument(c, doc, nil)
}

// decodeClaim decodes a Claim resource.
func decodeClaim(body []byte) (*fhir.Claim, error) {
	res, err := fhir.DecodeResource(body)
	if err != nil {
		return nil, err
	}
	claim, ok := res.(*fhir.Claim)
	if !ok {
		return nil, fmt.Errorf("resourceType %s, want Claim", res.GetResourceType())
	}
	return claim, nil
}

// ClaimToFHIR turns a v3 Dispense Claim Information (UK or SM family) into
// the FHIR Claim, with the wrapper values that travel beside it.
func ClaimToFHIR(payload []byte, env core.Env) ([]byte, core.Meta, error) {
	return core.PayloadToFHIR(payload, env, "Dispense Claim Information (PORX_IN090101)", "DispenseClaim", ReadDispenseClaim, v3.DispenseClaimInformation)
}
