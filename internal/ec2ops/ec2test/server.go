// Package ec2test is an in-process stand-in for the few EC2 Query-API
// actions marathon-ha's tools call: DescribeInstances, TerminateInstances,
// DescribeVolumes, DeleteVolume, GetConsoleOutput (console.go), the
// security-group calls of the partition drill (groups.go) and the
// program's preflight read GetInstanceMetadataDefaults (imds.go). It
// speaks the wire protocol (form-encoded POST, XML answers in the 2016-11-15
// namespace, AWS-shaped error documents), so tests drive it with the real
// aws-sdk-go-v2 ec2 client and exercise the SDK's serializers,
// deserializers and retries.
//
// It models the AWS behaviour the tools depend on: TerminateInstances moves
// an instance from running to shutting-down and, after a delay, terminated;
// by default the OS is shut down first (WithOSShutdown), unless the call
// sets SkipOsShutdown=true (EC2 User Guide, "Methods for terminating an
// instance"); once terminated, its non-root volumes detach (in-use, then
// available after a second delay) and volumes with DeleteOnTermination are
// deleted (EC2 User Guide, "Terminate Amazon EC2 instances": "volumes
// attached after instance launch continue running"); DeleteVolume refuses an
// attached volume with VolumeInUse. AttachVolume and DetachVolume, which
// the volume drivers call on the agents, are methods for a test harness
// playing the driver. Every action refuses a parameter it does not know
// (UnknownParameter), as EC2 does. Time advances lazily: each request (or
// accessor) first applies the transitions that are due, so tests see
// exactly AWS's sequence.
package ec2test

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// Instance states (EC2 API reference, InstanceState: code and name).
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
	StateStopping     = "stopping"
	StateStopped      = "stopped"
)

var stateCodes = map[string]int{StatePending: 0, StateRunning: 16, StateShuttingDown: 32,
	StateTerminated: 48, StateStopping: 64, StateStopped: 80}

// Volume states (EC2 API reference, Volume: status).
const (
	VolumeCreating  = "creating"
	VolumeAvailable = "available"
	VolumeInUse     = "in-use"
	VolumeError     = "error"
)

// Region and AvailabilityZone are what seeded resources get by default and
// what Client configures.
const (
	Region           = "us-east-1"
	AvailabilityZone = "us-east-1a"
)

// Instance is an EC2 instance as seeded into the stand-in.
type Instance struct {
	ID               string
	PrivateIP        string
	State            string // "" means running
	AvailabilityZone string // "" means AvailabilityZone
	InstanceType     string // "" means t3.medium
	ImageID          string
	LaunchTime       time.Time // zero means when it was added
	Tags             map[string]string
	// VpcID is the instance's VPC ("" means VpcID) and SecurityGroups the
	// ids of the groups of its one network interface (empty means the
	// VPC's default group, as EC2 gives an instance launched without
	// any: EC2 API reference, CreateSecurityGroup). A seeded id the
	// stand-in does not know is created as a group of that VPC with no
	// rules. ModifyInstanceAttribute changes them (groups.go).
	VpcID          string
	SecurityGroups []string
	// SkipOsShutdown is how the TerminateInstances that ended the
	// instance asked (output only).
	SkipOsShutdown bool
	// TerminatedAt is when it reached terminated, zero before (output
	// only): EC2's own record of when a fence took effect.
	TerminatedAt time.Time
}

// Volume is an EBS volume as seeded into the stand-in. A volume attached to
// an instance the stand-in does not know stays attached for ever: that models
// an attachment that never clears.
type Volume struct {
	ID                  string
	AvailabilityZone    string // "" means AvailabilityZone
	SizeGiB             int32  // 0 means 100, Flocker's default dataset size in the 2015 demo
	VolumeType          string // "" means gp2
	State               string // "" means in-use when AttachedTo is set, else available
	AttachedTo          string // instance id, "" when not attached
	Device              string
	DeleteOnTermination bool
	CreateTime          time.Time // zero means when it was added
	Tags                map[string]string
	// AttachState is the attachment's state while AttachedTo is set:
	// attaching, attached, detaching or busy (output only).
	AttachState string
	// AttachTime is when the current attachment was made (output only;
	// the API's VolumeAttachment attachTime): a new attachment, even to
	// the same instance, is a new device.
	AttachTime time.Time
	// DetachedAt is when the last attachment ended, zero if none did
	// (output only).
	DetachedAt time.Time
}

// Request is one API call as the stand-in received it.
type Request struct {
	Action string
	Params url.Values
	// AccessKeyID and Region are read from the SigV4 credential scope of the
	// Authorization header (Credential=<key>/<date>/<region>/ec2/aws4_request),
	// "" when the request is unsigned: whose credentials the call was made
	// with, and for which region.
	AccessKeyID, Region string
	// At is when the stand-in received the call (its clock).
	At time.Time
}

// Option configures a Server.
type Option func(*Server)

// actions are the handlers of the actions other files of the package add
// (groups.go), by action name; set in init, read only after.
var actions = map[string]func(*Server, url.Values) (any, *apiError){}

// WithShutdownDelay sets how long a terminated instance stays shutting-down
// before it is terminated (default 0: terminated at the next request).
func WithShutdownDelay(d time.Duration) Option { return func(s *Server) { s.shutdownDelay = d } }

// WithDetachDelay sets how long a volume of a terminated instance stays
// in-use (attachment "detaching") before it is available (default 0).
func WithDetachDelay(d time.Duration) Option { return func(s *Server) { s.detachDelay = d } }

// WithOSShutdown sets how long a default TerminateInstances spends shutting
// the OS down before the instance stops (default 0): the instance is
// shutting-down for this long plus the shutdown delay. SkipOsShutdown=true
// skips it ("Terminate with skip OS shutdown: bypasses the graceful OS
// shutdown", EC2 User Guide, "Methods for terminating an instance").
func WithOSShutdown(d time.Duration) Option { return func(s *Server) { s.osShutdown = d } }

// WithAttachDelay sets how long an AttachVolume stays "attaching" before it
// is "attached" (default 0).
func WithAttachDelay(d time.Duration) Option { return func(s *Server) { s.attachDelay = d } }

// WithPageSize makes Describe* answers hold at most n items and a nextToken,
// as AWS does for large accounts (default 0: everything in one page).
func WithPageSize(n int) Option { return func(s *Server) { s.pageSize = n } }

// WithTerminateHook calls hook with the id of each instance that
// TerminateInstances moves to shutting-down, and whether the call skipped
// the OS shutdown, before the call is answered, so a test harness can stop
// what ran on it. The hook runs with the stand-in's lock held: it must not
// call the Server's methods.
func WithTerminateHook(hook func(instanceID string, skipOsShutdown bool)) Option {
	return func(s *Server) { s.onTerminate = hook }
}

// WithLatency delays the answers to action by d after the call took
// effect, as a slow API does: a test can tell when a call was sent from
// when it returned.
func WithLatency(action string, d time.Duration) Option {
	return func(s *Server) {
		if s.latency == nil {
			s.latency = map[string]time.Duration{}
		}
		s.latency[action] = d
	}
}

// WithClock replaces time.Now, so a test can step time by hand.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is a running EC2 stand-in. Its methods are safe for concurrent use.
type Server struct {
	// URL is the endpoint to give the SDK as BaseEndpoint.
	URL string

	srv           *httptest.Server
	now           func() time.Time
	shutdownDelay time.Duration
	osShutdown    time.Duration
	detachDelay   time.Duration
	attachDelay   time.Duration
	pageSize      int
	onTerminate   func(string, bool)
	onGroups      func(string, []string)
	latency       map[string]time.Duration // set before serving, read only

	mu        sync.Mutex
	instances []*instance
	volumes   []*volume
	requests  []Request
	faults    faultQueue
	reqSeq    int
	consoles  map[string]*console // console.go
	groups    []*secGroup         // groups.go
	vpcs      map[string]bool     // the VPCs that exist: VpcID and those seeded
	idSeq     int                 // the last generated resource id number
	imds      MetadataDefaults    // imds.go
}

type instance struct {
	Instance
	shutdownAt time.Time // when TerminateInstances was called
}

// stopsAt is when a shutting-down instance is terminated: after the OS
// shutdown (unless skipped) and the shutdown delay.
func (s *Server) stopsAt(it *instance) time.Time {
	d := s.shutdownDelay
	if !it.SkipOsShutdown {
		d += s.osShutdown
	}
	return it.shutdownAt.Add(d)
}

type volume struct {
	Volume
	attachState string
	detachAt    time.Time // zero until its instance terminates or a detach is asked for
	attachAt    time.Time // when an attaching volume is attached
}

type fault struct {
	remaining int // < 0: for ever
	status    int
	code, msg string
}

// faultQueue holds the faults injected per action, in the order given; a
// fault with remaining < 0 never runs out.
type faultQueue map[string][]fault

func (q faultQueue) add(action string, f fault) { q[action] = append(q[action], f) }

// take returns the fault the next call of action meets, if any, and uses
// it up once.
func (q faultQueue) take(action string) *fault {
	list := q[action]
	for len(list) > 0 && list[0].remaining == 0 {
		list = list[1:]
	}
	q[action] = list
	if len(list) == 0 {
		return nil
	}
	f := list[0]
	if list[0].remaining > 0 {
		list[0].remaining--
	}
	return &f
}

// NewServer starts a stand-in; Close stops it.
func NewServer(opts ...Option) *Server {
	s := &Server{now: time.Now, faults: faultQueue{}}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Client returns an aws-sdk-go-v2 EC2 client pointed at the stand-in, with
// static fake credentials and a retryer that retries without backoff, so
// injected throttling is retried at test speed. optFns may override anything.
func (s *Server) Client(optFns ...func(*ec2.Options)) *ec2.Client {
	cfg := clientConfig()
	base := func(o *ec2.Options) { o.BaseEndpoint = aws.String(s.URL) }
	return ec2.NewFromConfig(cfg, append([]func(*ec2.Options){base}, optFns...)...)
}

// clientConfig is the SDK configuration of the stand-ins' clients: fake
// static credentials (signed requests, as the stand-ins require) and a
// retryer that retries without backoff, so injected throttling is retried
// at test speed.
func clientConfig() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

// AddInstance seeds an instance, filling defaults.
func (s *Server) AddInstance(in Instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if in.State == "" {
		in.State = StateRunning
	}
	if in.AvailabilityZone == "" {
		in.AvailabilityZone = AvailabilityZone
	}
	if in.InstanceType == "" {
		in.InstanceType = "t3.medium"
	}
	if in.ImageID == "" {
		in.ImageID = "ami-0123456789abcdef0"
	}
	if in.LaunchTime.IsZero() {
		in.LaunchTime = now
	}
	in.Tags = maps.Clone(in.Tags)
	if in.VpcID == "" {
		in.VpcID = VpcID
	}
	in.SecurityGroups = s.seedGroups(in.VpcID, in.SecurityGroups)
	it := &instance{Instance: in}
	if in.State == StateShuttingDown {
		it.shutdownAt = now
	}
	s.instances = append(s.instances, it)
}

// SetLaunchTime sets an instance's launch time, as EC2 reports it in
// DescribeInstances (launchTime), for tests that place a boot in time.
func (s *Server) SetLaunchTime(id string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range s.instances {
		if it.ID == id {
			it.LaunchTime = t
		}
	}
}

// AddVolume seeds a volume, filling defaults.
func (s *Server) AddVolume(v Volume) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v.AvailabilityZone == "" {
		v.AvailabilityZone = AvailabilityZone
	}
	if v.SizeGiB == 0 {
		v.SizeGiB = 100
	}
	if v.VolumeType == "" {
		v.VolumeType = "gp2"
	}
	if v.State == "" {
		v.State = VolumeAvailable
		if v.AttachedTo != "" {
			v.State = VolumeInUse
		}
	}
	if v.AttachedTo != "" && v.Device == "" {
		v.Device = "/dev/xvdf"
	}
	if v.CreateTime.IsZero() {
		v.CreateTime = s.now()
	}
	v.Tags = maps.Clone(v.Tags)
	vol := &volume{Volume: v}
	if v.AttachedTo != "" {
		vol.attachState = "attached"
		vol.AttachTime = s.now()
	}
	s.volumes = append(s.volumes, vol)
}

// Instance returns the instance with the given id as the API would now
// describe it.
func (s *Server) Instance(id string) (Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if it := s.findInstance(id); it != nil {
		out := it.Instance
		out.Tags = maps.Clone(out.Tags)
		out.SecurityGroups = slices.Clone(out.SecurityGroups)
		return out, true
	}
	return Instance{}, false
}

// Volume returns the volume with the given id, if it still exists.
func (s *Server) Volume(id string) (Volume, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if v := s.findVolume(id); v != nil {
		out := v.Volume
		out.Tags = maps.Clone(out.Tags)
		out.AttachState = v.attachState
		return out, true
	}
	return Volume{}, false
}

// VolumeIDs returns the ids of the volumes that still exist, sorted.
func (s *Server) VolumeIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	var ids []string
	for _, v := range s.volumes {
		ids = append(ids, v.ID)
	}
	slices.Sort(ids)
	return ids
}

// Requests returns every call received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r
		out[i].Params = maps.Clone(r.Params)
	}
	return out
}

// Calls returns the calls of one action, in order.
func (s *Server) Calls(action string) []Request { return callsOf(s.Requests(), action) }

// callsOf are the requests of one action, in order: Calls of both the EC2
// and the ELB stand-in.
func callsOf(requests []Request, action string) []Request {
	var out []Request
	for _, r := range requests {
		if r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// Fail makes the next n calls of action fail with the given HTTP status and
// EC2 error code (n < 0: every call). Faults queue up in the order given.
// Codes the SDK retries (RequestLimitExceeded, 5xx statuses) are retried by
// Client's retryer before the caller sees them.
func (s *Server) Fail(action string, n, status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.add(action, fault{remaining: n, status: status, code: code, msg: message})
}

func (s *Server) takeFault(action string) *fault { return s.faults.take(action) }

// advance applies the state transitions that are due at the current time.
func (s *Server) advance() {
	now := s.now()
	for _, it := range s.instances {
		if it.State != StateShuttingDown || now.Before(s.stopsAt(it)) {
			continue
		}
		it.State = StateTerminated
		terminatedAt := s.stopsAt(it)
		it.TerminatedAt = terminatedAt
		kept := s.volumes[:0]
		for _, v := range s.volumes {
			if v.AttachedTo == it.ID && v.DeleteOnTermination {
				continue // deleted with its instance
			}
			if v.AttachedTo == it.ID && (v.detachAt.IsZero() || v.attachState == "busy") {
				// A busy detach (a plain DetachVolume while the OS still
				// held the volume) completes once the instance stops.
				v.detachAt = terminatedAt.Add(s.detachDelay)
				v.attachState = "detaching"
			}
			kept = append(kept, v)
		}
		s.volumes = kept
	}
	for _, v := range s.volumes {
		if v.AttachedTo == "" {
			continue
		}
		if v.attachState == "attaching" && !now.Before(v.attachAt) {
			v.attachState = "attached"
		}
		if it := s.findInstance(v.AttachedTo); it != nil && it.State == StateTerminated && v.detachAt.IsZero() {
			v.detachAt = now.Add(s.detachDelay) // seeded attached to an already terminated instance
			v.attachState = "detaching"
		}
		if !v.detachAt.IsZero() && !now.Before(v.detachAt) {
			v.DetachedAt = v.detachAt
			v.AttachedTo, v.Device, v.attachState, v.detachAt, v.AttachTime = "", "", "", time.Time{}, time.Time{}
			v.State = VolumeAvailable
		}
	}
}

func (s *Server) findInstance(id string) *instance {
	for _, it := range s.instances {
		if it.ID == id {
			return it
		}
	}
	return nil
}

func (s *Server) findVolume(id string) *volume {
	for _, v := range s.volumes {
		if v.ID == id {
			return v
		}
	}
	return nil
}

// apiError is an EC2 error answer.
type apiError struct {
	status        int
	code, message string
}

func badRequest(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// ServeHTTP answers one Query-API call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.writeError(w, badRequest("MalformedQueryString", "%v", err))
		return
	}
	action := r.Form.Get("Action")
	if d := s.latency[action]; d > 0 {
		defer time.Sleep(d) // runs after the unlock below: the answer leaves when the handler returns
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key, region := credentialScope(r.Header.Get("Authorization"))
	s.requests = append(s.requests, Request{Action: action, Params: maps.Clone(r.Form), AccessKeyID: key, Region: region, At: s.now()})
	s.reqSeq++

	// The SDK signs every request (SigV4); an unsigned one means the client
	// has no credentials, which AWS answers with AuthFailure.
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		s.writeError(w, &apiError{http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials"})
		return
	}
	if v := r.Form.Get("Version"); v != "2016-11-15" {
		s.writeError(w, badRequest("InvalidParameterValue", "unsupported API version %q", v))
		return
	}
	if err := checkParams(action, r.Form); err != nil {
		s.writeError(w, err)
		return
	}
	if f := s.takeFault(action); f != nil {
		s.writeError(w, &apiError{f.status, f.code, f.msg})
		return
	}
	s.advance()
	if r.Form.Get("DryRun") == "true" {
		s.writeError(w, &apiError{http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."})
		return
	}

	var (
		body any
		err  *apiError
	)
	switch action {
	case "DescribeInstances":
		body, err = s.describeInstances(r.Form)
	case "TerminateInstances":
		body, err = s.terminateInstances(r.Form)
	case "DescribeVolumes":
		body, err = s.describeVolumes(r.Form)
	case "DeleteVolume":
		body, err = s.deleteVolume(r.Form)
	case "GetConsoleOutput":
		body, err = s.getConsoleOutput(r.Form)
	default:
		if h, ok := actions[action]; ok {
			body, err = h(s, r.Form)
			break
		}
		err = badRequest("InvalidAction", "The action %s is not valid for this web service.", action)
	}
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeXML(w, http.StatusOK, body)
}

func (s *Server) requestID() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", s.reqSeq)
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	s.writeXML(w, e.status, errorResponse{Code: e.code, Message: e.message, RequestID: s.requestID()})
}

func (s *Server) writeXML(w http.ResponseWriter, status int, body any) {
	out, err := xml.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), out...))
}

// credentialScope returns the access key id and region of a SigV4
// Authorization header, or "" for each it lacks.
func credentialScope(auth string) (key, region string) {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return "", ""
	}
	return parts[0], parts[2]
}

// timestamp formats a time as EC2 does (ISO 8601, UTC, milliseconds).
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// page cuts items to the requested page and returns the next token.
func page[T any](items []T, form url.Values, size int) ([]T, string, *apiError) {
	start := 0
	if tok := form.Get("NextToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", badRequest("InvalidParameterValue", "Invalid value '%s' for NextToken", tok)
		}
		start = n
	}
	if mr, err := strconv.Atoi(form.Get("MaxResults")); err == nil && mr > 0 && (size == 0 || mr < size) {
		size = mr
	}
	if size <= 0 || start+size >= len(items) {
		return items[start:], "", nil
	}
	return items[start : start+size], strconv.Itoa(start + size), nil
}

// list reads a flattened Query-API list: Name.1, Name.2, ...
func list(form url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[name+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v...)
	}
}
