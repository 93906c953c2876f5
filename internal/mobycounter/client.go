// Package mobycounter is a client for Moby Counter's HTTP API, the app the
// failover rehearsal writes to and reads back (binocarlos/moby-counter,
// branch localfile, server.js):
//
//	GET  /v1/ping    200 {"connected":true}
//	GET  /v1/whales  200 a JSON array of clicks, e.g. ["100:200","300:40"]
//	POST /v1/whales  the raw body "x:y" is appended to /data/file.json; 200 "ok"
//
// A click is "x:y", the position where someone clicked in the page
// (client/app.js posts x + ':' + y). The rehearsal writes clicks it can
// recognise, reads them back after the failover and reports the ones that
// are Missing: the data lost, the recovery point.
package mobycounter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// API paths (server.js routes).
const (
	PingPath   = facts.AppHealthPath
	WhalesPath = "/v1/whales"
)

// DefaultTimeout bounds each call. The app answers from a local file in
// milliseconds; through the ELB a dead backend shows as a hung connection
// until the ELB gives up, so a short bound keeps a watcher sampling once a
// second without piling up requests.
const DefaultTimeout = 5 * time.Second

// maxBody caps what is read of an answer: clicks are a few bytes each.
const maxBody = 16 << 20

// Client talks to one Moby Counter address: the ELB's URL or a node's.
type Client struct {
	base    string
	hc      *http.Client
	timeout time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: a client of its own that
// does not share connections with http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithTimeout sets the bound of each call (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// New returns a Client for the app at baseURL, e.g. the stack output appUrl
// ("http://<elb dns name>"). The URL is checked on each call, so a bad one
// is reported with what was being done.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), timeout: DefaultTimeout,
		hc: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// StatusError is an answer with an unexpected HTTP status, such as the 503
// a classic ELB gives while no instance is healthy.
type StatusError struct {
	URL    string
	Status int
	Body   string // the start of the body, for the message
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s answered HTTP %d %s: %q", e.URL, e.Status, http.StatusText(e.Status), e.Body)
}

// do makes one call and returns the body of a 200 answer.
func (c *Client) do(ctx context.Context, method, path string, body []byte) (string, []byte, error) {
	u := c.base + path
	if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return u, nil, fmt.Errorf("%q is not an http(s) URL of Moby Counter: pass the stack output appUrl, e.g. http://<elb dns name>", c.base)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return u, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return u, nil, fmt.Errorf("no answer within %s: %w", c.timeout, err)
		}
		return u, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return u, nil, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return u, nil, &StatusError{URL: u, Status: resp.StatusCode, Body: snippet(data)}
	}
	return u, data, nil
}

func snippet(b []byte) string {
	const n = 200
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Ping checks that the app answers and reports itself connected.
func (c *Client) Ping(ctx context.Context) error {
	u, data, err := c.do(ctx, http.MethodGet, PingPath, nil)
	if err != nil {
		return fmt.Errorf("pinging Moby Counter at %s: %w", u, err)
	}
	var got struct {
		Connected *bool `json:"connected"`
	}
	if err := json.Unmarshal(data, &got); err != nil || got.Connected == nil {
		return fmt.Errorf("pinging Moby Counter at %s: answer %q is not {\"connected\":...}: is something else listening there?", u, snippet(data))
	}
	if !*got.Connected {
		return fmt.Errorf("pinging Moby Counter at %s: it answers but reports connected=false (its storage is not ready)", u)
	}
	return nil
}

// clickRE is what Write sends: two integers joined by ':' (the shape
// client/app.js posts), or a Mark.
var clickRE = regexp.MustCompile(`^[0-9]+:[0-9]+(:` + markPattern + `)?$`)

// Write records one click and checks that the app answered "ok".
func (c *Client) Write(ctx context.Context, click string) error {
	if !clickRE.MatchString(click) {
		return fmt.Errorf("writing click %q to Moby Counter: a click is \"x:y\" with whole numbers, as NewClick makes, or a Mark", click)
	}
	u, data, err := c.do(ctx, http.MethodPost, WhalesPath, []byte(click))
	if err != nil {
		return fmt.Errorf("writing click %s to Moby Counter at %s: %w", click, u, err)
	}
	if s := strings.TrimSpace(string(data)); s != "ok" {
		return fmt.Errorf("writing click %s to Moby Counter at %s: answer %q, want \"ok\"", click, u, snippet(data))
	}
	return nil
}

// Read returns every click the app has stored, oldest first.
func (c *Client) Read(ctx context.Context) ([]string, error) {
	u, data, err := c.do(ctx, http.MethodGet, WhalesPath, nil)
	if err != nil {
		return nil, fmt.Errorf("reading clicks from Moby Counter at %s: %w", u, err)
	}
	var clicks []string
	if err := json.Unmarshal(data, &clicks); err != nil {
		return nil, fmt.Errorf("reading clicks from Moby Counter at %s: answer %q is not a JSON array of strings: %w", u, snippet(data), err)
	}
	return clicks, nil
}

// NewClick returns click number seq of the run with id run: "run:seq". A
// volume can outlive a run, so each run takes a fresh random id (Clicker
// does) and its clicks never match an earlier run's.
func NewClick(run uint32, seq int) string { return fmt.Sprintf("%d:%d", run, seq) }

// Clicker makes the unique clicks of one run. It is not safe for
// concurrent use.
type Clicker struct {
	run uint32
	seq int
}

// NewClicker starts a run with a random id drawn from rng (a *rand.Rand
// from math/rand/v2 satisfies it).
func NewClicker(rng interface{ Uint32() uint32 }) *Clicker { return &Clicker{run: rng.Uint32()} }

// Next returns the run's next click.
func (c *Clicker) Next() string {
	c.seq++
	return NewClick(c.run, c.seq)
}

// Missing returns the clicks written but not read back, in the order they
// were written: the clicks the failover lost. Each written click needs its
// own read copy, so a click written twice and read once counts once as lost.
func Missing(written, read []string) []string {
	have := map[string]int{}
	for _, r := range read {
		have[r]++
	}
	var lost []string
	for _, w := range written {
		if have[w] > 0 {
			have[w]--
			continue
		}
		lost = append(lost, w)
	}
	return lost
}
