// Package marathon deploys and removes a Marathon app and reports where its
// task runs. It drives Marathon through github.com/gambol99/go-marathon
// v0.7.1 and works around that version's traps (shared notes, pulumi-go.md
// section 6):
//
//   - it has no HTTP timeout (http.DefaultClient): every request here has one;
//   - its Ping sends "Accept: application/json", which Marathon 1.4.4 and
//     1.4.5 refused with 406 (gambol99/go-marathon#308; 1.4.6 and later,
//     the pinned 1.4.9 included, answer it): readiness is probed with a plain
//     GET /v2/info instead, which also says whether there is a leader;
//   - after one transport error or 5xx it marks the endpoint down
//     (client.go apiCall, cluster.go markDown), answers ErrMarathonDown to
//     every call until Marathon is seen up again, and starts a goroutine
//     (cluster.go healthCheckNode) that GETs /ping every 5 s until a 200; the
//     goroutine cannot be stopped (the client has no Close) and outlives
//     any client that is dropped. So one go-marathon client serves a Client
//     for its life, and its transport (libTransport) never shows it a
//     transport error or a 5xx: go-marathon never marks Marathon down, no
//     pinger starts, and the next attempt after an outage goes to Marathon
//     at once;
//   - it drops the status and body of a 5xx: the same transport keeps them,
//     so errors say what Marathon answered;
//   - its Application type lacks fields Marathon 1.4 knows (for example
//     unreachableStrategy): the manifest is PUT and read as raw JSON with
//     net/http, so no field is lost;
//   - it has no context.Context (client.go buildAPIRequest uses
//     http.NewRequest) and no timeout of its own (http.DefaultClient):
//     libTransport bounds each of its requests by the HTTP timeout, and the
//     caller's context is checked only between attempts, so a stalled
//     Marathon holds a go-marathon call (and, through libCall's lock, every
//     call behind it) for up to the whole timeout. Only the deploy's
//     deployments poll and the delete still use it; every read a watch
//     makes at its own pace (tasks, leader, info) is a net/http request
//     with the caller's context (do), which its deadline ends;
//   - its list of URLs fails over by marking members down, with the same
//     goroutine per member: a Client takes a list of every master's
//     Marathon and moves between them itself (endpoints.go), in the
//     transport go-marathon's requests pass through.
package marathon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gomarathon "github.com/gambol99/go-marathon"

	"github.com/marathon-ha/marathon-ha/internal/ctxsleep"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Defaults of a Client's timings.
const (
	// DefaultHTTPTimeout bounds one request. Marathon answers API calls in
	// milliseconds once it has a leader; a leaderless non-leader waits
	// 11 x 250 ms for consistent leadership before its 503, and a
	// non-leader forwarding to a leader whose host is gone answers 504
	// after its 5 s connection timeout (LeaderProxyFilter.scala), both
	// inside this.
	DefaultHTTPTimeout = 10 * time.Second
	// DefaultPollInterval is how often deployments and tasks are polled,
	// the order of Marathon's UI refresh; go-marathon's own polling waits
	// 500 ms (config.go defaultPollingWaitTime), which is needlessly busy
	// for a deploy measured in minutes.
	DefaultPollInterval = 2 * time.Second
	// DefaultBackoffMin and DefaultBackoffMax bound the wait between
	// retries of a refused connection, a 409 or a 5xx.
	DefaultBackoffMin = 1 * time.Second
	DefaultBackoffMax = 15 * time.Second
)

// Client talks to the Marathons of a cluster, one at a time: the one it
// asks until it fails, then the next (endpoints.go). Its methods may be
// called from several goroutines; its go-marathon calls are made one at a
// time, through one go-marathon client for the Client's life: a tool makes
// one Client for its process.
type Client struct {
	ends       *endpoints
	timeout    time.Duration
	progress   io.Writer
	pollEvery  time.Duration
	backoffMin time.Duration
	backoffMax time.Duration
	http       *http.Client

	// onSleep, if set, is told of every wait between attempts or polls
	// (tests).
	onSleep func(time.Duration)

	mu  sync.Mutex // makes rec describe the current call
	lib gomarathon.Marathon
	rec *libTransport
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPTimeout bounds every single request (default DefaultHTTPTimeout).
func WithHTTPTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithProgress sets where progress lines go (default: nowhere).
func WithProgress(w io.Writer) Option { return func(c *Client) { c.progress = w } }

// WithPollInterval sets how often deployments and tasks are polled.
func WithPollInterval(d time.Duration) Option { return func(c *Client) { c.pollEvery = d } }

// WithBackoff sets the first and the longest wait between retries; the
// wait doubles after each failed attempt.
func WithBackoff(min, max time.Duration) Option {
	return func(c *Client) { c.backoffMin, c.backoffMax = min, max }
}

// Info is what GET /v2/info says about a Marathon.
type Info struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Leader      string `json:"leader"`
	FrameworkID string `json:"frameworkId"`
}

// New returns a Client for the Marathons at rawURLs, a comma-separated list
// of every master's Marathon as go-marathon writes one (e.g.
// "http://10.42.1.10:8080,http://10.42.1.11:8080"), or one URL. It asks the
// first first, and does not contact Marathon.
func New(rawURLs string, opts ...Option) (*Client, error) {
	urls, err := parseEndpoints(rawURLs)
	if err != nil {
		return nil, err
	}
	c := &Client{
		ends:       &endpoints{urls: urls},
		timeout:    DefaultHTTPTimeout,
		progress:   io.Discard,
		pollEvery:  DefaultPollInterval,
		backoffMin: DefaultBackoffMin,
		backoffMax: DefaultBackoffMax,
	}
	for _, o := range opts {
		o(c)
	}
	if c.timeout <= 0 || c.pollEvery <= 0 || c.backoffMin <= 0 || c.backoffMax < c.backoffMin {
		return nil, fmt.Errorf("marathon client for %s: timeout, poll interval and backoff must be positive, and the backoff's max at least its min", c.ends)
	}
	c.ends.progress = c.progress
	c.http = &http.Client{Timeout: c.timeout}
	c.rec = &libTransport{base: http.DefaultTransport, timeout: c.timeout, libURL: urls[0], ends: c.ends}
	cfg := gomarathon.NewDefaultConfig()
	cfg.URL = urls[0]
	// The transport bounds each request: an http.Client timeout would
	// surface as a transport error, which go-marathon marks down.
	cfg.HTTPClient = &http.Client{Transport: c.rec}
	cfg.PollingWaitTime = c.pollEvery
	if c.lib, err = gomarathon.NewClient(cfg); err != nil {
		return nil, fmt.Errorf("marathon client for %s: %w", c.ends, err)
	}
	return c, nil
}

// URL is the Marathon base URL the client asks now.
func (c *Client) URL() string { return c.ends.current() }

// URLs are every Marathon base URL the client may ask, in order.
func (c *Client) URLs() []string { return append([]string(nil), c.ends.urls...) }

// baseURL checks a Marathon URL and drops a trailing slash.
func baseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("marathon URL %q is not an http(s) URL with a host; want e.g. http://<master>:%d", raw, facts.MarathonPort)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// WaitReadyQuietAttempts is how many attempts in a row WaitReady makes
// with the same answer before it says so again: 15 x the default 2 s poll,
// a line every 30 s while a master boots.
const WaitReadyQuietAttempts = 15

// WaitReady waits until a Marathon answers GET /v2/info with 200, which it
// does only once it has a leader (a leaderless one answers 503), until ctx
// ends. It asks every poll interval, not with a growing backoff: the app is
// posted as soon as Marathon has a leader, and one GET every two seconds is
// nothing to a booting master. It writes a progress line when an
// endpoint's answer changes, and every WaitReadyQuietAttempts attempts
// otherwise.
func (c *Client) WaitReady(ctx context.Context) (Info, error) {
	start := time.Now()
	what := "waiting for Marathon at " + c.ends.String()
	said := map[string]string{} // endpoint -> the answer last reported
	// last is the last answer that was Marathon's or the network's, kept
	// so that giving up says what Marathon answered, also when the
	// deadline cut the final attempt short.
	var last error
	gaveUp := func(attempts int, err error) error {
		return fmt.Errorf("%s: gave up after %s and %d attempts: %w; last: %w; check that the master is running and that port %d is open to this machine",
			what, round(time.Since(start)), attempts, err, last, facts.MarathonPort)
	}
	for attempt := 1; ; attempt++ {
		body, u, err := c.do(ctx, http.MethodGet, "/v2/info", nil)
		if err == nil {
			var info Info
			if json.Unmarshal(body, &info) != nil || info.Version == "" {
				return Info{}, fmt.Errorf("GET %s: the answer is not Marathon's info (is something else listening there?): %.200s", u, body)
			}
			fmt.Fprintf(c.progress, "Marathon %s at %s is ready (leader %s)\n", info.Version, c.URL(), info.Leader)
			return info, nil
		}
		if !Retryable(err) {
			return Info{}, fmt.Errorf("%s: %w", what, err)
		}
		if ctx.Err() != nil {
			if last == nil {
				last = err
			}
			return Info{}, gaveUp(attempt, ctx.Err())
		}
		last = err
		ep, r := strings.TrimSuffix(u, "/v2/info"), reason(err)
		if said[ep] != r || attempt%WaitReadyQuietAttempts == 0 {
			said[ep] = r
			if len(c.ends.urls) > 1 {
				r = ep + ": " + r
			}
			fmt.Fprintf(c.progress, "%s: %s (attempt %d, %s elapsed; asking every %s)\n", what, r, attempt, round(time.Since(start)), c.pollEvery)
		}
		if err := c.sleep(ctx, c.pollEvery); err != nil {
			return Info{}, gaveUp(attempt, err)
		}
	}
}

// sleep waits d or until ctx ends (ctxsleep.Sleep), telling onSleep.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.onSleep != nil {
		c.onSleep(d)
	}
	return ctxsleep.Sleep(ctx, d)
}

// do makes one plain net/http call to the current endpoint, bounded by
// the HTTP timeout and ctx, and returns the answer and the URL it asked.
// A non-2xx answer is an *APIError; no answer (also none before ctx's
// deadline: a stalled Marathon) or a 5xx moves the client to the next
// endpoint. A cancelled ctx moves nothing: the caller gave up, not
// Marathon.
func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, string, error) {
	b, u, err := c.exchange(ctx, method, path, body)
	var e *APIError
	if errors.As(err, &e) && rotates(e.Status) && !errors.Is(err, context.Canceled) {
		c.ends.failed(strings.TrimSuffix(u, path), e.reason())
	}
	return b, u, err
}

func (c *Client) exchange(ctx context.Context, method, path string, body []byte) ([]byte, string, error) {
	u := c.ends.current() + path
	var r io.Reader
	if body != nil {
		r = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, u, fmt.Errorf("%s %s: %w", method, u, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// Which bound ends the request first, for the message: the caller's
	// deadline or the HTTP timeout.
	callers := false
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < c.timeout {
		callers = true
	}
	describe := func(err error) string {
		if callers && errors.Is(err, context.DeadlineExceeded) {
			return "no answer before the caller's deadline"
		}
		return describeTransport(err, c.timeout)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, u, &APIError{Method: method, URL: u, Message: describe(err), Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, u, &APIError{Method: method, URL: u, Message: "reading the answer: " + describe(err), Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return b, u, &APIError{Method: method, URL: u, Status: resp.StatusCode, Message: messageOf(b)}
	}
	return b, u, nil
}

// libCall runs one go-marathon call and turns its error into an *APIError
// that names the request and Marathon's answer. what ("GET /v2/tasks")
// names the call should go-marathon fail before sending anything.
func (c *Client) libCall(what string, fn func(gomarathon.Marathon) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rec.take()
	err := fn(c.lib)
	if err == nil {
		return nil
	}
	ex := c.rec.take()
	method, u, _ := strings.Cut(what, " ")
	u = c.URL() + u
	if ex != nil {
		method, u = ex.method, ex.url
	}
	switch {
	case ex != nil && ex.err != nil:
		return &APIError{Method: method, URL: u, Message: describeTransport(ex.err, c.timeout), Err: ex.err}
	case ex != nil && ex.status >= 300:
		return &APIError{Method: method, URL: u, Status: ex.status, Message: messageOf(ex.body)}
	case errors.Is(err, gomarathon.ErrMarathonDown):
		// libTransport keeps go-marathon from marking Marathon down; should
		// it happen anyway, its health checker brings it back within 5 s.
		return &APIError{Method: method, URL: u, Message: "go-marathon had marked Marathon down after an earlier failure", Err: err}
	case errors.Is(err, gomarathon.ErrInvalidResponse):
		return fmt.Errorf("%s %s: go-marathon v0.7.1 could not decode Marathon's answer: %w", method, u, err)
	}
	return &APIError{Method: method, URL: u, Message: describeTransport(err, c.timeout), Err: err}
}

// retry runs op until it succeeds, fails for good, or ctx ends, waiting
// with exponential backoff between attempts and writing a progress line
// for each failed one.
func (c *Client) retry(ctx context.Context, what string, op func() error) error {
	start := time.Now()
	delay := c.backoffMin
	// last is the last failure that was Marathon's or the network's, kept
	// so that giving up still says what Marathon answered, also when the
	// deadline cut the final attempt short.
	var last error
	gaveUp := func(attempts int) error {
		if last == nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		return fmt.Errorf("%s: gave up after %s and %d attempts: %w; last: %w", what, round(time.Since(start)), attempts, ctx.Err(), last)
	}
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return gaveUp(attempt - 1)
		}
		err := op()
		if err == nil || !Retryable(err) {
			return err
		}
		if ctx.Err() != nil && last != nil {
			return gaveUp(attempt) // this attempt failed only because time ran out
		}
		last = err
		fmt.Fprintf(c.progress, "%s: %s (attempt %d, %s elapsed; next in %s)\n", what, reason(err), attempt, round(time.Since(start)), delay)
		if c.sleep(ctx, delay) != nil {
			return gaveUp(attempt)
		}
		delay = min(2*delay, c.backoffMax)
	}
}

// poll calls check every poll interval until it reports done, fails for
// good, or ctx ends; it writes a progress line when the status changes.
// Retryable errors count as a status, not a failure.
func (c *Client) poll(ctx context.Context, what string, check func() (done bool, status string, err error)) error {
	start := time.Now()
	last := ""
	for {
		done, status, err := check()
		if err != nil {
			if !Retryable(err) {
				return err
			}
			status = reason(err)
		}
		if done {
			return nil
		}
		if status != last {
			fmt.Fprintf(c.progress, "%s: %s (%s elapsed)\n", what, status, round(time.Since(start)))
			last = status
		}
		if err := c.sleep(ctx, c.pollEvery); err != nil {
			return fmt.Errorf("%s: not done after %s; last seen: %s: %w", what, round(time.Since(start)), status, err)
		}
	}
}

func round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
