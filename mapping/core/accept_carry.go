package core

import (
	"crypto/sha256"

	v3 "github.com/porxgate/porxgate/v3"
)

// V3Original is a v3 message kept beside the FHIR it was translated to,
// because the FHIR alone would not give it back (Env.KeepV3).
type V3Original struct {
	// Payload is the v3 message as received.
	Payload []byte
	// Family is the interaction id family it came in.
	Family v3.Family
	// FHIR is the SHA-256 digest of the FHIR body made from it: the kept
	// message is written back only for that very body.
	FHIR [sha256.Size]byte
	// Diff says where the v3 written from the FHIR alone differs (or why it
	// could not be written), for logs and tests.
	Diff string
}

// KeepingToFHIR wraps a Translator's ToFHIR: with env.KeepV3 it writes the
// v3 back from the FHIR it made (toV3, with ids of its own) and, when that
// is not the received message under the corpus comparison rules with every
// id required, keeps the message in Meta.V3Original.
func KeepingToFHIR(toFHIR func([]byte, Env) ([]byte, Meta, error), toV3 func([]byte, Meta, Env) ([]byte, error)) func([]byte, Env) ([]byte, Meta, error) {
	return func(payload []byte, env Env) ([]byte, Meta, error) {
		body, meta, err := toFHIR(payload, env)
		if err != nil || !env.KeepV3 {
			return body, meta, err
		}
		doc, perr := v3.ReadXML(payload)
		if perr != nil || doc.Root() == nil {
			return body, meta, nil
		}
		_, fam, cerr := v3.Canonical(doc.Root().Tag)
		if cerr != nil {
			return body, meta, nil
		}
		renv := env
		renv.KeepV3 = false
		renv.Family = fam
		renv.NewID = CountingIDs()
		diff := ""
		got, err := toV3(body, meta, renv)
		if err != nil {
			diff = "not written back: " + err.Error()
		} else if gd, err := v3.ReadXML(got); err != nil || gd.Root() == nil {
			diff = "written back as XML that does not read"
		} else if d := v3.CompareElements(doc.Root(), gd.Root(), v3.Rules{FHIRRequest: payload}); d != nil {
			diff = d.String()
		}
		if diff != "" {
			meta.V3Original = &V3Original{Payload: payload, Family: fam, FHIR: sha256.Sum256(body), Diff: diff}
		}
		return body, meta, nil
	}
}

// KeepingToV3 wraps a Translator's ToV3: the FHIR is translated (and so
// checked) as ever; when meta keeps the v3 message this very body was made
// from, in the family asked for, that message is the answer.
func KeepingToV3(toV3 func([]byte, Meta, Env) ([]byte, error)) func([]byte, Meta, Env) ([]byte, error) {
	return func(body []byte, meta Meta, env Env) ([]byte, error) {
		out, err := toV3(body, meta, env)
		if err != nil {
			return nil, err
		}
		if o := meta.V3Original; o != nil && o.Family == env.WriteFamily() && o.FHIR == sha256.Sum256(body) {
			return o.Payload, nil
		}
		return out, nil
	}
}
