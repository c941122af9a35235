package ack

import (
	"fmt"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// AckTranslator returns the translator of MCCI_IN010000UK13 application
// acknowledgements ↔ OperationOutcome (AckToOutcome / AckFromFHIR). It has
// no corpus kind: acknowledgements are answers, not FHIR requests.
func AckTranslator() *core.Translator {
	return &core.Translator{
		Interactions: []string{v3.ApplicationAcknowledgement},
		ToFHIR:       ackToFHIR,
		ToV3:         ackToV3,
	}
}

func ackToFHIR(payload []byte, _ core.Env) ([]byte, core.Meta, error) {
	a, err := ParseAck(payload)
	if err != nil {
		return nil, core.Meta{}, err
	}
	oo, meta := AckToOutcome(a)
	body, err := fhir.MarshalIndent(oo)
	if err != nil {
		return nil, core.Meta{}, fmt.Errorf("writing OperationOutcome: %w", err)
	}
	return body, meta, nil
}

func ackToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	var oo fhir.OperationOutcome
	if err := fhir.Unmarshal(body, &oo); err != nil {
		return nil, fmt.Errorf("OperationOutcome: %w", err)
	}
	if oo.ResourceType != "OperationOutcome" {
		return nil, &core.FHIRError{Interaction: v3.ApplicationAcknowledgement, Path: "resourceType", Msg: fmt.Sprintf("%q, want OperationOutcome", oo.ResourceType)}
	}
	a, err := AckFromFHIR(&oo, meta, env)
	if err != nil {
		return nil, err
	}
	return BuildAckWith(env.Scratch, a)
}
