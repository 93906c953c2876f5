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

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// ELBOption configures an ELB.
type ELBOption func(*ELB)

// WithHealthCheck makes the ELB health-check each registered instance every
// interval, as a classic ELB does: an instance serves only after healthy
// consecutive successful checks, and a serving one stops after unhealthy
// consecutive failures (awsdocs elb-healthchecks.md). An interval of 0
// checks only when CheckNow is called, for tests that step by hand.
// Without this option a registered instance serves as soon as something
// listens on it.
func WithHealthCheck(interval time.Duration, healthy, unhealthy int) ELBOption {
	return func(e *ELB) {
		e.checking, e.interval, e.healthy, e.unhealthy = true, interval, healthy, unhealthy
	}
}

// WithHealthTimeout bounds one health check (default facts.ELBHealthTimeout).
func WithHealthTimeout(d time.Duration) ELBOption { return func(e *ELB) { e.checkTimeout = d } }

// WithHealthPath sets the checked path (default facts.AppHealthPath).
func WithHealthPath(p string) ELBOption { return func(e *ELB) { e.path = p } }

// WithName sets the load balancer's name (default DefaultELBName).
func WithName(name string) ELBOption { return func(e *ELB) { e.Name = name } }

// WithEC2State gives the ELB the EC2 state of its instances, as AWS's ELB
// knows it: DescribeInstanceHealth leaves terminated instances out ("The
// state of terminated instances is not returned", API reference,
// DescribeInstanceHealth) and describes a pending or stopped one as such.
// state returns ok false for an unknown instance.
func WithEC2State(state func(instanceID string) (string, bool)) ELBOption {
	return func(e *ELB) { e.ec2State = state }
}

// WithServiceHook calls hook each time a health check moves an instance in
// or out of service, with the ELB's lock held (the hook must not call the
// ELB): the ELB's own record of whom it routes to.
func WithServiceHook(hook func(instanceID string, inService bool)) ELBOption {
	return func(e *ELB) { e.onService = hook }
}

// DefaultELBName is the name of an ELB made without WithName.
const DefaultELBName = "mobycountertest-elb"

// legacyInstance is the instance SetBackend registers.
const legacyInstance = "i-0000000000000b4ce"

// ELB is a classic load balancer stand-in: registered EC2 instances, each
// with what listens on its app port (nothing, or an app server), health
// checks, and the Elastic Load Balancing API (APIURL) for
// DescribeLoadBalancers and DescribeInstanceHealth. It answers 503 when no
// registered instance is in service (awsdocs
// elb-classic-load-balancers-user-guide, ts-elb-error-message.md, "HTTP 503:
// Service unavailable ... no registered instances ... no healthy
// instances"), 502 when an in-service instance refuses the connection and
// 504 when it does not answer in time, before health checks have caught up.
// With several instances in service it takes turns.
type ELB struct {
	// URL is the load balancer's address, like the stack output appUrl.
	URL string
	// APIURL is its Elastic Load Balancing API endpoint (the SDK's
	// BaseEndpoint, or AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING).
	APIURL string
	// Name is the load balancer's name; its DNSName is URL's host name.
	Name string

	srv          *httptest.Server
	api          *httptest.Server
	apiState     *ec2test.ELBAPI
	created      time.Time
	checking     bool
	interval     time.Duration
	healthy      int
	unhealthy    int
	checkTimeout time.Duration
	path         string
	ec2State     func(string) (string, bool)
	onService    func(string, bool)
	hc           *http.Client
	stop         chan struct{}
	done         sync.WaitGroup

	mu      sync.Mutex
	members []*member
	next    int   // round robin
	faults  []int // statuses of the next proxied answers
}

// member is one registered instance.
type member struct {
	id        string
	backend   *url.URL // what listens on the instance's app port, nil if nothing
	checked   bool     // at least one health check ran since registration
	inService bool
	okRun     int // consecutive successful checks
	failRun   int // consecutive failed checks
}

// NewELB starts an ELB with no instance; Close stops it.
func NewELB(opts ...ELBOption) *ELB {
	e := &ELB{Name: DefaultELBName, checkTimeout: facts.ELBHealthTimeout, path: facts.AppHealthPath, stop: make(chan struct{})}
	for _, o := range opts {
		o(e)
	}
	e.hc = &http.Client{Timeout: e.checkTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	e.URL = e.srv.URL
	e.created = time.Now()
	e.apiState = ec2test.NewELBAPI(e)
	e.api = httptest.NewServer(e.apiState)
	e.APIURL = e.api.URL
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
	e.api.Close()
}

func parseBackend(rawURL string) (*url.URL, error) {
	if rawURL == "" {
		return nil, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("ELB backend " + rawURL + " is not an http URL")
	}
	return u, nil
}

// Register registers an instance with nothing listening on its app port
// yet. Registering a registered instance changes nothing
// (RegisterInstancesWithLoadBalancer is idempotent).
func (e *ELB) Register(instanceID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.find(instanceID) == nil {
		e.members = append(e.members, &member{id: instanceID})
	}
}

// SetInstanceBackend says what listens on a registered instance's app port
// now: an app server's URL, or "" for nothing (the app stopped). Its health
// record is kept: only the checks move it in or out of service.
func (e *ELB) SetInstanceBackend(instanceID, rawURL string) error {
	u, err := parseBackend(rawURL)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.find(instanceID)
	if m == nil {
		return errors.New("ELB: instance " + instanceID + " is not registered")
	}
	m.backend = u
	if !e.checking {
		m.inService = u != nil
	}
	return nil
}

// SetBackend registers a single instance whose app port serves rawURL in
// place of every other ("" deregisters all). With health checks on, it is
// out of service until it passes them.
func (e *ELB) SetBackend(rawURL string) error {
	u, err := parseBackend(rawURL)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.members = nil
	if u != nil {
		e.members = []*member{{id: legacyInstance, backend: u, inService: !e.checking}}
	}
	return nil
}

func (e *ELB) find(id string) *member {
	for _, m := range e.members {
		if m.id == id {
			return m
		}
	}
	return nil
}

// InService reports whether any registered instance is in service.
func (e *ELB) InService() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range e.members {
		if m.inService {
			return true
		}
	}
	return false
}

// Fail makes the next n requests through the ELB answer status, without
// reaching any instance: a transient error of the load balancer (a 504 of
// an instance that was slow once, say).
func (e *ELB) Fail(n, status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for range n {
		e.faults = append(e.faults, status)
	}
}

// CheckNow runs one health check of every registered instance.
func (e *ELB) CheckNow() {
	e.mu.Lock()
	type probe struct {
		m *member
		b *url.URL
	}
	var probes []probe
	for _, m := range e.members {
		probes = append(probes, probe{m, m.backend})
	}
	e.mu.Unlock()
	for _, p := range probes {
		ok := false
		if p.b != nil {
			if resp, err := e.hc.Get(p.b.String() + e.path); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ok = resp.StatusCode == http.StatusOK
			}
		}
		e.mu.Lock()
		if e.find(p.m.id) == p.m { // still registered
			was := p.m.inService
			p.m.checked = true
			if ok {
				p.m.okRun, p.m.failRun = p.m.okRun+1, 0
				if p.m.okRun >= e.healthy {
					p.m.inService = true
				}
			} else {
				p.m.okRun, p.m.failRun = 0, p.m.failRun+1
				if p.m.failRun >= e.unhealthy {
					p.m.inService = false
				}
			}
			if p.m.inService != was && e.onService != nil {
				e.onService(p.m.id, p.m.inService)
			}
		}
		e.mu.Unlock()
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

// pick returns the backend of the next in-service instance, or a fault to
// answer with.
func (e *ELB) pick() (*url.URL, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.faults) > 0 {
		st := e.faults[0]
		e.faults = e.faults[1:]
		return nil, st
	}
	n := len(e.members)
	for i := range n {
		m := e.members[(e.next+i)%n]
		if m.inService {
			e.next = (e.next + i + 1) % n
			if m.backend == nil {
				return nil, http.StatusBadGateway // in service, nothing listens any more
			}
			return m.backend, 0
		}
	}
	return nil, http.StatusServiceUnavailable
}

func (e *ELB) serve(w http.ResponseWriter, r *http.Request) {
	b, status := e.pick()
	if b == nil {
		http.Error(w, http.StatusText(status), status)
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
