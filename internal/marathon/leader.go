package marathon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Leader returns the leading Marathon's address, host:port as it
// publishes itself (--hostname:--http_port; on this cluster a master's
// private IP and 8080), from GET /v2/leader (mesosphere/marathon v1.4.9
// src/main/scala/mesosphere/marathon/api/v2/LeaderResource.scala: {"leader":
// "host:port"}). Any instance answers it: a non-leader proxies it to the
// leader. It retries, moving between the client's Marathons, until ctx
// ends, while:
//   - no instance answers (its master is gone);
//   - there is no leader: a non-leader that knows none looks for one 11
//     times 250 ms and then answers 503 (LeaderProxyFilter.scala
//     waitForConsistentLeadership), so a caller's deadline shorter than
//     2.75 s sees no answer rather than the 503;
//   - the leader is gone and a non-leader still forwards to it: 504 after
//     its 5 s connection timeout (JavaUrlConnectionRequestForwarder);
//   - the leader cannot read ZooKeeper: 404 "There is no leader"
//     (LeaderResource.scala), which is no final "not found" here
//     (APIError.NoLeader); it stays with the same Marathon, as every
//     other would forward to the same leader.
func (c *Client) Leader(ctx context.Context) (string, error) {
	var leader string
	err := c.retry(ctx, "GET "+c.target("/v2/leader"), func() error {
		body, u, err := c.do(ctx, http.MethodGet, "/v2/leader", nil)
		var e *APIError
		if errors.As(err, &e) && e.Status == http.StatusNotFound {
			e.NoLeader = true
			e.Message += " (the leader cannot read ZooKeeper: an election may be under way)"
		}
		if err != nil {
			return err
		}
		var l struct {
			Leader string `json:"leader"`
		}
		if err := json.Unmarshal(body, &l); err != nil || l.Leader == "" {
			return fmt.Errorf("GET %s: the answer names no leader: %.200s", u, body)
		}
		leader = l.Leader
		return nil
	})
	return leader, err
}

// Info is one GET /v2/info: the version, the leader and Marathon's Mesos
// framework id (mesosphere/marathon v1.4.9 api/v2/InfoResource.scala). It
// goes through the leader proxy like every call, so it fails while there
// is no leader; it is not retried.
func (c *Client) Info(ctx context.Context) (Info, error) {
	body, u, err := c.do(ctx, http.MethodGet, "/v2/info", nil)
	if err != nil {
		return Info{}, err
	}
	var info Info
	if json.Unmarshal(body, &info) != nil || info.Version == "" {
		return Info{}, fmt.Errorf("GET %s: the answer is not Marathon's info: %.200s", u, body)
	}
	return info, nil
}
