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
	return e.Status == 0 || e.Status == http.StatusConflict || e.Status >= 500
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

// recordingTransport keeps the last exchange go-marathon made, because
// go-marathon v0.7.1 drops the status and body of a 5xx (it marks the
// endpoint down and returns ErrMarathonDown) and keeps only a parsed
// message of a 4xx. Its background /ping health checks are not recorded.
type recordingTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	last *exchange
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if strings.HasSuffix(req.URL.Path, "/ping") {
		return resp, err
	}
	ex := &exchange{method: req.Method, url: req.URL.String(), err: err}
	if err == nil {
		ex.status = resp.StatusCode
		if resp.StatusCode >= 300 {
			body, readErr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			ex.body = body
			if readErr != nil {
				ex.err = readErr
			}
		}
	}
	t.mu.Lock()
	t.last = ex
	t.mu.Unlock()
	return resp, err
}

// take returns and forgets the last exchange.
func (t *recordingTransport) take() *exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	ex := t.last
	t.last = nil
	return ex
}
