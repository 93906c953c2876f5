package failover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// MesosState is what the watch reads of the Mesos masters: the leader
// (host:port, "" while there is none) and the hostnames of the agents
// registered and active with it.
type MesosState struct {
	Leader string
	Agents []string
}

// MesosProbe reads the Mesos masters' state once.
type MesosProbe func(ctx context.Context) (MesosState, error)

// NewMesosProbe asks each master at urls (the stack output mesosUrls, one
// per master) for GET /master/state, without following redirects: a
// non-leading Mesos 1.4 master answers it with 307 Temporary Redirect to
// the leader's private address, which this machine cannot reach, while the
// leader answers with its state (apache/mesos 1.4.1 src/master/http.cpp
// Master::Http::state redirects unless elected; docs/endpoints/master/
// redirect.md). The leader's "leader" field is its PID, master@ip:port,
// and "slaves" lists the agents with their "hostname" and "active" flag.
// An answer of no master, or none that leads, is an error.
func NewMesosProbe(urls []string, client *http.Client) MesosProbe {
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Second}
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return func(ctx context.Context) (MesosState, error) {
		var why []string
		for _, u := range urls {
			st, err := mesosState(ctx, &c, strings.TrimRight(u, "/")+"/master/state")
			if err == nil {
				return st, nil
			}
			why = append(why, err.Error())
		}
		if len(why) == 0 {
			return MesosState{}, errors.New("no Mesos master URL (stack output mesosUrls)")
		}
		return MesosState{}, fmt.Errorf("no Mesos master leads: %s", strings.Join(why, "; "))
	}
}

func mesosState(ctx context.Context, c *http.Client, u string) (MesosState, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return MesosState{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return MesosState{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode != http.StatusOK {
		if loc := resp.Header.Get("Location"); loc != "" {
			return MesosState{}, fmt.Errorf("GET %s: %s to %s", u, resp.Status, loc)
		}
		return MesosState{}, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var s struct {
		Leader string `json:"leader"`
		Slaves []struct {
			Hostname string `json:"hostname"`
			Active   bool   `json:"active"`
		} `json:"slaves"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return MesosState{}, fmt.Errorf("GET %s: %w", u, err)
	}
	if s.Leader == "" {
		return MesosState{}, fmt.Errorf("GET %s: the state names no leader", u)
	}
	st := MesosState{Leader: strings.TrimPrefix(s.Leader, "master@")}
	for _, a := range s.Slaves {
		if a.Active {
			st.Agents = append(st.Agents, a.Hostname)
		}
	}
	return st, nil
}
