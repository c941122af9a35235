// Package store keeps the gateway's durable state: the message ids seen for
// duplicate elimination, the durable queues the pipeline works from (the
// inbox of accepted messages and the outbox of messages to deliver), the
// dead-letter list and the cache of SOAP sync replies. Redis
// (redis/go-redis/v9) backs it in production; an in-memory Store with the
// same behaviour backs the zero-setup default.
//
// Queues are leased: Claim hands the longest-due item to one worker until
// its lease runs out, so that several gateway replicas on one Redis never
// work on the same item at once, while the work of a replica that died is
// taken over once its lease has run out. Only the holder of the current
// lease (its token) may Extend, Retry or Complete the item. Complete can
// enqueue further items and push a dead letter in the same atomic step, so
// an inbound message is never finished without its answers being queued.
// Times in the queues come from the callers' clocks: replicas must keep
// their clocks in step (NTP).
//
// Key layout in Redis (all keys share the configured prefix, "porxgate:" by
// default; every multi-key operation is one Lua script). On Redis Cluster
// the prefix becomes a hash tag ("{porxgate}:", see ClusterPrefix) so that
// every key a script touches lives on one slot; on Sentinel (OpenRedis with
// SentinelAddrs) the client follows failovers, and WaitReplicas makes each
// script wait for replicas before it counts as done:
//
//	<prefix>seen:<key>                  duplicate elimination: SET NX PX with the
//	                                    interaction's persist duration; the gateway's
//	                                    keys are "ebxml:<interaction>:<MessageId>" and
//	                                    "soap:<interaction>:<MessageId>"
//	<prefix>q:<queue>:due               sorted set: item id -> Unix ms when due
//	                                    (while leased: when the lease runs out)
//	<prefix>q:<queue>:item:<id>         hash: data (the item), token (current
//	                                    lease, "" when not leased)
//	<prefix>deadletters                 list of dead letters (JSON), newest first,
//	                                    trimmed to DeadLetterCap entries
//	<prefix>reply:<key>                 SOAP sync reply kept for duplicates,
//	                                    with the persist duration as TTL
//
// The gateway's queues are "inbox" (accepted ebXML messages waiting for the
// processor) and "outbox" (ebXML messages waiting for delivery).
package store
