package store

import (
	"context"
	"fmt"
	"strings"
)

// ReplicaCount is how many replicas the master has online and how many
// each write waits for (RedisOptions.WaitReplicas).
type ReplicaCount struct {
	Online, Waited int
}

// Missing reports the error every write meets (ErrNotReplicated) while
// fewer replicas are online than it waits for, so that nothing can be
// accepted while PING still answers; nil otherwise.
func (c ReplicaCount) Missing() error {
	if c.Online < c.Waited {
		return fmt.Errorf("%d of the %d replicas each write waits for are online: writes fail until they are back", c.Online, c.Waited)
	}
	return nil
}

// Unwaited describes the window left when more replicas are online than a
// write waits for, "" when there is none: the sentinels may promote a
// replica that had not confirmed an acknowledged write, and a record the
// exactly-once rules rest on (an attempt sent to EPS) is then lost.
func (c ReplicaCount) Unwaited() string {
	if c.Waited == 0 || c.Online <= c.Waited {
		return ""
	}
	return fmt.Sprintf("%d replicas online, each write waits for %d: a failover may promote one without an acknowledged write; set --redis-wait-replicas to %d (docs/deploy.md)",
		c.Online, c.Waited, c.Online)
}

// Replicas counts the master's replicas online (INFO replication) against
// those each write waits for. Zero and nil when no replicas are waited
// for.
func (r *Redis) Replicas(ctx context.Context) (ReplicaCount, error) {
	rc, ok := r.client.(replicatedClient)
	if !ok || rc.replicas <= 0 {
		return ReplicaCount{}, nil
	}
	info, err := rc.UniversalClient.Info(ctx, "replication").Result()
	if err != nil {
		return ReplicaCount{}, fmt.Errorf("redis replicas: %w", err)
	}
	c := ReplicaCount{Waited: rc.replicas}
	for _, line := range strings.Split(info, "\n") {
		// slave0:ip=127.0.0.1,port=6380,state=online,offset=…,lag=0
		if strings.HasPrefix(line, "slave") && strings.Contains(line, "state=online") {
			c.Online++
		}
	}
	return c, nil
}
