package gateway

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/porxgate/porxgate/gateway/outbox"
	v3 "github.com/porxgate/porxgate/v3"
)

// PersistDurationFor returns the duplicate-elimination window of an
// interaction id (UK or SM family): its entry in PersistDurations, else
// PersistDuration.
func (c Config) PersistDurationFor(interaction string) time.Duration {
	if canon, _, err := v3.Canonical(interaction); err == nil {
		interaction = canon
	}
	if d, ok := c.PersistDurations[interaction]; ok {
		return d
	}
	return c.PersistDuration
}

// duplicateKey is the duplicate-elimination mark of a message a door takes:
// its transport, interaction and MessageId. The MessageId is read without
// regard to letter case: Spine's are UUIDs, whose hex digits RFC 4122 reads
// case-insensitively, as the EPS processor's outcome record reads them, so a
// retry written in the other case is the same message
// (TestEbXMLDuplicateMessageIDCase, the SOAP door's case test).
func duplicateKey(t Transport, interaction, messageID string) string {
	return string(t) + ":" + inboxItemID(interaction, messageID)
}

// inboxItemID names an accepted message's inbox item
// ("<interaction>:<MessageId>"), its MessageId read without regard to
// letter case as duplicateKey reads it: the item in hand is what tells a
// retry once its mark has lapsed (store.Store.AcceptFrom), and named as
// written, a retry in the other letter case was queued beside it and
// processed and answered twice (TestEbXMLRetryOfAMessageInHand).
func inboxItemID(interaction, messageID string) string {
	return interaction + ":" + strings.ToUpper(messageID)
}

// ParsePersistDurations reads "ID=duration,ID=duration" (Go durations, e.g.
// "PORX_IN020101UK31=1h,PORX_IN080101UK31=30m") into a map keyed by the
// UK-family interaction id. Empty input gives an empty map.
func ParsePersistDurations(s string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, val, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want INTERACTION=duration", entry)
		}
		id, val = strings.TrimSpace(id), strings.TrimSpace(val)
		canon, _, err := v3.Canonical(id)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", entry, err)
		}
		d, err := outbox.ParseDuration(val) // Go (1h) or ISO 8601 as SDS writes it (PT1H)
		if err != nil {
			return nil, fmt.Errorf("%q: invalid duration: %w", entry, err)
		}
		if d <= 0 {
			return nil, fmt.Errorf("%q: duration must be positive", entry)
		}
		if prev, dup := out[canon]; dup && prev != d {
			// The UK and SM ids share an entry; the last used to win.
			return nil, fmt.Errorf("%q: %s has %s already (an interaction's UK and SM ids share one window)", entry, canon, prev)
		}
		out[canon] = d
	}
	return out, nil
}

// persistDurationsValue is the flag.Value of --persist-durations.
type persistDurationsValue struct{ m *map[string]time.Duration }

// String implements flag.Value.
func (v persistDurationsValue) String() string {
	if v.m == nil || len(*v.m) == 0 {
		return ""
	}
	parts := make([]string, 0, len(*v.m))
	for _, id := range slices.Sorted(maps.Keys(*v.m)) {
		parts = append(parts, id+"="+(*v.m)[id].String())
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value; a flag replaces what the environment gave.
func (v persistDurationsValue) Set(s string) error {
	m, err := ParsePersistDurations(s)
	if err != nil {
		return err
	}
	*v.m = m
	return nil
}
