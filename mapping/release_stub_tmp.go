package mapping

import "github.com/porxgate/porxgate/fhir"

func releaseResponseToV3(p *fhir.Parameters, meta Meta, env Env) ([]byte, error) { return nil, nil }
func ReleaseResponseToV3(b []byte, meta Meta, env Env) ([]byte, error) { return nil, nil }
func ReleaseResponseToFHIR(b []byte, env Env) ([]byte, Meta, error) { return nil, Meta{}, nil }
func ReleaseRejectionToV3(b []byte, meta Meta, env Env) ([]byte, error) { return nil, nil }
func ReleaseRejectionToFHIR(b []byte, env Env) ([]byte, Meta, error) { return nil, Meta{}, nil }
