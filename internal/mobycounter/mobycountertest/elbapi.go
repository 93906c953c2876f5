package mobycountertest

import (
	"net/http"
	"net/url"

	elbsdk "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
)

// The ELB's API (APIURL) is ec2test's stand-in of the Elastic Load
// Balancing Query API, with this ELB as its backend: it answers
// DescribeLoadBalancers and DescribeInstanceHealth from the live members
// and their health checks, and refuses what the API refuses (ec2test
// ELBAPI).

// APICall is one Elastic Load Balancing API call as the ELB received it.
type APICall struct {
	Action string
	Params url.Values
}

// APICalls returns the API calls received so far, in order.
func (e *ELB) APICalls() []APICall {
	reqs := e.apiState.Requests()
	out := make([]APICall, len(reqs))
	for i, r := range reqs {
		out[i] = APICall{Action: r.Action, Params: r.Params}
	}
	return out
}

// APIClient returns an aws-sdk-go-v2 Elastic Load Balancing client pointed
// at the ELB's API, with static fake credentials and no retry backoff.
func (e *ELB) APIClient() *elbsdk.Client { return ec2test.ELBClient(e.APIURL) }

// ELBActions are what the failover tools call (ec2test.ELBBackend).
func (e *ELB) ELBActions() []string {
	return []string{"DescribeLoadBalancers", "DescribeInstanceHealth"}
}

// LoadBalancers is the one load balancer, with its members now
// (ec2test.ELBBackend); its DNS name is URL's host.
func (e *ELB) LoadBalancers() []ec2test.LoadBalancer {
	u, _ := url.Parse(e.URL)
	lb := ec2test.LoadBalancer{Name: e.Name, DNSName: u.Hostname(), CreatedTime: e.created}
	e.mu.Lock()
	for _, m := range e.members {
		lb.Instances = append(lb.Instances, m.id)
	}
	e.mu.Unlock()
	return []ec2test.LoadBalancer{lb}
}

// DeleteLoadBalancer is not modelled (ELBActions leaves it out).
func (e *ELB) DeleteLoadBalancer(string) {}

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

// InstanceHealth answers DescribeInstanceHealth from the members' health
// checks and, with WithEC2State, the instances' EC2 states
// (ec2test.ELBBackend): an unknown instance is InvalidInstance, and
// without instances asked a terminated member is left out ("The state of
// terminated instances is not returned", API reference).
func (e *ELB) InstanceHealth(_ string, asked []string) ([]ec2test.InstanceHealth, *ec2test.ELBError) {
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
				return nil, &ec2test.ELBError{Status: http.StatusBadRequest, Code: "InvalidInstance", Message: "Could not find EC2 instance " + id + "."}
			}
			ec2[id] = st
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	describe := func(id string, m *member) ec2test.InstanceHealth {
		st := ec2test.InstanceHealth{InstanceID: id, State: stateOutOfService, ReasonCode: "Instance"}
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
	var states []ec2test.InstanceHealth
	if len(asked) > 0 {
		for _, id := range asked {
			states = append(states, describe(id, e.find(id)))
		}
		return states, nil
	}
	for _, m := range e.members {
		if ec2[m.id] == "terminated" {
			continue
		}
		states = append(states, describe(m.id, m))
	}
	return states, nil
}
