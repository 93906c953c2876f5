package mobycountertest

import (
	"encoding/xml"
	"time"

	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbsdk "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The ELB's API speaks the Elastic Load Balancing Query API, version
// 2012-06-01, as aws-sdk-go-v2 service/elasticloadbalancing v1.42.0 sends
// and reads it (request_snapshot/*.request.snap: form-encoded POST, lists
// as Name.member.N; response_snapshot: <ActionResponse><ActionResult>...,
// errors as <ErrorResponse><Error><Code>): DescribeLoadBalancers and
// DescribeInstanceHealth (Elastic Load Balancing API Reference). Any other
// action, or a parameter an action does not take, is refused.

// elbNamespace is the XML namespace of API version 2012-06-01.
const elbNamespace = "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/"

// APICall is one Elastic Load Balancing API call as the ELB received it.
type APICall struct {
	Action string
	Params url.Values
}

// APICalls returns the API calls received so far, in order.
func (e *ELB) APICalls() []APICall {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]APICall, len(e.requests))
	for i, r := range e.requests {
		out[i] = APICall{Action: r.Action, Params: maps.Clone(r.Params)}
	}
	return out
}

// elbParams are the parameters each action takes (API reference, "Request
// Parameters"), besides Action and Version.
var elbParams = map[string]*regexp.Regexp{
	"DescribeLoadBalancers":  regexp.MustCompile(`^(LoadBalancerNames\.member\.\d+|Marker|PageSize)$`),
	"DescribeInstanceHealth": regexp.MustCompile(`^(LoadBalancerName|Instances\.member\.\d+\.InstanceId)$`),
}

type elbError struct {
	status        int
	code, message string
}

func elbBadRequest(code, format string, a ...any) *elbError {
	return &elbError{http.StatusBadRequest, code, fmt.Sprintf(format, a...)}
}

func (e *ELB) serveAPI(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		e.writeAPIError(w, elbBadRequest("MalformedQueryString", "%v", err), "")
		return
	}
	action := r.Form.Get("Action")
	e.mu.Lock()
	e.requests = append(e.requests, APICall{Action: action, Params: maps.Clone(r.Form)})
	e.reqSeq++
	rid := fmt.Sprintf("00000000-0000-4000-8000-e1b%09d", e.reqSeq)
	e.mu.Unlock()
	// Every SDK request is signed (SigV4); AWS answers an unsigned one
	// with MissingAuthenticationToken (API reference, Common Errors).
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		e.writeAPIError(w, &elbError{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"}, rid)
		return
	}
	allowed, ok := elbParams[action]
	if !ok || r.Form.Get("Version") != "2012-06-01" {
		e.writeAPIError(w, elbBadRequest("InvalidAction", "Could not find operation %s for version %s", action, r.Form.Get("Version")), rid)
		return
	}
	keys := make([]string, 0, len(r.Form))
	for k := range r.Form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "Action" && k != "Version" && !allowed.MatchString(k) {
			e.writeAPIError(w, elbBadRequest("InvalidQueryParameter", "The parameter %s is not recognized by %s", k, action), rid)
			return
		}
	}
	var (
		body any
		err  *elbError
	)
	switch action {
	case "DescribeLoadBalancers":
		body, err = e.describeLoadBalancers(r.Form, rid)
	case "DescribeInstanceHealth":
		body, err = e.describeInstanceHealth(r.Form, rid)
	}
	if err != nil {
		e.writeAPIError(w, err, rid)
		return
	}
	e.writeAPIXML(w, http.StatusOK, body)
}

func memberList(form url.Values, prefix, suffix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[prefix+".member."+strconv.Itoa(i)+suffix]
		if !ok {
			return out
		}
		out = append(out, v...)
	}
}

func (e *ELB) notFound(name string) *elbError {
	return elbBadRequest("LoadBalancerNotFound", "There is no ACTIVE Load Balancer named '%s'", name)
}

func (e *ELB) describeLoadBalancers(form url.Values, rid string) (any, *elbError) {
	for _, n := range memberList(form, "LoadBalancerNames", "") {
		if n != e.Name {
			return nil, e.notFound(n)
		}
	}
	if ps := form.Get("PageSize"); ps != "" {
		if n, err := strconv.Atoi(ps); err != nil || n < 1 || n > 400 {
			return nil, elbBadRequest("ValidationError", "1 validation error detected: Value '%s' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400", ps)
		}
	}
	if m := form.Get("Marker"); m != "" {
		// One load balancer fits any page: no NextMarker was ever given.
		return nil, elbBadRequest("InvalidParameterValue", "Invalid Marker '%s'", m)
	}
	u, _ := url.Parse(e.URL)
	d := xmlLBDescription{LoadBalancerName: e.Name, DNSName: u.Hostname(), Scheme: "internet-facing"}
	e.mu.Lock()
	for _, m := range e.members {
		d.Instances = append(d.Instances, xmlInstanceID{InstanceID: m.id})
	}
	e.mu.Unlock()
	return describeLoadBalancersResponse{Xmlns: elbNamespace,
		Result: describeLoadBalancersResult{LoadBalancers: []xmlLBDescription{d}}, RequestID: rid}, nil
}

// Descriptions of InstanceState (API reference, InstanceState).
const (
	descNA            = "N/A"
	descRegistering   = "Instance registration is still in progress."
	descFailed        = "Instance has failed at least the UnhealthyThreshold number of health checks consecutively."
	descNotPassed     = "Instance has not passed the configured HealthyThreshold number of health checks consecutively."
	descNotMember     = "Instance is not currently registered with the LoadBalancer."
	descPending       = "Instance is in pending state."
	descStopped       = "Instance is in stopped state."
	descTerminated    = "Instance is in terminated state."
	stateInService    = "InService"
	stateOutOfService = "OutOfService"
)

func (e *ELB) describeInstanceHealth(form url.Values, rid string) (any, *elbError) {
	name := form.Get("LoadBalancerName")
	if name == "" {
		return nil, elbBadRequest("MissingParameter", "The request must contain the parameter LoadBalancerName")
	}
	if name != e.Name {
		return nil, e.notFound(name)
	}
	asked := memberList(form, "Instances", ".InstanceId")
	ec2 := map[string]string{}
	if e.ec2State != nil {
		e.mu.Lock()
		ids := append([]string(nil), asked...)
		for _, m := range e.members {
			ids = append(ids, m.id)
		}
		e.mu.Unlock()
		for _, id := range ids {
			st, ok := e.ec2State(id)
			if !ok {
				return nil, elbBadRequest("InvalidInstance", "Could not find EC2 instance %s.", id)
			}
			ec2[id] = st
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var states []xmlInstanceState
	describe := func(id string, m *member) xmlInstanceState {
		st := xmlInstanceState{InstanceID: id, State: stateOutOfService, ReasonCode: "Instance"}
		switch {
		case ec2[id] == "pending":
			st.Description = descPending
		case ec2[id] == "stopping" || ec2[id] == "stopped":
			st.Description = descStopped
		case ec2[id] == "terminated":
			st.Description = descTerminated
		case m == nil:
			st.ReasonCode, st.Description = descNA, descNotMember
		case m.inService:
			st.State, st.ReasonCode, st.Description = stateInService, descNA, descNA
		case e.checking && !m.checked:
			st.ReasonCode, st.Description = "ELB", descRegistering
		case m.failRun >= e.unhealthy:
			st.Description = descFailed
		default:
			st.Description = descNotPassed
		}
		return st
	}
	if len(asked) > 0 {
		for _, id := range asked {
			states = append(states, describe(id, e.find(id)))
		}
	} else {
		for _, m := range e.members {
			if ec2[m.id] == "terminated" {
				continue // "The state of terminated instances is not returned."
			}
			states = append(states, describe(m.id, m))
		}
	}
	return describeInstanceHealthResponse{Xmlns: elbNamespace,
		Result: describeInstanceHealthResult{States: states}, RequestID: rid}, nil
}

func (e *ELB) writeAPIError(w http.ResponseWriter, err *elbError, rid string) {
	e.writeAPIXML(w, err.status, elbErrorResponse{Xmlns: elbNamespace,
		Error: elbErrorBody{Type: "Sender", Code: err.code, Message: err.message}, RequestID: rid})
}

func (e *ELB) writeAPIXML(w http.ResponseWriter, status int, body any) {
	out, err := xml.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), out...))
}

type xmlInstanceID struct {
	InstanceID string `xml:"InstanceId"`
}

type xmlLBDescription struct {
	LoadBalancerName string          `xml:"LoadBalancerName"`
	DNSName          string          `xml:"DNSName"`
	Scheme           string          `xml:"Scheme"`
	Instances        []xmlInstanceID `xml:"Instances>member"`
}

type describeLoadBalancersResult struct {
	LoadBalancers []xmlLBDescription `xml:"LoadBalancerDescriptions>member"`
}

type describeLoadBalancersResponse struct {
	XMLName   xml.Name                    `xml:"DescribeLoadBalancersResponse"`
	Xmlns     string                      `xml:"xmlns,attr"`
	Result    describeLoadBalancersResult `xml:"DescribeLoadBalancersResult"`
	RequestID string                      `xml:"ResponseMetadata>RequestId"`
}

type xmlInstanceState struct {
	Description string `xml:"Description"`
	InstanceID  string `xml:"InstanceId"`
	ReasonCode  string `xml:"ReasonCode"`
	State       string `xml:"State"`
}

type describeInstanceHealthResult struct {
	States []xmlInstanceState `xml:"InstanceStates>member"`
}

type describeInstanceHealthResponse struct {
	XMLName   xml.Name                     `xml:"DescribeInstanceHealthResponse"`
	Xmlns     string                       `xml:"xmlns,attr"`
	Result    describeInstanceHealthResult `xml:"DescribeInstanceHealthResult"`
	RequestID string                       `xml:"ResponseMetadata>RequestId"`
}

type elbErrorBody struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

type elbErrorResponse struct {
	XMLName   xml.Name     `xml:"ErrorResponse"`
	Xmlns     string       `xml:"xmlns,attr"`
	Error     elbErrorBody `xml:"Error"`
	RequestID string       `xml:"RequestId"`
}

// APIClient returns an aws-sdk-go-v2 Elastic Load Balancing client pointed
// at the ELB's API, with static fake credentials and no retry backoff.
func (e *ELB) APIClient() *elbsdk.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	}
	return elbsdk.NewFromConfig(cfg, func(o *elbsdk.Options) { o.BaseEndpoint = aws.String(e.APIURL) })
}
