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

// ELBServer is an in-process stand-in for the classic Elastic Load
// Balancing Query API, version 2012-06-01, limited to the three actions a
// sweep calls: DescribeLoadBalancers, DescribeTags and DeleteLoadBalancer.
// It speaks the awsquery wire protocol the SDK sends and reads
// (form-encoded POST; <ActionResponse><ActionResult>... answers; errors as
// <ErrorResponse><Error><Type><Code><Message>), as aws-sdk-go-v2
// service/elasticloadbalancing v1.42.0's request_snapshot and
// response_snapshot files show. Each rule below cites the ELB API
// reference (docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference).
type ELBServer struct {
	// URL is the endpoint to give the SDK as BaseEndpoint.
	URL string

	srv *httptest.Server
	now func() time.Time

	mu       sync.Mutex
	lbs      []LoadBalancer
	requests []Request
	faults   faultQueue
	reqSeq   int
}

// LoadBalancer is a classic load balancer as seeded into the stand-in.
type LoadBalancer struct {
	Name        string
	DNSName     string // "" means <name>-1234567890.us-east-1.elb.amazonaws.com
	Instances   []string
	CreatedTime time.Time // zero means when it was added
	Tags        map[string]string
}

// elbNamespace is the XML namespace of the 2012-06-01 API.
const elbNamespace = "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/"

// elbParams are the request parameters of each action (ELB API reference,
// the action's "Request Parameters"; Action and Version are common to all).
// A parameter not listed is refused: the SDK never sends one the API does
// not define, so it would mean the stand-in no longer matches the client.
var elbParams = map[string][]*regexp.Regexp{
	"DescribeLoadBalancers": patterns(`LoadBalancerNames\.member\.\d+`, `Marker`, `PageSize`),
	"DescribeTags":          patterns(`LoadBalancerNames\.member\.\d+`),
	"DeleteLoadBalancer":    patterns(`LoadBalancerName`),
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
	s := &ELBServer{now: time.Now, faults: faultQueue{}}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down.
func (s *ELBServer) Close() { s.srv.Close() }

// Client returns an aws-sdk-go-v2 ELB client pointed at the stand-in, with
// the same fake credentials and instant retries as Server.Client.
func (s *ELBServer) Client(optFns ...func(*elb.Options)) *elb.Client {
	cfg := clientConfig()
	base := func(o *elb.Options) { o.BaseEndpoint = aws.String(s.URL) }
	return elb.NewFromConfig(cfg, append([]func(*elb.Options){base}, optFns...)...)
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

// Calls returns the calls of one action, in order.
func (s *ELBServer) Calls(action string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if r.Action == action {
			r.Params = maps.Clone(r.Params)
			out = append(out, r)
		}
	}
	return out
}

// Fail makes the next n calls of action fail with the given HTTP status
// and error code (n < 0: every call), as Server.Fail.
func (s *ELBServer) Fail(action string, n, status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.add(action, fault{remaining: n, status: status, code: code, msg: message})
}

func (s *ELBServer) takeFault(action string) *fault { return s.faults.take(action) }

func (s *ELBServer) find(name string) int {
	return slices.IndexFunc(s.lbs, func(lb LoadBalancer) bool { return lb.Name == name })
}

// ServeHTTP answers one Query-API call.
func (s *ELBServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.writeError(w, &apiError{http.StatusBadRequest, "MalformedQueryString", err.Error()})
		return
	}
	action := r.Form.Get("Action")
	s.mu.Lock()
	defer s.mu.Unlock()
	key, region := credentialScope(r.Header.Get("Authorization"))
	s.requests = append(s.requests, Request{Action: action, Params: maps.Clone(r.Form), AccessKeyID: key, Region: region})
	s.reqSeq++

	// Every call is SigV4-signed by the SDK; AWS refuses an unsigned one
	// (Common Errors: MissingAuthenticationToken, HTTP 403).
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		s.writeError(w, &apiError{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"})
		return
	}
	if v := r.Form.Get("Version"); v != elbAPIVersion {
		s.writeError(w, &apiError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("unsupported API version %q", v)})
		return
	}
	known, ok := elbParams[action]
	if !ok {
		s.writeError(w, &apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service (or not modelled by the stand-in).", action)})
		return
	}
	for _, k := range slices.Sorted(maps.Keys(r.Form)) {
		if k != "Action" && k != "Version" && !slices.ContainsFunc(known, func(re *regexp.Regexp) bool { return re.MatchString(k) }) {
			// Common Errors: InvalidParameterValue, "an invalid or
			// out-of-range value was supplied for the input parameter".
			s.writeError(w, &apiError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("The parameter %s is not recognized by %s (or not modelled by the stand-in)", k, action)})
			return
		}
	}
	if f := s.takeFault(action); f != nil {
		s.writeError(w, &apiError{f.status, f.code, f.msg})
		return
	}
	var (
		body any
		err  *apiError
	)
	switch action {
	case "DescribeLoadBalancers":
		body, err = s.describeLoadBalancers(r.Form)
	case "DescribeTags":
		body, err = s.describeTags(r.Form)
	case "DeleteLoadBalancer":
		body, err = s.deleteLoadBalancer(r.Form)
	}
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeXML(w, http.StatusOK, body)
}

// describeLoadBalancers: all load balancers, or the named ones (one
// unknown name fails the call with LoadBalancerNotFound), PageSize 1 to
// 400 at a time with NextMarker.
func (s *ELBServer) describeLoadBalancers(form url.Values) (any, *apiError) {
	names := list(form, "LoadBalancerNames.member")
	var found []LoadBalancer
	for _, n := range names {
		i := s.find(n)
		if i < 0 {
			return nil, &apiError{http.StatusBadRequest, elbErrNotFound, fmt.Sprintf("There is no ACTIVE Load Balancer named '%s'", n)}
		}
		found = append(found, s.lbs[i])
	}
	if len(names) == 0 {
		found = slices.Clone(s.lbs)
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
	resp := elbDescribeLoadBalancersResponse{Xmlns: elbNamespace, NextMarker: next, RequestID: s.requestID()}
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
func (s *ELBServer) describeTags(form url.Values) (any, *apiError) {
	names := list(form, "LoadBalancerNames.member")
	if len(names) < 1 || len(names) > elbMaxTagNames {
		return nil, &apiError{http.StatusBadRequest, elbErrValidation, fmt.Sprintf("LoadBalancerNames has %d items: must have 1 to %d", len(names), elbMaxTagNames)}
	}
	resp := elbDescribeTagsResponse{Xmlns: elbNamespace, RequestID: s.requestID()}
	for _, n := range names {
		i := s.find(n)
		if i < 0 {
			return nil, &apiError{http.StatusBadRequest, elbErrNotFound, fmt.Sprintf("There is no ACTIVE Load Balancer named '%s'", n)}
		}
		d := elbTagDescription{Name: n}
		for _, k := range slices.Sorted(maps.Keys(s.lbs[i].Tags)) {
			d.Tags = append(d.Tags, elbTag{Key: k, Value: s.lbs[i].Tags[k]})
		}
		resp.Descriptions = append(resp.Descriptions, d)
	}
	return resp, nil
}

// deleteLoadBalancer: "If the load balancer does not exist or has already
// been deleted, the call to DeleteLoadBalancer still succeeds."
func (s *ELBServer) deleteLoadBalancer(form url.Values) (any, *apiError) {
	name := form.Get("LoadBalancerName")
	if name == "" {
		return nil, &apiError{http.StatusBadRequest, "MissingParameter", "The request must contain the parameter LoadBalancerName"}
	}
	if i := s.find(name); i >= 0 {
		s.lbs = slices.Delete(s.lbs, i, i+1)
	}
	return elbDeleteLoadBalancerResponse{Xmlns: elbNamespace, RequestID: s.requestID()}, nil
}

func (s *ELBServer) requestID() string { return fmt.Sprintf("00000000-0000-4000-9000-%012d", s.reqSeq) }

func (s *ELBServer) writeError(w http.ResponseWriter, e *apiError) {
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	s.writeXML(w, e.status, elbErrorResponse{Xmlns: elbNamespace, Type: typ, Code: e.code, Message: e.message, RequestID: s.requestID()})
}

func (s *ELBServer) writeXML(w http.ResponseWriter, status int, body any) {
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
