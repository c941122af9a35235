// Package spinesim is a Spine stand-in for comparison mode's legacy path
// in tests and demonstrations: an ebXML endpoint that answers each PORX
// request with the v3 answer Spine would give, decided from the EPS
// simulator's state (gateway/sim.State), in the HTTP response as an MHS in
// sync-async mode does.
//
// It reaches the state through the simulator's own rules (its FHIR face,
// called in-process, never over the network) and words the answer with
// porxgate's v3 builders; it holds a State of its own unless one is given,
// so that the legacy and FHIR paths of a comparison run are separate
// environments as they must be in real life. Alter lets a test inject a
// difference on the legacy side.
package spinesim
