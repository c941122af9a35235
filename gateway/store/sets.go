package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// memSet is a named set of a Memory store and when it expires.
type memSet struct {
	members map[string]bool
	exp     time.Time
}

// SetAdd implements Store.
func (m *Memory) SetAdd(_ context.Context, set string, ttl time.Duration, members ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.setAddLocked(m.now(), set, ttl, members)
	return nil
}

// setAddLocked is SetAdd for a caller that holds mu. With no members it
// does nothing, as in Redis (no SADD, no PEXPIRE of a set that may not be
// there: Redis keeps no empty set).
func (m *Memory) setAddLocked(now time.Time, set string, ttl time.Duration, members []string) {
	if len(members) == 0 {
		return
	}
	s, ok := m.sets[set]
	if !ok || !now.Before(s.exp) {
		s = memSet{members: map[string]bool{}}
	}
	for _, v := range members {
		s.members[v] = true
	}
	s.exp = now.Add(keyTTL(ttl)) // at least a millisecond, as in Redis (PEXPIRE)
	m.sets[set] = s
}

// SetMembers implements Store.
func (m *Memory) SetMembers(_ context.Context, set string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	s, ok := m.sets[set]
	if !ok || !m.now().Before(s.exp) {
		return nil, nil
	}
	out := make([]string, 0, len(s.members))
	for v := range s.members {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil
}

// SetRemove implements Store.
func (m *Memory) SetRemove(_ context.Context, set string, members ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if s, ok := m.sets[set]; ok {
		for _, v := range members {
			delete(s.members, v)
		}
	}
	return nil
}

// setKey is the Redis key of a named set.
func (r *Redis) setKey(set string) string { return r.prefix + "set:" + set }

// SetAdd implements Store with SADD and PEXPIRE in one script
// (setAddScript), which with WaitReplicas waits for the replicas: what a
// release owes a pharmacy must survive a failover.
func (r *Redis) SetAdd(ctx context.Context, set string, ttl time.Duration, members ...string) error {
	if len(members) == 0 {
		return nil
	}
	args := appendMembers([]any{keyTTL(ttl).Milliseconds()}, members)
	if err := setAddScript.Run(ctx, r.scripts, []string{r.setKey(set)}, args...).Err(); err != nil {
		return fmt.Errorf("redis set add %s: %w", set, err)
	}
	return nil
}

// SetMembers implements Store.
func (r *Redis) SetMembers(ctx context.Context, set string) ([]string, error) {
	out, err := r.client.SMembers(ctx, r.setKey(set)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis set members %s: %w", set, err)
	}
	slices.Sort(out)
	return out, nil
}

// SetRemove implements Store with SREM in a script (setRemoveScript),
// which with WaitReplicas waits for the replicas: a prescription handed
// over and taken off what is owed must not be owed again after a
// failover.
func (r *Redis) SetRemove(ctx context.Context, set string, members ...string) error {
	if len(members) == 0 {
		return nil
	}
	if err := setRemoveScript.Run(ctx, r.scripts, []string{r.setKey(set)}, appendMembers(nil, members)...).Err(); err != nil {
		return fmt.Errorf("redis set remove %s: %w", set, err)
	}
	return nil
}

// appendMembers appends to args the number of members, then the members,
// as setMembersLua reads them.
func appendMembers(args []any, members []string) []any {
	args = append(args, len(members))
	for _, v := range members {
		args = append(args, v)
	}
	return args
}
