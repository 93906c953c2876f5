package mobycountertest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// ELBOption configures an ELB.
type ELBOption func(*ELB)

// WithHealthCheck makes the ELB health-check its backend every interval, as
// a classic ELB does: a newly registered backend serves only after healthy
// consecutive successful checks, and a serving one stops after unhealthy
// consecutive failures (awsdocs elb-healthchecks.md). An interval of 0
// checks only when CheckNow is called, for tests that step by hand.
// Without this option a registered backend serves at once.
func WithHealthCheck(interval time.Duration, healthy, unhealthy int) ELBOption {
	return func(e *ELB) {
		e.checking, e.interval, e.healthy, e.unhealthy = true, interval, healthy, unhealthy
	}
}

// WithHealthTimeout bounds one health check (default facts.ELBHealthTimeout).
func WithHealthTimeout(d time.Duration) ELBOption { return func(e *ELB) { e.checkTimeout = d } }

// WithHealthPath sets the checked path (default facts.AppHealthPath).
func WithHealthPath(p string) ELBOption { return func(e *ELB) { e.path = p } }

// ELB is a classic load balancer stand-in with at most one backend, the
// agent running the app. It answers 503 when no backend is registered or
// the registered one is out of service (awsdocs
// elb-classic-load-balancers-user-guide, ts-elb-error-message.md, "HTTP 503:
// Service unavailable ... no registered instances ... no healthy
// instances"), 502 when the backend refuses the connection and 504 when it
// does not answer in time, before health checks have caught up.
type ELB struct {
	// URL is the load balancer's address, like the stack output appUrl.
	URL string

	srv          *httptest.Server
	checking     bool
	interval     time.Duration
	healthy      int
	unhealthy    int
	checkTimeout time.Duration
	path         string
	hc           *http.Client
	stop         chan struct{}
	done         sync.WaitGroup

	mu        sync.Mutex
	backend   *url.URL
	inService bool
	okRun     int // consecutive successful checks
	failRun   int // consecutive failed checks
}

// NewELB starts an ELB with no backend; Close stops it.
func NewELB(opts ...ELBOption) *ELB {
	e := &ELB{checkTimeout: facts.ELBHealthTimeout, path: facts.AppHealthPath, stop: make(chan struct{})}
	for _, o := range opts {
		o(e)
	}
	e.hc = &http.Client{Timeout: e.checkTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	e.URL = e.srv.URL
	if e.checking && e.interval > 0 {
		e.done.Add(1)
		go e.loop()
	}
	return e
}

// Close stops the ELB and its health checks.
func (e *ELB) Close() {
	close(e.stop)
	e.done.Wait()
	e.srv.Close()
}

// SetBackend registers the backend at rawURL in place of any other (""
// deregisters). With health checks on, it is out of service until it
// passes them.
func (e *ELB) SetBackend(rawURL string) error {
	var u *url.URL
	if rawURL != "" {
		var err error
		if u, err = url.Parse(rawURL); err != nil || u.Host == "" {
			return errors.New("ELB backend " + rawURL + " is not an http URL")
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.backend, e.okRun, e.failRun = u, 0, 0
	e.inService = u != nil && !e.checking
	return nil
}

// InService reports whether the ELB forwards requests now.
func (e *ELB) InService() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inService
}

// CheckNow runs one health check of the registered backend.
func (e *ELB) CheckNow() {
	e.mu.Lock()
	b := e.backend
	e.mu.Unlock()
	if b == nil {
		return
	}
	ok := false
	if resp, err := e.hc.Get(b.String() + e.path); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ok = resp.StatusCode == http.StatusOK
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.backend != b {
		return // re-registered meanwhile: this result is stale
	}
	if ok {
		e.okRun, e.failRun = e.okRun+1, 0
		if e.okRun >= e.healthy {
			e.inService = true
		}
	} else {
		e.okRun, e.failRun = 0, e.failRun+1
		if e.failRun >= e.unhealthy {
			e.inService = false
		}
	}
}

func (e *ELB) loop() {
	defer e.done.Done()
	t := time.NewTicker(e.interval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.CheckNow()
		}
	}
}

func (e *ELB) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	b, in := e.backend, e.inService
	e.mu.Unlock()
	if b == nil || !in {
		http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	p := httputil.NewSingleHostReverseProxy(b)
	p.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			http.Error(w, "504 Gateway Timeout", http.StatusGatewayTimeout)
			return
		}
		http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
	}
	p.ServeHTTP(w, r)
}
