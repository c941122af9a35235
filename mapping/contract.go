package mapping

import "github.com/porxgate/porxgate/mapping/core"

// Translator maps one interaction family between v3 and FHIR: the contract
// every family package fills in (see core.Translator).
type Translator = core.Translator

// Env carries what a translation may not make up itself: the clock, fresh
// ids and the interaction id family (see core.Env).
type Env = core.Env

// Meta holds the values that travel beside a FHIR body rather than inside it
// (see core.Meta).
type Meta = core.Meta
