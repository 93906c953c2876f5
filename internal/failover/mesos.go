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
	// Frameworks are the frameworks the leader knows: Marathon's is
	// active once its leader registered, and lists the tasks Mesos runs
	// for it as the agents reported them (reconciled, not Marathon's
	// memory).
	Frameworks []MesosFramework
}

// MesosFramework is a framework in the Mesos leader's state.
type MesosFramework struct {
	ID     string
	Active bool
	// Tasks are its tasks' states by task id.
	Tasks map[string]string
}

// Framework is the framework id, if the leader knows it.
func (s MesosState) Framework(id string) (MesosFramework, bool) {
	for _, f := range s.Frameworks {
		if f.ID == id {
			return f, true
		}
	}
	return MesosFramework{}, false
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
// "slaves" lists the agents with their "hostname" and "active" flag, and
// "frameworks" each framework's "id", "active" and "tasks" ("id",
// "state"; src/master/http.cpp FullFrameworkWriter).
// The masters are asked at once and the leader's answer taken; an answer
// of no master, or none that leads, is an error.
func NewMesosProbe(urls []string, client *http.Client) MesosProbe {
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Second}
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return func(ctx context.Context) (MesosState, error) {
		if len(urls) == 0 {
			return MesosState{}, errors.New("no Mesos master URL (stack output mesosUrls)")
		}
		// Every master at once: a lost master's address holds a request
		// until the client's timeout, which must not delay the others.
		type answer struct {
			st  MesosState
			err error
		}
		answers := make(chan answer, len(urls))
		for _, u := range urls {
			go func() {
				st, err := mesosState(ctx, &c, strings.TrimRight(u, "/")+"/master/state")
				answers <- answer{st, err}
			}()
		}
		var why []string
		for range urls {
			a := <-answers
			if a.err == nil {
				return a.st, nil
			}
			why = append(why, a.err.Error())
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
		Frameworks []struct {
			ID     string `json:"id"`
			Active bool   `json:"active"`
			Tasks  []struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"tasks"`
		} `json:"frameworks"`
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
	for _, f := range s.Frameworks {
		mf := MesosFramework{ID: f.ID, Active: f.Active, Tasks: map[string]string{}}
		for _, t := range f.Tasks {
			mf.Tasks[t.ID] = t.State
		}
		st.Frameworks = append(st.Frameworks, mf)
	}
	return st, nil
}
