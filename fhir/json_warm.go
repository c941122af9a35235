package fhir

import "fmt"

// WarmCodec has the JSON codec (goccy/go-json) build, now, its decoder and
// encoder for the Go type of each of resourceTypes and every type inside
// it. The package reads and writes modelled resources itself, but leaves a
// resource to the codec when it holds a member the package does not read
// (json_plan.go's fieldOther) or a type its encoder does not cover; the
// codec builds a type's decoder or encoder the first time it meets the
// type, tens of MiB while it does, and a server meeting such a resource
// for the first time under load built it in every worker at once. Called
// once at start-up, before the workers, it returns an error naming a
// resourceType the package does not model, after warming the others.
func WarmCodec(resourceTypes ...string) error {
	var unknown []string
	for _, t := range resourceTypes {
		res := newResource(t)
		if res == nil {
			unknown = append(unknown, t)
			continue
		}
		if err := unmarshal([]byte(`{"resourceType":"`+t+`"}`), res, false); err != nil {
			return fmt.Errorf("warming the JSON codec's decoder of %s: %w", t, err)
		}
		if _, err := marshalCodec(res); err != nil {
			return fmt.Errorf("warming the JSON codec's encoder of %s: %w", t, err)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("warming the JSON codec: resource types not modelled: %v", unknown)
	}
	return nil
}
