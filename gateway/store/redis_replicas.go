package store

import (
	"context"
	"fmt"
	"strings"
)

// CheckReplicas reports whether the master has as many replicas online
// as the writes wait for (RedisOptions.WaitReplicas): with fewer every
// queue write fails (ErrNotReplicated), so nothing can be accepted while
// PING still answers. Nil when no replicas are waited for.
func (r *Redis) CheckReplicas(ctx context.Context) error {
	rc, ok := r.client.(replicatedClient)
	if !ok || rc.replicas <= 0 {
		return nil
	}
	info, err := rc.UniversalClient.Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("redis replicas: %w", err)
	}
	online := 0
	for _, line := range strings.Split(info, "\n") {
		// slave0:ip=127.0.0.1,port=6380,state=online,offset=…,lag=0
		if strings.HasPrefix(line, "slave") && strings.Contains(line, "state=online") {
			online++
		}
	}
	if online < rc.replicas {
		return fmt.Errorf("%d of the %d replicas each write waits for are online: writes fail until they are back", online, rc.replicas)
	}
	return nil
}
