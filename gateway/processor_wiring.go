package gateway

import (
	"context"
	"log/slog"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/mapping"
)

// OpenProcessor builds the Processor the gateway runs messages through: the
// EPS processor over every translator in the mapping registry and the
// upstream OpenUpstream built, tracking pending cancellations in pending
// (nil: they are only logged) and recording EPS's answers for replays in
// outcomes (the store; nil: none recorded). With no upstream (nil) it returns
// Unsupported, so every message is refused as NotSupported. The returned
// stop function releases what it started.
func OpenProcessor(ctx context.Context, cfg Config, up *EPSClient, log *slog.Logger, pending *cancels.Service, outcomes OutcomeLog) (Processor, func(), error) {
	if up == nil {
		return Unsupported{}, func() {}, nil
	}
	warmFHIRCodecs(log)
	p := NewEPSProcessor(mapping.NewRegistry(), up.PartyAPI(), nil, nil, log.With("component", "processor"))
	if outcomes != nil {
		p.WithOutcomeLog(outcomes, DefaultOutcomeTTL)
	}
	if pending != nil {
		p.WithCancellations(pending)
	}
	return p, func() {}, nil
}

// warmResourceTypes are the FHIR resource types the mappings read and write.
var warmResourceTypes = []string{"MessageHeader", "MedicationRequest", "MedicationDispense", "Patient", "Practitioner",
	"PractitionerRole", "Organization", "HealthcareService", "Location", "Provenance", "CommunicationRequest", "List",
	"Task", "Claim", "Parameters", "OperationOutcome"}

// warmFHIRCodecs has the JSON codec build its decoder and encoder of each
// resource type the mappings read and write, before the workers start
// (fhir.WarmCodec). The fhir package reads and writes those types itself,
// but leaves a resource holding a member it does not read to the codec,
// which builds a type's decoder or encoder the first time it meets the
// type, tens of MiB while it does: started under load, every inbox worker
// met the type at once and built it side by side, and the heap overshot
// to hundreds of MiB. A type the package no longer models is only logged.
func warmFHIRCodecs(log *slog.Logger) {
	if err := fhir.WarmCodec(warmResourceTypes...); err != nil {
		log.Warn("warming the FHIR codec", "err", err)
	}
}
