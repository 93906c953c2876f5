package marathon

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// endpoints are the Marathons a Client may ask, one per master, and the one
// it asks now. Every Marathon of a cluster answers for the leader: a
// non-leader proxies each request to it (mesosphere/marathon v1.4.9
// src/main/scala/mesosphere/marathon/api/LeaderProxyFilter.scala), so any
// live master will do. The Client stays with the one it asks until that one
// fails to answer (a transport error: the master or its Marathon is down)
// or answers 5xx (503: no leader yet, or "Connection to leader refused."
// while the old leader is still believed; 502 and 504 from the proxy), and
// then moves to the next, in order, round the list. A 409 or 404 is the
// leader's own answer, the same from every member: it moves nothing.
//
// go-marathon v0.7.1 takes a comma-separated list too, but on the first
// failure it marks a member down and starts a /ping goroutine for it that
// is never stopped (cluster.go markDown, healthCheckNode); so go-marathon is
// given the first URL only, and libTransport sends its requests to the
// current endpoint instead.
type endpoints struct {
	mu       sync.Mutex
	urls     []string
	cur      int
	progress io.Writer
}

// parseEndpoints reads a comma-separated list of Marathon URLs, as
// go-marathon's config.URL is written ("http://a:8080,http://b:8080"; a
// URL without a scheme takes the first one's, as go-marathon's
// newCluster does).
func parseEndpoints(raw string) ([]string, error) {
	if !strings.Contains(raw, ",") {
		u, err := baseURL(raw)
		if err != nil {
			return nil, err
		}
		return []string{u}, nil
	}
	var urls []string
	scheme := ""
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("marathon URL list %q has an empty entry; want e.g. http://<master1>:%d,http://<master2>:%d", raw, facts.MarathonPort, facts.MarathonPort)
		}
		if scheme != "" && !strings.Contains(part, "://") {
			part = scheme + "://" + part
		}
		u, err := baseURL(part)
		if err != nil {
			return nil, err
		}
		if scheme == "" {
			p, _ := url.Parse(u)
			scheme = p.Scheme
		}
		for _, seen := range urls {
			if seen == u {
				return nil, fmt.Errorf("marathon URL list %q names %s twice", raw, u)
			}
		}
		urls = append(urls, u)
	}
	return urls, nil
}

// current is the endpoint to ask now.
func (e *endpoints) current() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.urls[e.cur]
}

// failed moves on from endpoint u, which did not answer or answered
// why; a failure of an endpoint already left behind moves nothing.
func (e *endpoints) failed(u, why string) {
	e.mu.Lock()
	if len(e.urls) < 2 || e.urls[e.cur] != u {
		e.mu.Unlock()
		return
	}
	e.cur = (e.cur + 1) % len(e.urls)
	next := e.urls[e.cur]
	e.mu.Unlock()
	fmt.Fprintf(e.progress, "Marathon at %s: %s; asking %s next\n", u, why, next)
}

// String lists the endpoints for messages: one URL, or all of them.
func (e *endpoints) String() string { return strings.Join(e.urls, ",") }

// rotates reports whether an exchange that ended with status (0: no
// answer) should send the next request elsewhere.
func rotates(status int) bool { return status == 0 || status >= 500 }

// target names path on the client's Marathons for progress lines and
// errors: the URL itself with one endpoint, else the path and the list.
func (c *Client) target(path string) string {
	if len(c.ends.urls) == 1 {
		return c.ends.urls[0] + path
	}
	return path + " (Marathon at " + c.ends.String() + ")"
}

// Without returns a Client like c (the same timeouts, polling and
// progress) that asks every Marathon but the one at u: a master known to
// be gone, whose address would hold each request it gets until the
// timeout (a crashed instance answers nothing). With u not among them, or
// the only one, it returns c.
func (c *Client) Without(u string) (*Client, error) {
	u = strings.TrimSuffix(u, "/")
	var rest []string
	for _, e := range c.ends.urls {
		if e != u {
			rest = append(rest, e)
		}
	}
	if len(rest) == len(c.ends.urls) || len(rest) == 0 {
		return c, nil
	}
	return New(strings.Join(rest, ","), WithHTTPTimeout(c.timeout), WithProgress(c.progress), WithPollInterval(c.pollEvery),
		WithBackoff(c.backoffMin, c.backoffMax))
}
