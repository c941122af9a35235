package gateway

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

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
	warmFHIRCodecs()
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

// warmFHIRCodecs reads and writes a Bundle holding one of each FHIR
// resource type once, before the workers start. The JSON codec compiles
// its encoder for a type the first time it meets it; started under load,
// every inbox worker met every type at once and compiled it side by side,
// tens of MiB each, and the heap overshot to hundreds of MiB.
func warmFHIRCodecs() {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"message","entry":[`)
	for i, t := range warmResourceTypes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"fullUrl":"urn:uuid:` + strconv.Itoa(i) + `","resource":{"resourceType":"` + t + `"}}`)
	}
	b.WriteString(`]}`)
	if bundle, err := fhir.ParseBundle([]byte(b.String())); err == nil {
		_, _ = fhir.Marshal(bundle)
	}
	for _, t := range warmResourceTypes {
		if res, err := fhir.DecodeResource([]byte(`{"resourceType":"` + t + `"}`)); err == nil {
			_, _ = fhir.Marshal(res)
		}
	}
}
