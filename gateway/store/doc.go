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
// script wait for replicas before it counts as done. Every write the
// exactly-once rules rest on is a script, and so waits: the queues, the
// records of EPS's answers (ReserveReply, PutReply), the SOAP answers kept
// (KeepReply), the named sets (SetAdd, SetRemove) and the holds. The
// writes that do not wait are those a failover may lose without harm:
// MarkSeen (the SOAP door's short "in progress" mark: the attempt record
// keeps the request from being sent to EPS as new), Touch (a duplicate's
// mark renewed), Forget and CheckWritable's probe:
//
//	<prefix>seen:<key>                  duplicate elimination: SET NX PX with the
//	                                    interaction's persist duration; the gateway's
//	                                    keys are "ebxml:<interaction>:<MessageId>" and
//	                                    "soap:<interaction>:<MessageId>", and
//	                                    comparison mode's "compare-run:<interaction>:
//	                                    <MessageId>:<received ns>" (its shadow run
//	                                    taken up by a worker, an hour); the value
//	                                    is when it was set and a token of the call
//	                                    that set it, then (AcceptFrom) the party
//	                                    the message came from, the ebXML door's
//	                                    upper-cased eb:From, space-separated
//	<prefix>q:<queue>:due               sorted set: item id -> Unix ms when due
//	                                    (while leased: when the lease runs out)
//	<prefix>q:<queue>:dropped:<call>    "1" for a minute: the Drop call <call>
//	                                    removed its item (the same, for Drop)
//	<prefix>q:<queue>:item:<id>         hash: data (the item), token (current
//	                                    lease, "" when not leased), party
//	                                    (Item.Party, when it has one)
//	<prefix>q:<queue>:staged:<call>     an item bigger than 1 KB as its hash
//	                                    will be (data, token, party), written
//	                                    (HSET, PEXPIRE a minute) just before
//	                                    the script that queues it, in the same
//	                                    pipeline: the script renames it to the
//	                                    item's hash and PERSISTs it, or deletes
//	                                    it when it queues nothing, so that the
//	                                    item's bytes are never a script
//	                                    argument (Redis's Lua hashes each byte
//	                                    of one). A gateway that stops between
//	                                    the two leaves it to expire; only a
//	                                    stop between two writes of one
//	                                    pipeline bigger than go-redis's 128 KiB
//	                                    buffer can leave one without its expiry
//	<prefix>q:<queue>:ended:<call>      "1" for a minute: the Retry or Complete
//	                                    call <call> (a token of its own) ended
//	                                    its lease (so that the call, sent again
//	                                    by the client after its reply was lost,
//	                                    answers as it did)
//	<prefix>deadletters                 list of dead letters (JSON), newest first,
//	                                    trimmed to DeadLetterCap entries
//	<prefix>deadletters:heads           list of the dead letters' heads
//	                                    (Finish.DeadLetterHead, "" for none),
//	                                    in step with the newest dead letters:
//	                                    what a listing reads
//	<prefix>deadletters:headless        how many of the oldest dead letters
//	                                    have no head: with the two lengths,
//	                                    whether the heads are in step
//	<prefix>deadletters:requeued:<call>
//	                                    "1" for a minute: the Requeue call
//	                                    <call> resent its dead letter (the
//	                                    same, for Requeue)
//	<prefix>reply:<key>                 SOAP sync reply kept for duplicates,
//	                                    with the persist duration as TTL
//	                                    ("soap:<interaction>:<MessageId>"), and
//	                                    the record of EPS's answer to a message
//	                                    ("eps-outcome:<transport>:<interaction>:
//	                                    <MessageId>", a day; 90 days for one
//	                                    dead-lettered), and comparison mode's
//	                                    "compare-settled:<interaction>:<MessageId>:
//	                                    <received ns>" (its shadow run made or
//	                                    journalled as not made, an hour) and
//	                                    "compare-untried:<short-form id>" (why a
//	                                    prescription's shadow run was not made,
//	                                    7 days); "party:ebxml:…", the party
//	                                    of a mark, was written by releases before
//	                                    the party went into the mark, and is read
//	                                    for marks without one
//	<prefix>reserved:<call>             "1" for a minute: the ReserveReply call
//	                                    <call> wrote its reply (the same, for
//	                                    ReserveReply)
//	<prefix>set:<name>                  named set (SetAdd, ReserveReply's
//	                                    additions) with a TTL: the gateway's
//	                                    "nominated:<ODS>" (prescriptions released
//	                                    to a pharmacy) and "nominated-owed:<ODS>"
//	                                    (released, not yet handed over), 180 days;
//	                                    "release-recovered:<ODS>" (what release
//	                                    recoveries of a pharmacy delivered), 1 h
//	<prefix>hold:<key>                  hold (HoldKey): its holder's token, with
//	                                    the hold's TTL; the gateway's
//	                                    "release:<ODS>" (one nominated release of
//	                                    a pharmacy at a time), 30 s
//	<prefix>probe:writable              /readyz's write probe (CheckWritable), 10 s
//
// The exchange journal (gateway/journal) and the cancellation tracker
// (gateway/cancels) keep keys of their own under the same prefix
// ("journal:…", "cancel:…", "cancels:…"); the journal's are in a Redis of
// its own instead when the gateway is given one (--journal-redis), and
// the journal's round trips below then go there.
//
// The gateway's queues are "inbox" (accepted ebXML messages waiting for the
// processor) and "outbox" (ebXML messages waiting for delivery). A queue
// entry is framed: its JSON head (goccy/go-json), a newline, then the
// message's bytes as they are (outbox.Frame, outbox.FramedWrites); readers
// also take JSON alone, the message inside as base64, as releases before
// this one wrote it.
//
// # Round trips per message
//
// One ebXML prescription (SyncReply, answered asynchronously, journal in
// Redis) costs five round trips to Redis when an inbox worker is idle as
// it arrives and a delivery worker as its answer is queued, up to seven
// otherwise, each one command or one Lua script (EVALSHA; atomic, so
// nothing is half done), none of which can be dropped without losing a
// durability step:
//
//  1. front door, AcceptFrom: SET seen NX PX with the sender's party in
//     its value, then HSET item + ZADD inbox due (acceptScript; an item
//     over 1 KB, as a prescription's is, goes as HSET + PEXPIRE of its
//     staged hash before the script in the same pipeline, and the script
//     RENAMEs it: still one round trip); only then
//     the 202 Acknowledgment: one round trip (the gateway's
//     TestEbXMLAcceptOneRoundTrip; until this release the party was a SET
//     of its own after it, a second round trip, and lost when the gateway
//     stopped between the two). With an inbox worker idle, the item is
//     queued already claimed for it (its lease token in the hash, the
//     lease end as its score: Item.Token) and handed
//     to it in the process (outbox.Handoff), so that step 2 is not needed;
//     if the gateway stops before finishing it, the lease runs out and the
//     item is claimed like any other.
//  2. inbox worker, Claim: ZRANGEBYSCORE, HGET data, HSET token, ZADD lease
//     end (claimScript), for a message queued while no worker was idle;
//     but a worker whose message was claimed while another waited
//     (Lease.More) claims the next in the round trip of step 6 that
//     completes it (CompleteClaim, completeClaimScript: completeScript's
//     work, then claimScript's), so that a message waiting in a backlog
//     costs no round trip of its own here (the gateway's
//     TestWaitingMessagesClaimedAsTheLastCompletes)
//  3. EPS processor, ReserveReply: GET the recorded EPS answer; when there
//     is none, SET the attempt PX (and the call's mark) and SADD + PEXPIRE
//     the prescription's nomination (reserveScript)
//  4. (the EPS call)
//  5. EPS processor, PutReply: SET the EPS answer PX, before it is acted on
//     (putReplyScript)
//  6. inbox worker, Complete: HGET token, DEL item, ZREM, then HSET item
//     (RENAME of its staged hash for an answer over 1 KB, as in step 1) +
//     ZADD outbox due for the answer, SET the lease's ended mark
//     (completeScript)
//  7. delivery worker, Claim of the outbox entry (claimScript), only when
//     no delivery worker was idle at step 6: else step 6 queues the answer
//     already claimed for one and hands it over, as step 1 does (when its
//     id is queued already, which fresh ids make unlikely, completeScript
//     writes nothing and the worker completes again without the claim)
//  8. (the POST to the MHS)
//  9. delivery worker, Complete (completeScript)
//
// Every script, and MarkSeen's, answers a second run of the same call as
// it answered the first, and writes nothing twice: go-redis sends a
// command again when its connection breaks before the reply has come
// (MaxRetries; a pipeline whole), though Redis may have run it. The call
// carries a token of its own (the mark's value, the lease's token) by
// which the script knows its own writes, and Retry, Complete, Requeue,
// ReserveReply and Drop leave a mark for a minute (endedTTL) for the run
// again to find.
//
// These are round trips of one message. Under load, when more of the
// store's script calls are in flight than maxScriptBatches (the front
// door's requests and the inbox and delivery workers together), the calls
// that arrive meanwhile go to Redis together in one pipeline (one write,
// one read; scriptBatcher): each is still its own atomic script with its
// own reply, and each caller still has its reply before its next step.
//
// A lease is extended (extendScript) only while one message's work runs
// longer than a third of the lease (10 s by default). The journal's writer
// adds, per run of a batch of up to 512 events (about five per message),
// one MULTI/EXEC writing the payloads over 4 KB apart (RPUSH + PEXPIRE
// each, SADD + PEXPIRE of their exchange's list of them: a prescription's
// legacy request and FHIR request), then one EVALSHA (journal.apply: SET
// head and summary, RPUSH + PEXPIRE of the new steps, ZADD, HINCRBY, SADD
// + EXPIRE of the id index, INCRBY), an MGET of heads it does not keep
// first, and once over its size cap one EVALSHA that drops the oldest
// exchanges (gateway/journal). An idle pool of workers
// polls with one Claim per --poll-interval (one shared ticker wakes one
// idle worker; until this release every idle worker polled, 256 Claims a
// second for the gateway's two idle pools of 64), and a worker is woken at
// once when work is queued. A worker that has finished an item claims again
// at once only when its Claim saw another item due (Lease.More; it then
// wakes another worker too); before, every item was followed by one more
// Claim, on each of the two queues, that found nothing whenever the queue
// was not backed up: up to nine round trips per message instead of seven.
// Measured at 500 msgs/s (open loop, pinned as in the README's end-to-end
// runs), the gateway's own porxgate_redis_duration_seconds counts went
// from 2.11–2.15 Claims per message (inbox and outbox, polls included) to
// 0.008 with both handoffs (steps 1 and 6), and from 7.45–7.51 to
// 5.37–5.41 round trips in all.
//
// Before this layout the same message cost nine round trips (the recorded
// answer read, the attempt written and the nomination indexed one by one)
// and the journal read and rewrote every exchange whole at each event and
// dropped old exchanges with four round trips each. What remains apart
// could only be merged by writing a record later than it is made durable
// today (the EPS answer with the Complete, for example), which the
// exactly-once rules forbid.
//
// # Commands per message
//
// Inside those round trips Redis runs, for one ebXML prescription that
// takes both handoffs (steps 1, 3, 5, 6 and 9; its item and its answer
// over 1 KB, so staged), 35 commands, the five EVALSHA included (INFO
// commandstats counts the commands a script runs):
//
//   - Accept: HSET + PEXPIRE of the staged item, EVALSHA; in it EXISTS
//     staged, GET seen, EXISTS item, SET seen PX, RENAME, PERSIST, ZADD
//     (10)
//   - ReserveReply: EVALSHA; GET, SET attempt PX, SET mark PX, SADD,
//     PEXPIRE (6)
//   - PutReply: EVALSHA; SET PX (2)
//   - Complete of the inbox item: HSET + PEXPIRE of the staged answer,
//     EVALSHA; EXISTS staged, HGET token, EXISTS answer item, DEL, ZREM,
//     RENAME, PERSIST, ZADD, SET ended PX (12)
//   - Complete of the outbox item: EVALSHA; HGET token, DEL, ZREM, SET
//     ended PX (5)
//
// Until this release a script that had looked whether an item to be
// queued was there (Accept's inHand, the heldQueued of a Complete that
// queues an item already claimed) asked again in enqueue: 37 commands.
// Measured on the README's end-to-end rig at 200 msgs/s (INFO
// commandstats over the messages answered): --journal off 37.21 calls a
// message before, 35.17–35.22 after (EXISTS 6.00, then 4.00); with the
// journal in Redis 79.65–79.66, then 77.41–78.16. The rest cannot go
// without weakening a guarantee or changing a format others read:
//
//   - EXISTS staged: the staged hash is looked for before anything is
//     written (an HSET refused at maxmemory, or the hash evicted, leaves
//     none); a RENAME that failed would find it gone after the mark is
//     set
//   - PEXPIRE of a staged hash and PERSIST after its RENAME: the hash
//     must expire when its script never runs, and the item must not; HSET
//     carries no expiry
//   - the marks (SET PX of reserved:<call> and of two ended:<call>, a key
//     each for a minute): how a call sent again by the client after a
//     lost reply knows its own writes. The attempt record could carry the
//     call's token instead of the reserved mark (PutReply replaces it
//     within the message), but ReserveReply's body would then have to be
//     unique to the call, which the store cannot check
//   - GET seen before SET seen: SET NX GET does both only from Redis 7.0
//     on, and would set the mark before inHand has looked
//   - PEXPIRE of a nomination set: SADD carries no expiry
//
// Bytes written a message (INFO total_net_input_bytes): 21.3 KB, of which
// the inbox entry is the message as received (13.9 KB for the load
// generator's prescription, raw after its JSON head: no base64, no JSON
// escaping), the outbox entry the answer (4.1 KB; not the prescription
// again), the EPS answer record twice (the attempt, then the answer, its
// FHIR body base64 inside JSON: about 0.5 KB) and the keys and arguments
// of the five scripts (about 2.2 KB). Keys that outlive the message: five
// (the seen mark 5 minutes, the EPS answer record a day, the three marks
// a minute). Round trips counted by the gateway (the counts of
// porxgate_redis_duration_seconds, a pipeline once): 4.6–4.9 a message at
// 200 msgs/s. What a command costs Redis is small beside what a round trip
// does: on the README's machine (redis-benchmark against Redis 7.0,
// used_cpu_user + used_cpu_sys a call) an EVALSHA of "return 1" costs
// 1.0–1.1 µs in a pipeline of 50 and 14.2–14.4 µs sent alone, and each
// EXISTS a script runs about 0.25 µs; an HSET of 14 KB by a client
// 4.7–4.9 µs, the same bytes as a script's argument about 21 µs more
// (staging holds).
//
// Over SOAP (sync) a message costs four round trips: SET seen NX PX
// (MarkSeen, markScript), the same ReserveReply and PutReply around the
// EPS call, then SET reply PX and PEXPIRE seen for duplicates in one
// script (KeepReply, keepReplyScript; until this release two round trips,
// PutReply then Touch, both before the answer goes back, then one
// MULTI/EXEC, which WaitReplicas did not wait for).
package store
