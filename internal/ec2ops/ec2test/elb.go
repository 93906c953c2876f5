package ec2test

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
)

// ELBAPI is an in-process stand-in for the classic Elastic Load Balancing
// Query API, version 2012-06-01, over the load balancers of a backend: this
// package's ELBServer (static ones, for the sweep) or mobycountertest's live
// ELB (members and health checks, for the failover). It speaks the
// awsquery wire protocol the SDK sends and reads (form-encoded POST;
// <ActionResponse><ActionResult>... answers; errors as
// <ErrorResponse><Error><Type><Code><Message>), as aws-sdk-go-v2
// service/elasticloadbalancing v1.42.0's request_snapshot and
// response_snapshot files show, and refuses what every action refuses: an
// unsigned call, another API version, an action the backend does not
// model, a parameter the action does not take. Each rule below cites the
// ELB API reference (docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference).
type ELBAPI struct {
	backend ELBBackend

	mu       sync.Mutex
	requests []Request
	faults   faultQueue
	reqSeq   int
}

// ELBBackend is the state an ELBAPI answers from.
type ELBBackend interface {
	// ELBActions are the actions it models, of DescribeLoadBalancers,
	// DescribeTags, DescribeInstanceHealth and DeleteLoadBalancer; any
	// other is refused as AWS refuses an unknown action.
	ELBActions() []string
	// LoadBalancers are the load balancers that exist now, oldest first.
	LoadBalancers() []LoadBalancer
	// InstanceHealth answers DescribeInstanceHealth for the existing load
	// balancer name: the asked instances, or every member when none.
	InstanceHealth(name string, asked []string) ([]InstanceHealth, *ELBError)
	// DeleteLoadBalancer deletes the named one if it exists.
	DeleteLoadBalancer(name string)
}

// InstanceHealth is one member of DescribeInstanceHealth's InstanceStates
// (API reference, InstanceState).
type InstanceHealth struct{ InstanceID, State, ReasonCode, Description string }

// ELBError is an error answer of the API: HTTP status, code and message.
type ELBError struct {
	Status        int
	Code, Message string
}

// NewELBAPI returns the API of backend, an http.Handler.
func NewELBAPI(backend ELBBackend) *ELBAPI {
	return &ELBAPI{backend: backend, faults: faultQueue{}}
}

// ELBClient returns an aws-sdk-go-v2 ELB client pointed at an ELB API
// stand-in's endpoint, with the same fake credentials and instant retries
// as Server.Client.
func ELBClient(endpoint string, optFns ...func(*elb.Options)) *elb.Client {
	base := func(o *elb.Options) { o.BaseEndpoint = aws.String(endpoint) }
	return elb.NewFromConfig(clientConfig(), append([]func(*elb.Options){base}, optFns...)...)
}

// Requests returns every call received, in order.
func (a *ELBAPI) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Request, len(a.requests))
	for i, r := range a.requests {
		r.Params = maps.Clone(r.Params)
		out[i] = r
	}
	return out
}

// Calls returns the calls of one action, in order.
func (a *ELBAPI) Calls(action string) []Request { return callsOf(a.Requests(), action) }

// Fail makes the next n calls of action fail with the given HTTP status
// and error code (n < 0: every call), as Server.Fail.
func (a *ELBAPI) Fail(action string, n, status int, code, message string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults.add(action, fault{remaining: n, status: status, code: code, msg: message})
}

// ELBServer is an ELBAPI over static load balancers, seeded by the test,
// with the three actions a sweep calls: DescribeLoadBalancers,
// DescribeTags and DeleteLoadBalancer.
type ELBServer struct {
	*ELBAPI
	// URL is the endpoint to give the SDK as BaseEndpoint.
	URL string

	srv *httptest.Server
	now func() time.Time

	mu  sync.Mutex
	lbs []LoadBalancer
}

// LoadBalancer is a classic load balancer as a backend holds it.
type LoadBalancer struct {
	Name        string
	DNSName     string // "" means <name>-1234567890.us-east-1.elb.amazonaws.com (AddLoadBalancer)
	Instances   []string
	CreatedTime time.Time // zero means when it was added (AddLoadBalancer)
	Tags        map[string]string
}

// elbNamespace is the XML namespace of the 2012-06-01 API.
const elbNamespace = "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/"

// elbParams are the request parameters of each action (ELB API reference,
// the action's "Request Parameters"; Action and Version are common to all).
// A parameter not listed is refused: the SDK never sends one the API does
// not define, so it would mean the stand-in no longer matches the client.
var elbParams = map[string][]*regexp.Regexp{
	"DescribeLoadBalancers":  patterns(`LoadBalancerNames\.member\.\d+`, `Marker`, `PageSize`),
	"DescribeTags":           patterns(`LoadBalancerNames\.member\.\d+`),
	"DescribeInstanceHealth": patterns(`LoadBalancerName`, `Instances\.member\.\d+\.InstanceId`),
	"DeleteLoadBalancer":     patterns(`LoadBalancerName`),
}

// Limits of the API reference.
const (
	elbMaxPageSize   = 400 // DescribeLoadBalancers PageSize: 1 to 400, default 400
	elbMaxTagNames   = 20  // DescribeTags LoadBalancerNames: 1 to 20 items
	elbAPIVersion    = "2012-06-01"
	elbErrNotFound   = "LoadBalancerNotFound" // AccessPointNotFound, HTTP 400
	elbErrValidation = "ValidationError"      // Common Errors: input fails a constraint, HTTP 400
)

// NewELBServer starts a stand-in; Close stops it.
func NewELBServer() *ELBServer {
	s := &ELBServer{now: time.Now}
	s.ELBAPI = NewELBAPI(s)
	s.srv = httptest.NewServer(s.ELBAPI)
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down.
func (s *ELBServer) Close() { s.srv.Close() }

// Client returns an aws-sdk-go-v2 ELB client pointed at the stand-in
// (ELBClient).
func (s *ELBServer) Client(optFns ...func(*elb.Options)) *elb.Client {
	return ELBClient(s.URL, optFns...)
}

// ELBActions are the calls a sweep makes; DescribeInstanceHealth is not
// modelled here (mobycountertest's ELB has the health).
func (s *ELBServer) ELBActions() []string {
	return []string{"DescribeLoadBalancers", "DescribeTags", "DeleteLoadBalancer"}
}

// LoadBalancers are the seeded load balancers not deleted.
func (s *ELBServer) LoadBalancers() []LoadBalancer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LoadBalancer, len(s.lbs))
	for i, lb := range s.lbs {
		lb.Tags, lb.Instances = maps.Clone(lb.Tags), slices.Clone(lb.Instances)
		out[i] = lb
	}
	return out
}

// InstanceHealth is not modelled (ELBActions leaves the action out).
func (s *ELBServer) InstanceHealth(string, []string) ([]InstanceHealth, *ELBError) { return nil, nil }

// DeleteLoadBalancer deletes a seeded load balancer.
func (s *ELBServer) DeleteLoadBalancer(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.IndexFunc(s.lbs, func(lb LoadBalancer) bool { return lb.Name == name }); i >= 0 {
		s.lbs = slices.Delete(s.lbs, i, i+1)
	}
}

// AddLoadBalancer seeds a load balancer.
func (s *ELBServer) AddLoadBalancer(lb LoadBalancer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lb.DNSName == "" {
		lb.DNSName = lb.Name + "-1234567890." + Region + ".elb.amazonaws.com"
	}
	if lb.CreatedTime.IsZero() {
		lb.CreatedTime = s.now()
	}
	lb.Tags = maps.Clone(lb.Tags)
	lb.Instances = slices.Clone(lb.Instances)
	s.lbs = append(s.lbs, lb)
}

// Names returns the names of the load balancers that exist, sorted.
func (s *ELBServer) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, lb := range s.lbs {
		out = append(out, lb.Name)
	}
	sort.Strings(out)
	return out
}

// ServeHTTP answers one Query-API call.
func (s *ELBAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.writeXML(w, http.StatusBadRequest, elbErrorBody(&apiError{http.StatusBadRequest, "MalformedQueryString", err.Error()}, ""))
		return
	}
	action := r.Form.Get("Action")
	s.mu.Lock()
	key, region := credentialScope(r.Header.Get("Authorization"))
	s.requests = append(s.requests, Request{Action: action, Params: maps.Clone(r.Form), AccessKeyID: key, Region: region})
	s.reqSeq++
	rid := s.requestIDLocked()
	f := s.faults.take(action)
	s.mu.Unlock()
	s.serve(w, r, action, rid, f)
}

// serve answers a call recorded as request rid, with the fault it met.
func (s *ELBAPI) serve(w http.ResponseWriter, r *http.Request, action, rid string, f *fault) {
	fail := func(e *apiError) { s.writeXML(w, e.status, elbErrorBody(e, rid)) }
	// Every call is SigV4-signed by the SDK; AWS refuses an unsigned one
	// (Common Errors: MissingAuthenticationToken, HTTP 403).
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		fail(&apiError{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"})
		return
	}
	if v := r.Form.Get("Version"); v != elbAPIVersion {
		fail(&apiError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("unsupported API version %q", v)})
		return
	}
	known, ok := elbParams[action]
	if !ok || !slices.Contains(s.backend.ELBActions(), action) {
		// Common Errors: InvalidAction, "The action or operation requested
		// is invalid".
		fail(&apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service (or not modelled by the stand-in).", action)})
		return
	}
	for _, k := range slices.Sorted(maps.Keys(r.Form)) {
		if k != "Action" && k != "Version" && !slices.ContainsFunc(known, func(re *regexp.Regexp) bool { return re.MatchString(k) }) {
			// Common Errors: InvalidParameterValue, "an invalid or
			// out-of-range value was supplied for the input parameter".
			fail(&apiError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("The parameter %s is not recognized by %s (or not modelled by the stand-in)", k, action)})
			return
		}
	}
	if f != nil {
		fail(&apiError{f.status, f.code, f.msg})
		return
	}
	var (
		body any
		err  *apiError
	)
	switch action {
	case "DescribeLoadBalancers":
		body, err = s.describeLoadBalancers(r.Form, rid)
	case "DescribeTags":
		body, err = s.describeTags(r.Form, rid)
	case "DescribeInstanceHealth":
		body, err = s.describeInstanceHealth(r.Form, rid)
	case "DeleteLoadBalancer":
		body, err = s.deleteLoadBalancer(r.Form, rid)
	}
	if err != nil {
		fail(err)
		return
	}
	s.writeXML(w, http.StatusOK, body)
}

// find returns the named load balancer, or LoadBalancerNotFound.
func (s *ELBAPI) find(name string) (LoadBalancer, *apiError) {
	for _, lb := range s.backend.LoadBalancers() {
		if lb.Name == name {
			return lb, nil
		}
	}
	return LoadBalancer{}, &apiError{http.StatusBadRequest, elbErrNotFound, fmt.Sprintf("There is no ACTIVE Load Balancer named '%s'", name)}
}

// describeLoadBalancers: all load balancers, or the named ones (one
// unknown name fails the call with LoadBalancerNotFound), PageSize 1 to
// 400 at a time with NextMarker.
func (s *ELBAPI) describeLoadBalancers(form url.Values, rid string) (any, *apiError) {
	names := list(form, "LoadBalancerNames.member")
	var found []LoadBalancer
	for _, n := range names {
		lb, err := s.find(n)
		if err != nil {
			return nil, err
		}
		found = append(found, lb)
	}
	if len(names) == 0 {
		found = s.backend.LoadBalancers()
	}
	size := elbMaxPageSize
	if ps := form.Get("PageSize"); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > elbMaxPageSize {
			return nil, &apiError{http.StatusBadRequest, elbErrValidation, fmt.Sprintf("PageSize %q: must be 1 to %d", ps, elbMaxPageSize)}
		}
		size = n
	}
	start := 0
	if m := form.Get("Marker"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > len(found) {
			return nil, &apiError{http.StatusBadRequest, "InvalidNextToken", "Invalid Marker " + m}
		}
		start = n
	}
	end, next := min(start+size, len(found)), ""
	if end < len(found) {
		next = strconv.Itoa(end)
	}
	resp := elbDescribeLoadBalancersResponse{Xmlns: elbNamespace, NextMarker: next, RequestID: rid}
	for _, lb := range found[start:end] {
		d := elbDescription{Name: lb.Name, DNSName: lb.DNSName, CreatedTime: lb.CreatedTime.UTC().Format(time.RFC3339), Scheme: "internet-facing"}
		for _, id := range lb.Instances {
			d.Instances = append(d.Instances, elbInstance{ID: id})
		}
		resp.Descriptions = append(resp.Descriptions, d)
	}
	return resp, nil
}

// describeTags: 1 to 20 names, each must exist.
func (s *ELBAPI) describeTags(form url.Values, rid string) (any, *apiError) {
	names := list(form, "LoadBalancerNames.member")
	if len(names) < 1 || len(names) > elbMaxTagNames {
		return nil, &apiError{http.StatusBadRequest, elbErrValidation, fmt.Sprintf("LoadBalancerNames has %d items: must have 1 to %d", len(names), elbMaxTagNames)}
	}
	resp := elbDescribeTagsResponse{Xmlns: elbNamespace, RequestID: rid}
	for _, n := range names {
		lb, err := s.find(n)
		if err != nil {
			return nil, err
		}
		d := elbTagDescription{Name: n}
		for _, k := range slices.Sorted(maps.Keys(lb.Tags)) {
			d.Tags = append(d.Tags, elbTag{Key: k, Value: lb.Tags[k]})
		}
		resp.Descriptions = append(resp.Descriptions, d)
	}
	return resp, nil
}

// describeInstanceHealth: LoadBalancerName is required and must exist;
// the backend says each instance's state.
func (s *ELBAPI) describeInstanceHealth(form url.Values, rid string) (any, *apiError) {
	name := form.Get("LoadBalancerName")
	if name == "" {
		return nil, &apiError{http.StatusBadRequest, "MissingParameter", "The request must contain the parameter LoadBalancerName"}
	}
	if _, err := s.find(name); err != nil {
		return nil, err
	}
	var asked []string
	for i := 1; form.Has("Instances.member." + strconv.Itoa(i) + ".InstanceId"); i++ {
		asked = append(asked, form.Get("Instances.member."+strconv.Itoa(i)+".InstanceId"))
	}
	states, e := s.backend.InstanceHealth(name, asked)
	if e != nil {
		return nil, &apiError{e.Status, e.Code, e.Message}
	}
	resp := elbDescribeInstanceHealthResponse{Xmlns: elbNamespace, RequestID: rid}
	for _, st := range states {
		resp.States = append(resp.States, elbInstanceState{Description: st.Description, InstanceID: st.InstanceID, ReasonCode: st.ReasonCode, State: st.State})
	}
	return resp, nil
}

// deleteLoadBalancer: "If the load balancer does not exist or has already
// been deleted, the call to DeleteLoadBalancer still succeeds."
func (s *ELBAPI) deleteLoadBalancer(form url.Values, rid string) (any, *apiError) {
	name := form.Get("LoadBalancerName")
	if name == "" {
		return nil, &apiError{http.StatusBadRequest, "MissingParameter", "The request must contain the parameter LoadBalancerName"}
	}
	s.backend.DeleteLoadBalancer(name)
	return elbDeleteLoadBalancerResponse{Xmlns: elbNamespace, RequestID: rid}, nil
}

func (s *ELBAPI) requestIDLocked() string {
	return fmt.Sprintf("00000000-0000-4000-9000-%012d", s.reqSeq)
}

// elbErrorBody is an error answer; Type is Receiver for a 5xx.
func elbErrorBody(e *apiError, rid string) elbErrorResponse {
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	return elbErrorResponse{Xmlns: elbNamespace, Type: typ, Code: e.code, Message: e.message, RequestID: rid}
}

func (s *ELBAPI) writeXML(w http.ResponseWriter, status int, body any) {
	writeQueryXML(w, status, body)
}

// writeQueryXML writes an awsquery answer (ELB, Auto Scaling).
func writeQueryXML(w http.ResponseWriter, status int, body any) {
	out, err := xml.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), out...))
}

type elbInstance struct {
	ID string `xml:"InstanceId"`
}

type elbDescription struct {
	Name        string        `xml:"LoadBalancerName"`
	DNSName     string        `xml:"DNSName"`
	CreatedTime string        `xml:"CreatedTime"`
	Scheme      string        `xml:"Scheme"`
	Instances   []elbInstance `xml:"Instances>member"`
}

type elbDescribeLoadBalancersResponse struct {
	XMLName      xml.Name         `xml:"DescribeLoadBalancersResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	Descriptions []elbDescription `xml:"DescribeLoadBalancersResult>LoadBalancerDescriptions>member"`
	NextMarker   string           `xml:"DescribeLoadBalancersResult>NextMarker,omitempty"`
	RequestID    string           `xml:"ResponseMetadata>RequestId"`
}

type elbTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type elbTagDescription struct {
	Name string   `xml:"LoadBalancerName"`
	Tags []elbTag `xml:"Tags>member"`
}

type elbDescribeTagsResponse struct {
	XMLName      xml.Name            `xml:"DescribeTagsResponse"`
	Xmlns        string              `xml:"xmlns,attr"`
	Descriptions []elbTagDescription `xml:"DescribeTagsResult>TagDescriptions>member"`
	RequestID    string              `xml:"ResponseMetadata>RequestId"`
}

type elbInstanceState struct {
	Description string `xml:"Description"`
	InstanceID  string `xml:"InstanceId"`
	ReasonCode  string `xml:"ReasonCode"`
	State       string `xml:"State"`
}

type elbDescribeInstanceHealthResponse struct {
	XMLName   xml.Name           `xml:"DescribeInstanceHealthResponse"`
	Xmlns     string             `xml:"xmlns,attr"`
	States    []elbInstanceState `xml:"DescribeInstanceHealthResult>InstanceStates>member"`
	RequestID string             `xml:"ResponseMetadata>RequestId"`
}

type elbDeleteLoadBalancerResponse struct {
	XMLName   xml.Name `xml:"DeleteLoadBalancerResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Result    struct{} `xml:"DeleteLoadBalancerResult"`
	RequestID string   `xml:"ResponseMetadata>RequestId"`
}

type elbErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}
