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
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
)

// AutoScaling is an in-process stand-in for the Amazon EC2 Auto Scaling
// Query API, version 2011-01-01, over groups whose instances live in an EC2
// stand-in (Server). It models the one call marathon-ha's tools make,
// DescribeAutoScalingGroups, and what a group does on its own: an instance
// that leaves the running state (terminated by a kill or the masters'
// fencer, stopped) fails the group's EC2 health check ("an instance in any
// state other than running is unhealthy", Amazon EC2 Auto Scaling User
// Guide, "Health checks for instances in an Auto Scaling group"), and after
// the group's ReplaceDelay the group launches a replacement, Pending until
// its LaunchDelay has passed, then InService. It speaks the awsquery
// protocol as aws-sdk-go-v2 service/autoscaling v1.82.0 sends and reads it
// (form-encoded POST; <ActionResponse><ActionResult>... answers; errors as
// <ErrorResponse><Error><Type><Code><Message>), and refuses an unsigned
// call, another API version, another action and a parameter
// DescribeAutoScalingGroups does not take (API reference,
// docs.aws.amazon.com/autoscaling/ec2/APIReference, "Common Errors" and
// DescribeAutoScalingGroups).
type AutoScaling struct {
	ec2 *Server
	srv *httptest.Server
	// URL is the endpoint to point a client at.
	URL string

	mu       sync.Mutex
	groups   []*asgGroup
	requests []Request
	seq      int // launched instances, for their ids and addresses
}

// Group is an Auto Scaling group as seeded into the stand-in.
type Group struct {
	Name string
	// Desired is its desired capacity, which marathon-ha also uses as its
	// minimum and maximum size (components/autoscaling.go).
	Desired int
	// Tags are propagated at launch to every instance the group launches.
	Tags          map[string]string
	LoadBalancers []string
	// Members are the ids of seeded EC2 instances that are InService.
	Members []string
	// ReplaceDelay is how long the group takes from an instance leaving
	// running to launching its replacement: the EC2 health check's
	// detection and the scaling activity. LaunchDelay is how long the
	// replacement is Pending (EC2 pending) before it is InService.
	ReplaceDelay, LaunchDelay time.Duration
	// OnLaunch is called, with no lock held, when a replacement turns
	// InService: the stand-in cluster registers it with Mesos and the ELB.
	OnLaunch func(Instance)
}

// GroupInstance is a member as DescribeAutoScalingGroups lists it.
type GroupInstance struct {
	ID, LifecycleState, HealthStatus string
}

type asgGroup struct {
	Group
	members []*asgMember
	created time.Time
}

type asgMember struct {
	id        string
	lifecycle string    // Pending, InService (API reference, Instance LifecycleState)
	launched  time.Time // for Pending
	lostAt    time.Time // when it was first seen out of running; zero while healthy
}

// NewAutoScaling starts the Auto Scaling stand-in over the EC2 stand-in ec2.
func NewAutoScaling(ec2 *Server) *AutoScaling {
	a := &AutoScaling{ec2: ec2}
	a.srv = httptest.NewServer(a)
	a.URL = a.srv.URL
	return a
}

// Close shuts the server down.
func (a *AutoScaling) Close() { a.srv.Close() }

// Client returns an aws-sdk-go-v2 Auto Scaling client pointed at the
// stand-in, with the EC2 stand-in's fake credentials and instant retries.
func (a *AutoScaling) Client(optFns ...func(*autoscaling.Options)) *autoscaling.Client {
	base := func(o *autoscaling.Options) { o.BaseEndpoint = aws.String(a.URL) }
	return autoscaling.NewFromConfig(clientConfig(), append([]func(*autoscaling.Options){base}, optFns...)...)
}

// AddGroup seeds a group whose Members are InService.
func (a *AutoScaling) AddGroup(g Group) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ag := &asgGroup{Group: g, created: a.ec2.now()}
	ag.Tags = maps.Clone(g.Tags)
	for _, id := range g.Members {
		ag.members = append(ag.members, &asgMember{id: id, lifecycle: lifecycleInService})
	}
	a.groups = append(a.groups, ag)
}

// Lifecycle states and health statuses (API reference, Instance).
const (
	lifecycleInService = "InService"
	lifecyclePending   = "Pending"
)

// Requests returns every call received, in order.
func (a *AutoScaling) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

// Instances lists a group's members as the API would now.
func (a *AutoScaling) Instances(name string) []GroupInstance {
	a.Advance()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, g := range a.groups {
		if g.Name == name {
			return a.instancesLocked(g)
		}
	}
	return nil
}

// Advance applies what the groups do by now: an unhealthy member is
// replaced once its ReplaceDelay has passed, a Pending one turns
// InService once its LaunchDelay has. OnLaunch hooks run after the locks
// are released. Every API call advances first; a stand-in cluster also
// calls it on its own clock.
func (a *AutoScaling) Advance() {
	var launched []func()
	a.mu.Lock()
	a.ec2.mu.Lock()
	a.ec2.advance()
	now := a.ec2.now()
	for _, g := range a.groups {
		kept := g.members[:0]
		for _, m := range g.members {
			it := a.ec2.findInstance(m.id)
			running := it != nil && (it.State == StateRunning || it.State == StatePending)
			if !running && m.lostAt.IsZero() {
				m.lostAt = now
				if it != nil && !it.shutdownAt.IsZero() {
					m.lostAt = it.shutdownAt // the group's health check sees it at once
				}
			}
			if !m.lostAt.IsZero() && !now.Before(m.lostAt.Add(g.ReplaceDelay)) {
				// Terminate the unhealthy instance (a stopped one too) and
				// launch its replacement.
				if it != nil && it.State != StateTerminated {
					it.State, it.TerminatedAt = StateTerminated, now
				}
				a.seq++
				id := fmt.Sprintf("i-0a5c%013x", a.seq)
				inst := &instance{Instance: Instance{ID: id, PrivateIP: fmt.Sprintf("10.42.3.%d", a.seq%250+1), State: StatePending,
					AvailabilityZone: AvailabilityZone, InstanceType: "m4.large", ImageID: "ami-0123456789abcdef0",
					LaunchTime: now, Tags: maps.Clone(g.Tags), VpcID: VpcID}}
				inst.SecurityGroups = a.ec2.seedGroups(VpcID, nil)
				a.ec2.instances = append(a.ec2.instances, inst)
				kept = append(kept, &asgMember{id: id, lifecycle: lifecyclePending, launched: now})
				continue
			}
			if m.lifecycle == lifecyclePending && !now.Before(m.launched.Add(g.LaunchDelay)) && it != nil {
				m.lifecycle, it.State = lifecycleInService, StateRunning
				if hook, in := g.OnLaunch, it.Instance; hook != nil {
					in.Tags = maps.Clone(in.Tags)
					launched = append(launched, func() { hook(in) })
				}
			}
			kept = append(kept, m)
		}
		g.members = kept
	}
	a.ec2.mu.Unlock()
	a.mu.Unlock()
	for _, f := range launched {
		f()
	}
}

func (a *AutoScaling) instancesLocked(g *asgGroup) []GroupInstance {
	var out []GroupInstance
	for _, m := range g.members {
		health := "Healthy"
		if !m.lostAt.IsZero() {
			health = "Unhealthy"
		}
		out = append(out, GroupInstance{ID: m.id, LifecycleState: m.lifecycle, HealthStatus: health})
	}
	return out
}

// asgParams are the parameters DescribeAutoScalingGroups takes, as the
// SDK sends them (awsquery lists: Name.member.N).
var asgParams = map[string][]*regexp.Regexp{
	"DescribeAutoScalingGroups": patterns(`AutoScalingGroupNames\.member\.\d+`, `Filters\.member\.\d+\.Name`,
		`Filters\.member\.\d+\.Values\.member\.\d+`, `MaxRecords`, `NextToken`, `IncludeInstances`, `IncludeManagedResources`),
}

const (
	asgAPIVersion = "2011-01-01"
	asgNamespace  = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
)

// ServeHTTP answers one Query-API call.
func (a *AutoScaling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.writeXML(w, http.StatusBadRequest, asgError(&apiError{http.StatusBadRequest, "MalformedQueryString", err.Error()}, ""))
		return
	}
	a.Advance()
	action := r.Form.Get("Action")
	a.mu.Lock()
	defer a.mu.Unlock()
	key, region := credentialScope(r.Header.Get("Authorization"))
	a.requests = append(a.requests, Request{Action: action, Params: maps.Clone(r.Form), AccessKeyID: key, Region: region, At: a.ec2.now()})
	rid := fmt.Sprintf("00000000-0000-4000-a000-%012d", len(a.requests))
	fail := func(e *apiError) { a.writeXML(w, e.status, asgError(e, rid)) }
	switch {
	case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "):
		fail(&apiError{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"})
		return
	case r.Form.Get("Version") != asgAPIVersion:
		fail(&apiError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("unsupported API version %q", r.Form.Get("Version"))})
		return
	}
	known, ok := asgParams[action]
	if !ok {
		fail(&apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service (or not modelled by the stand-in).", action)})
		return
	}
	for _, k := range slices.Sorted(maps.Keys(r.Form)) {
		if k != "Action" && k != "Version" && !slices.ContainsFunc(known, func(re *regexp.Regexp) bool { return re.MatchString(k) }) {
			fail(&apiError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("The parameter %s is not recognized by %s (or not modelled by the stand-in)", k, action)})
			return
		}
	}
	body, err := a.describeGroups(r.Form, rid)
	if err != nil {
		fail(err)
		return
	}
	a.writeXML(w, http.StatusOK, body)
}

// describeGroups answers DescribeAutoScalingGroups: the named groups, or
// all, narrowed by the tag filters (Filter: tag-key, tag-value,
// tag:<key>; any other name is a ValidationError), at most MaxRecords
// (1-100, default 50) a page.
func (a *AutoScaling) describeGroups(form url.Values, rid string) (any, *apiError) {
	names := queryList(form, "AutoScalingGroupNames")
	type filter struct {
		name   string
		values []string
	}
	var filters []filter
	for i := 1; form.Has(fmt.Sprintf("Filters.member.%d.Name", i)); i++ {
		f := filter{name: form.Get(fmt.Sprintf("Filters.member.%d.Name", i)), values: queryList(form, fmt.Sprintf("Filters.member.%d.Values", i))}
		if f.name != "tag-key" && f.name != "tag-value" && !strings.HasPrefix(f.name, "tag:") {
			return nil, &apiError{http.StatusBadRequest, "ValidationError", fmt.Sprintf("Filter name %q is not valid for DescribeAutoScalingGroups: use tag-key, tag-value or tag:<key>", f.name)}
		}
		filters = append(filters, f)
	}
	size := 50
	if v := form.Get("MaxRecords"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, &apiError{http.StatusBadRequest, "ValidationError", fmt.Sprintf("MaxRecords %q must be between 1 and 100", v)}
		}
		size = n
	}
	var out []asgDescription
	for _, g := range a.groups {
		if len(names) > 0 && !slices.Contains(names, g.Name) {
			continue
		}
		match := true
		for _, f := range filters {
			switch {
			case f.name == "tag-key":
				match = match && slices.ContainsFunc(f.values, func(k string) bool { _, ok := g.Tags[k]; return ok })
			case f.name == "tag-value":
				match = match && slices.ContainsFunc(slices.Collect(maps.Values(g.Tags)), func(v string) bool { return slices.Contains(f.values, v) })
			default:
				v, ok := g.Tags[strings.TrimPrefix(f.name, "tag:")]
				match = match && ok && slices.Contains(f.values, v)
			}
		}
		if match {
			out = append(out, a.describe(g))
		}
	}
	pageItems, next, err := page(out, url.Values{"MaxResults": {strconv.Itoa(size)}, "NextToken": form["NextToken"]}, size)
	if err != nil {
		return nil, err
	}
	return asgDescribeResponse{Xmlns: asgNamespace, Groups: pageItems, NextToken: next, RequestID: rid}, nil
}

func (a *AutoScaling) describe(g *asgGroup) asgDescription {
	d := asgDescription{Name: g.Name, Min: g.Desired, Max: g.Desired, Desired: g.Desired, HealthCheckType: "EC2",
		AvailabilityZones: []string{AvailabilityZone}, LoadBalancers: g.LoadBalancers, CreatedTime: timestamp(g.created)}
	for _, m := range a.instancesLocked(g) {
		d.Instances = append(d.Instances, asgInstance{ID: m.ID, AvailabilityZone: AvailabilityZone, LifecycleState: m.LifecycleState, HealthStatus: m.HealthStatus})
	}
	keys := slices.Sorted(maps.Keys(g.Tags))
	for _, k := range keys {
		d.Tags = append(d.Tags, asgTag{ResourceID: g.Name, ResourceType: "auto-scaling-group", Key: k, Value: g.Tags[k], PropagateAtLaunch: true})
	}
	return d
}

// queryList reads an awsquery list, Name.member.1, Name.member.2, ...
func queryList(form url.Values, name string) []string {
	var idx []int
	prefix := name + ".member."
	for k := range form {
		if n, err := strconv.Atoi(strings.TrimPrefix(k, prefix)); strings.HasPrefix(k, prefix) && err == nil {
			idx = append(idx, n)
		}
	}
	sort.Ints(idx)
	var out []string
	for _, n := range idx {
		out = append(out, form.Get(prefix+strconv.Itoa(n)))
	}
	return out
}

func asgError(e *apiError, rid string) elbErrorResponse {
	body := elbErrorBody(e, rid)
	body.Xmlns = asgNamespace
	return body
}

func (a *AutoScaling) writeXML(w http.ResponseWriter, status int, body any) {
	writeQueryXML(w, status, body)
}

type asgInstance struct {
	ID               string `xml:"InstanceId"`
	AvailabilityZone string `xml:"AvailabilityZone"`
	LifecycleState   string `xml:"LifecycleState"`
	HealthStatus     string `xml:"HealthStatus"`
	Protected        bool   `xml:"ProtectedFromScaleIn"`
}

type asgTag struct {
	ResourceID        string `xml:"ResourceId"`
	ResourceType      string `xml:"ResourceType"`
	Key               string `xml:"Key"`
	Value             string `xml:"Value"`
	PropagateAtLaunch bool   `xml:"PropagateAtLaunch"`
}

type asgDescription struct {
	Name              string        `xml:"AutoScalingGroupName"`
	Min               int           `xml:"MinSize"`
	Max               int           `xml:"MaxSize"`
	Desired           int           `xml:"DesiredCapacity"`
	AvailabilityZones []string      `xml:"AvailabilityZones>member"`
	LoadBalancers     []string      `xml:"LoadBalancerNames>member"`
	HealthCheckType   string        `xml:"HealthCheckType"`
	CreatedTime       string        `xml:"CreatedTime"`
	Instances         []asgInstance `xml:"Instances>member"`
	Tags              []asgTag      `xml:"Tags>member"`
}

type asgDescribeResponse struct {
	XMLName   xml.Name         `xml:"DescribeAutoScalingGroupsResponse"`
	Xmlns     string           `xml:"xmlns,attr"`
	Groups    []asgDescription `xml:"DescribeAutoScalingGroupsResult>AutoScalingGroups>member"`
	NextToken string           `xml:"DescribeAutoScalingGroupsResult>NextToken,omitempty"`
	RequestID string           `xml:"ResponseMetadata>RequestId"`
}
