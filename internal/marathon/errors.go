package marathon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// APIError is a failed exchange with Marathon: the request, and either
// Marathon's answer (Status and its message) or, with Status 0, why no
// answer came.
type APIError struct {
	Method, URL string
	// Status is the HTTP status Marathon answered, 0 if it did not answer.
	Status int
	// Message is Marathon's message (the "message" and "details" of its
	// JSON, or the text of an HTML error page), or the transport failure.
	Message string
	// Err is the transport error when Status is 0.
	Err error
	// NoLeader marks an answer that says an election is under way though
	// its status would be final elsewhere: the leading Marathon's 404
	// "There is no leader" to GET /v2/leader while it cannot read
	// ZooKeeper (mesosphere/marathon v1.4.9 api/v2/LeaderResource.scala).
	NoLeader bool
}

func (e *APIError) Error() string { return e.Method + " " + e.URL + ": " + e.reason() }

func (e *APIError) Unwrap() error { return e.Err }

func (e *APIError) reason() string {
	if e.Status == 0 {
		return e.Message
	}
	return fmt.Sprintf("Marathon answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Retryable reports whether err may pass if the call is made again: no
// answer (Marathon not up yet, or restarting), 409 (the app is locked by a
// deployment), or 5xx (503 while Marathon has no leader).
func Retryable(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	return e.Status == 0 || e.Status == http.StatusConflict || e.Status >= 500 || e.NoLeader
}

// IsNotFound reports whether Marathon answered 404, e.g. for an app it does
// not know.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// reason is err without the request, for progress lines.
func reason(err error) string {
	var e *APIError
	if errors.As(err, &e) {
		return e.reason()
	}
	return err.Error()
}

// describeTransport turns a transport error into what an operator needs.
func describeTransport(err error, timeout time.Duration) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot resolve host %q", dnsErr.Name)
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("no answer within %s", timeout)
	}
	return err.Error()
}

var (
	htmlTitle = regexp.MustCompile(`(?is)<title>(.*?)</title>`)
	spaces    = regexp.MustCompile(`\s+`)
)

// messageOf extracts Marathon's message from an error body: JSON
// {"message", "details":[{"path","errors"}]} from its REST resources, or
// Jetty's HTML page (503 "Could not determine the current leader").
func messageOf(body []byte) string {
	var m struct {
		Message string `json:"message"`
		Details []struct {
			Path   string   `json:"path"`
			Errors []string `json:"errors"`
		} `json:"details"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		msg := m.Message
		var details []string
		for _, d := range m.Details {
			details = append(details, d.Path+": "+strings.Join(d.Errors, ", "))
		}
		if len(details) > 0 {
			msg += " (" + strings.Join(details, "; ") + ")"
		}
		return msg
	}
	text := string(body)
	if t := htmlTitle.FindStringSubmatch(text); t != nil {
		text = t[1]
	}
	text = strings.TrimSpace(spaces.ReplaceAllString(text, " "))
	if text == "" {
		return "(empty body)"
	}
	const max = 500
	if len(text) > max {
		text = text[:max] + "..."
	}
	return text
}

// exchange is one request go-marathon made and what came back.
type exchange struct {
	method, url string
	status      int
	body        []byte
	err         error
}

// hiddenFailureStatus is what libTransport answers go-marathon instead of
// a transport error or a 5xx: a status that go-marathon v0.7.1 returns as
// an *APIError (NewAPIError, ErrCodeUnknown) without marking the endpoint
// down, which it does only on a transport error or a status >= 500
// (client.go apiCall). No Marathon answers it; libCall reports the real
// exchange instead.
const hiddenFailureStatus = 499

// libTransport is go-marathon's transport. It bounds each request by the
// client's timeout, reads the answer whole, and keeps the exchange,
// because go-marathon v0.7.1 drops the status and body of a 5xx and keeps
// only a parsed message of a 4xx. A transport error or a 5xx reaches
// go-marathon as hiddenFailureStatus, so it never marks Marathon down:
// marked down, it would refuse every call until its /ping goroutine
// (cluster.go healthCheckNode, every 5 s, never stopped) saw Marathon
// again. Requests to /ping, which only that goroutine makes, go to the URL
// go-marathon names, unrecorded, moving no endpoint, but bounded by the
// timeout like every request: /ping does not bypass Marathon 1.4.9's
// leader proxy (mesosphere/marathon v1.4.9 api/MarathonRestModule.scala
// filters "/*" through LeaderProxyFilter), so a leaderless Marathon holds
// it facts.MarathonLeaderWait before a 503, and a lost master forever.
//
// go-marathon is configured with libURL, the first endpoint; the transport
// sends each request to the endpoint the Client asks now instead, and a
// hidden failure moves the Client to the next (endpoints.go).
type libTransport struct {
	base    http.RoundTripper
	timeout time.Duration
	libURL  string
	ends    *endpoints
	mu      sync.Mutex
	last    *exchange
}

func (t *libTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	defer cancel()
	out := req.WithContext(ctx)
	if strings.HasSuffix(req.URL.Path, "/ping") {
		resp, err := t.base.RoundTrip(out)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20)) // before cancel ends the body
		if err != nil {
			return nil, err
		}
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		return resp, nil
	}
	endpoint := t.libURL
	if rest, ok := strings.CutPrefix(req.URL.String(), t.libURL); ok && t.ends != nil {
		endpoint = t.ends.current()
		u, err := url.Parse(endpoint + rest)
		if err != nil {
			return nil, err
		}
		out = out.Clone(ctx)
		out.URL, out.Host = u, u.Host
	}
	resp, err := t.base.RoundTrip(out)
	ex := &exchange{method: req.Method, url: out.URL.String(), err: err}
	if err == nil {
		ex.status = resp.StatusCode
		ex.body, ex.err = io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
	}
	t.mu.Lock()
	t.last = ex
	t.mu.Unlock()
	if ex.err != nil || ex.status >= 500 {
		if t.ends != nil {
			why := (&APIError{Status: ex.status, Message: messageOf(ex.body)}).reason()
			if ex.err != nil {
				why = describeTransport(ex.err, t.timeout)
			}
			t.ends.failed(endpoint, why)
		}
		return &http.Response{Status: fmt.Sprintf("%d hidden failure", hiddenFailureStatus), StatusCode: hiddenFailureStatus,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{},
			Body: io.NopCloser(bytes.NewReader(nil)), Request: req}, nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(ex.body))
	resp.ContentLength = int64(len(ex.body))
	return resp, nil
}

// take returns and forgets the last exchange.
func (t *libTransport) take() *exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	ex := t.last
	t.last = nil
	return ex
}
