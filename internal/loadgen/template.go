package loadgen

import _ "embed"

// PrescriptionOrder is the FHIR prescription-order Bundle load runs are
// made from (the project's own fixture testdata/prescribe/
// acute-nurse-controlled-drug-unsigned.json); the caller maps it to the
// v3 Template once.
//
//go:embed prescription.json
var PrescriptionOrder []byte
