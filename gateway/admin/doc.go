// Package admin is porxgate's admin listener: the operator's page (recent
// exchanges, one exchange as a timeline with its v3 and FHIR payloads side
// by side, comparison differences, live state), the journal's JSON API and
// the gateway's /admin/* views, all behind authentication.
//
// Callers authenticate with a bearer token (Authorization header, or the
// cookie the page's sign-in form sets) or a client certificate whose common
// name has a role. Roles, each including the one before: viewer (live
// state, queues, breakers, counts), reader (exchanges and their payloads:
// patient data), admin (the access journal and actions such as resending
// a dead letter). Every request past authentication is itself journalled
// (who, role, what, when, status).
package admin
