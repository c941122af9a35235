package fhir

import json "github.com/goccy/go-json"

// Reading Parameters in one pass. Parameter's own UnmarshalJSON reads each
// parameter apart and its resource again (a $release answer's Bundle of
// Bundles as many times as it is nested), with strings copied whatever the
// caller asked. decodeParameters reads the parameters, their parts and
// their resources' bytes in one pass and then each resource once; like
// decodeBundle, anything that does not decode goes the general way, so
// results and errors are those of the general way.

// plainParameters and plainParameter are Parameters and Parameter without
// their methods.
type (
	plainParameters Parameters
	plainParameter  Parameter
)

// parametersIn is a Parameters resource as read.
type parametersIn struct {
	*plainParameters
	Parameter []parameterIn `json:"parameter"`
}

// parameterIn is a parameter as read, its resource kept as bytes until its
// resourceType is known.
type parameterIn struct {
	plainParameter
	Resource json.RawMessage `json:"resource"`
	Part     []parameterIn   `json:"part"`
}

// decodeParameters decodes Parameters in one pass; ok is false when
// anything does not decode.
func decodeParameters(data []byte, ref bool) (p *Parameters, ok bool) {
	p = &Parameters{}
	in := parametersIn{plainParameters: (*plainParameters)(p)}
	if unmarshal(data, &in, ref) != nil || p.ResourceType != "Parameters" {
		return nil, false
	}
	if p.Parameter, ok = convertParameters(in.Parameter, ref); !ok {
		return nil, false
	}
	return p, true
}

// convertParameters turns parameters as read into Parameters, decoding
// their resources; nil stays nil and empty stays empty, as read the
// general way.
func convertParameters(in []parameterIn, ref bool) ([]Parameter, bool) {
	if in == nil {
		return nil, true
	}
	out := make([]Parameter, len(in))
	for i, pi := range in {
		p := Parameter(pi.plainParameter)
		p.Resource, p.Part = nil, nil
		if len(pi.Resource) > 0 {
			r, err := decodeResourceAs(pi.Resource, ref)
			if err != nil {
				return nil, false
			}
			p.Resource = r
		}
		var ok bool
		if p.Part, ok = convertParameters(pi.Part, ref); !ok {
			return nil, false
		}
		out[i] = p
	}
	return out, true
}
