// Package store keeps the gateway's durable state: the message ids seen for
// duplicate elimination and whatever later rooms add (outbox, pending
// cancellations). Redis (redis/go-redis/v9) backs it in production; an
// in-memory Store with the same behaviour backs the zero-setup default.
//
// Key layout in Redis (all keys share the configured prefix, "porxgate:" by
// default):
//
//	<prefix>seen:<interaction>:<MessageId>   duplicate elimination, SET NX with
//	                                         the interaction's persist duration
package store
