package conformance

import v3 "github.com/porxgate/porxgate/v3"

// Diff is the first difference between an expected and a produced document
// (v3.Diff).
type Diff = v3.Diff

// Rules are the comparison wildcards of the corpus README (v3.Rules).
type Rules = v3.Rules

// Compare parses both documents and returns their first difference under the
// rules, or nil when they match (v3.Compare). Attribute order, namespace
// prefixes and insignificant white space never count.
func Compare(want, got []byte, rules Rules) (*Diff, error) { return v3.Compare(want, got, rules) }
