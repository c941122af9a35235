package v3

// Memory another package keeps beside a Space. A translation that reads a
// message of another kind than v3 (a FHIR Bundle) and writes v3 from it
// can keep that message's decoding memory with the Space it writes in, so
// that it lives as long and is reused as the trees' slabs are: the
// translation takes it from the Space, and it is reset when the Space is
// given back (Scratch.Put). This package knows nothing of what it holds.

// Companion is memory kept with a Space (see Space.Companion).
type Companion interface {
	// Reset readies the memory for another message; it is called when
	// the Space is given back, once nothing the translation returned
	// refers to it.
	Reset()
}

// Companion returns the Space's companion, made by mk the first time it is
// asked for and kept from message to message after that. A Space has one
// companion: every caller passes the same kind of mk. A nil Space has
// none: Companion returns nil, and the caller decodes in fresh memory.
func (sp *Space) Companion(mk func() Companion) Companion {
	if sp == nil {
		return nil
	}
	if sp.companion == nil {
		sp.companion = mk()
	}
	return sp.companion
}
