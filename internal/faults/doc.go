// Package faults is porxgate's fault suite: it runs real gateway processes
// (the porxgate binary, built for the run) on redis-server with AOF, the
// EPS simulator (`porxgate sim`) upstream and a legacy MHS receiver, all on
// loopback, and drives scenarios of failure through them: kill -9 of the
// gateway under load, Redis killed and restarted, EPS down, EPS answers
// lost after processing (prescriptions, then a cancellation of each: a
// cancellation answered "already cancelled" after its own lost first
// sending counts as a false rejection), one MessageId sent to two replicas at once, a
// SOAP retry after a crash, hostile payloads on both doors.
//
// For each scenario it counts, from outside: sent, acknowledged, answered,
// lost (acknowledged but EPS does not hold the prescription), answered
// twice (two different answers to one request), false rejections (an
// answer other than AA for a prescription EPS accepted) and acknowledged
// but unanswered. A scenario fails unless lost, false rejections and
// acknowledged-but-unanswered are all 0.
//
// Every process listens on 127.0.0.1 only and every wait is bounded. The
// porxgate processes (gateway replicas, the simulator) listen on port 0
// and say the ports they took in their --addr-file, so that no other
// process can take a port chosen for them before they bind it; a
// restarted replica takes a new port, which the senders' next tries
// follow. redis-server cannot take port 0: it is started on a port found
// free and started again on another when it finds that port taken, and
// counts as started only once it answers as itself (INFO's process_id).
package faults
