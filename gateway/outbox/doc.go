// Package outbox delivers the gateway's asynchronous ebXML messages — the
// async answers to requests (MCCI acknowledgements, release and cancel
// responses), the eb:Acknowledgment of a request that asked for no
// synchronous reply, and asynchronous eb:MessageError envelopes — to the
// sending MHS's endpoint, with Spine's reliability: each message keeps its
// MessageId across attempts, is retried at the route's retry interval up to
// its retry count while its persist duration lasts, and lands on the
// dead-letter list, with the reason, when it cannot be delivered.
//
// Messages wait in the store's "outbox" queue (see package store); several
// Workers, in one process or in several gateway replicas, drain it under
// leases, so a delivery is attempted by one worker at a time and is taken
// over when the worker holding it dies. Delivery is at least once: the
// receiver may see the same MessageId again (that is what ebXML duplicate
// elimination is for).
//
// The routing table (Routes) maps the party key of each legacy MHS to its
// endpoint URL, CPA id and reliability settings; it is read from a JSON
// file.
package outbox
