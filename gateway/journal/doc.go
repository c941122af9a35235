// Package journal is porxgate's exchange journal: it records every legacy
// exchange step by step — the v3 request with its transport headers, the
// FHIR request, EPS's answer, each v3 answer and what became of its
// delivery, comparison results — with the ids an operator searches by
// (MessageId, ConversationId, RefToMessageId, short-form prescription id,
// NHS number, ODS codes, EPS X-Request-ID) and, for prescriptions, the
// signature digest and algorithm. It also keeps the access journal: who
// looked at patient data, what and when.
//
// Recording never waits: Record puts an event on a bounded queue and a
// single writer goroutine (Run) merges it into the backend. When the queue
// is full the event is dropped and counted (Dropped, and the
// porxgate_journal_dropped_total metric), so the journal can never delay or
// endanger an acknowledgement. Ids are read out of the payloads by the
// writer, off the hot path.
//
// Two backends: Memory (the zero-setup default) and Redis (the gateway's
// Redis when configured). Both keep exchanges for at most Retention.MaxAge
// and drop the oldest once their total size passes Retention.MaxBytes.
//
// Redis can keep each step's payload compressed with S2 when that makes it
// smaller (the default of NewRedis; the gateway asks for it only with
// --journal-compress) (redis_codec.go), marked in the step's JSON ("bodyEnc":"s2"),
// and counts the bytes it keeps towards MaxBytes; Get gives every payload
// back as it was recorded, and reads steps written before compression
// (no mark) as they are. A rolling upgrade: a porxgate older than
// compression ignores the mark and shows a compressed payload as the
// binary bytes kept (through its admin page, journal API and exports);
// nothing is lost, and an upgraded replica shows it whole, since a step
// is never rewritten. Until no older replica reads the journal, the new
// ones write payloads as they are (Uncompressed, the gateway's default),
// readable by all.
package journal
