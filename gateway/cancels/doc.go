// Package cancels is the one room of pending cancellations: cancel
// requests that EPS answered with "not cancelled, with dispenser, marked
// for cancellation" (…17.19 codes 0002 and 0003), and those it answered
// "not found" (0008) because the prescription had not reached it, which
// Spine keeps and carries out when the prescription comes (FollowedUp;
// Record.AwaitingPrescription). The prescriber got a Cancel Response
// saying so; once the item settles (the dispenser returns it, dispenses
// it, the prescription comes with the item cancelled, or the EPS tracker
// shows it settled) the prescriber must get exactly one Subsequent Cancel
// Response (PORX_IN050102UK32), even with several gateway replicas on one
// Redis and across restarts. A cancellation awaiting its prescription
// that the prescription came without (the EPS tracker lists it, the item
// not cancelled) gets none, as from Spine: its tracking ends unanswered.
// Everything that takes a cancellation there lives here: tracking it,
// settling it from the messages that pass, polling the EPS tracker,
// sending the answer, the admin view and the metrics.
//
// A Service does that work over a Tracker. The gateway wires it in a few
// lines (gateway/cancel_wiring.go): NewService with the tracker
// (OpenTracker on the gateway's store), the EPS tracker client
// (TrackerAPI) and the Config; Attach with the outbox (Queue, Routes, the
// delivery worker's wake-up) and the metrics registry; then Track when
// EPS answers a cancel request pending, Settle when EPS accepts a message
// that Settles, Run as the poller, ServeAdmin at PathAdmin on the admin
// listener. The service asks the gateway only through these narrow
// interfaces; it never imports package gateway.
//
// A Tracker keeps one Record per prescription id and line item, with what
// the Subsequent Cancel Response needs: the original ebXML ConversationId,
// MessageId and sender PartyId, the cancel request itself, and the
// MessageId chosen for the response up front (so a response sent twice
// after a crash is a duplicate the prescriber's MHS drops). The lifecycle:
//
//	Track        pending, due for its first poll at Record.NextPoll
//	Due          the poller leases pending records whose poll is due (and
//	             resolved ones whose resolver died): a Claim
//	Reschedule   still pending: Attempts+1, next poll after Options.Backoff
//	             but no later than Record.Expires; the lease is released
//	Resolve      pending → resolved with an Outcome, exactly once across
//	             replicas: only the first caller gets the record (and a
//	             lease, taken over from a poller if one held it)
//	Complete     the holder of the lease has queued the Subsequent Cancel
//	             Response (or found that none is owed: a cancellation
//	             awaiting its prescription that the prescription came
//	             without, or one for the patient's death carried out):
//	             the record is gone, and the cancel request's
//	             MessageId is remembered for Options.AnsweredTTL so that
//	             the request processed again (its recorded pending answer
//	             replayed) does not Track it anew and answer twice
//	Expire       a record pending past Record.Expires, and looked at since
//	             (its next poll is after Expires: the backoff never skips
//	             a last look at that time), is removed and returned once
//	             to the caller (to log and alert), and kept in the expired
//	             list (ListExpired); it is never dropped without being
//	             reported
//
// A lease is a token with a time limit (Options.LeaseTTL). Only the holder
// of the current lease may Extend, Reschedule or Complete; a replica that
// dies holding one loses it when it runs out, and Due hands the record to
// another replica. Resolve always succeeds on a pending record: a resolver
// takes the lease over from a poller, whose later Reschedule or Complete
// then fails with ErrLeaseLost. Times that schedule work (now, NextPoll,
// Expires) come from the callers' clocks: replicas must keep their clocks
// in step (NTP); lease time limits are Redis's own (PX) in the Redis
// Tracker and the Tracker's clock in the in-memory one.
//
// Redis key layout (prefix "porxgate:" by default; the scripts touch
// several keys at once, so a single Redis, not Redis Cluster). <id> is
// "<prescription id>:<line item>", both upper case:
//
//	<prefix>cancel:<id>        hash: rec (the Record's fixed fields, JSON),
//	                           state (pending|resolved), outcome (JSON),
//	                           attempts, next (Unix ms), lastError
//	<prefix>cancel-lease:<id>  string: the current lease's token, with the
//	                           lease time as its TTL (SET NX PX)
//	<prefix>cancel-answered:<id>
//	                           string: the MessageId (upper case) of the
//	                           cancel request last answered, with
//	                           Options.AnsweredTTL as its TTL
//	<prefix>cancel-call:<call> string "1", for a minute: the call <call>
//	                           (a token of its own) of Track, Reschedule
//	                           or Complete changed the record, so that
//	                           the call, sent again by the client after
//	                           its reply was lost, answers as it did
//	<prefix>cancels:due        sorted set: id -> Unix ms when the poller
//	                           should next look at it (the next poll, or
//	                           the end of the current lease)
//	<prefix>cancels:expiry     sorted set: id -> Unix ms of Record.Expires
//	                           (pending records only)
//	<prefix>cancels:index      sorted set: id -> Unix ms created (every
//	                           tracked record: List and Stats)
//	<prefix>cancels:awaiting   sorted set: id -> 0, the records awaiting
//	                           their prescription (Stats.Awaiting), until
//	                           Complete or Expire
//	<prefix>cancels:expired    list of expired records (JSON, without the
//	                           cancel request's payload), newest first,
//	                           trimmed to Options.ExpiredCap entries
//
// Records and the sets have no Redis TTL (the answered marks have one): a record leaves only through
// Complete or Expire, so nothing is lost silently. The expired list is the
// one bounded structure; its entries were returned by Expire when they
// were made.
//
// The Service drives that lifecycle: Track after a Cancel Response that
// FollowedUp; Settle resolves from a dispense notification, return or
// prescription EPS accepted; the poller (Run) calls Due, asks the EPS tracker about
// each claim (or, for a claim that already has an Outcome, sends at once),
// then Resolve+Complete or Reschedule; its sweep calls Expire and logs what
// it returns; ServeAdmin serves List and ListExpired, /metrics serves
// Stats.
package cancels
