package marathon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Leader returns the leading Marathon's address, host:port as it
// publishes itself (--hostname:--http_port; on this cluster a master's
// private IP and 8080), from GET /v2/leader (mesosphere/marathon v1.4.9
// src/main/scala/mesosphere/marathon/api/v2/LeaderResource.scala: {"leader":
// "host:port"}). Any instance answers it: a non-leader proxies it to the
// leader. While no instance answers or there is no leader (503 during an
// election) it retries, moving between the client's Marathons, until ctx
// ends.
func (c *Client) Leader(ctx context.Context) (string, error) {
	var leader string
	err := c.retry(ctx, "GET "+c.target("/v2/leader"), func() error {
		body, u, err := c.do(ctx, http.MethodGet, "/v2/leader", nil)
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
