// Package stackoutputs is the contract between the Pulumi program and the
// operator tools: the names of the stack outputs and a typed view of them.
// The program exports under these keys; the tools read them (from
// `pulumi stack output --json` or the Automation API) and never recompute a
// name or an address.
package stackoutputs

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Output keys. The singular master outputs (marathonUrl, mesosUrl,
// masterPublicIp, masterPrivateIp, sshMaster) are the first master's, as
// they were when a cluster had one; the plural ones list every master in
// order.
const (
	MarathonURL      = "marathonUrl"
	MarathonURLs     = "marathonUrls"
	MesosURL         = "mesosUrl"
	MesosURLs        = "mesosUrls"
	AppURL           = "appUrl"
	MasterPublicIP   = "masterPublicIp"
	MasterPublicIPs  = "masterPublicIps"
	MasterPrivateIP  = "masterPrivateIp"
	MasterPrivateIPs = "masterPrivateIps"
	AgentInstanceIDs = "agentInstanceIds"
	AgentPrivateIPs  = "agentPrivateIps"
	Region           = "region"
	AvailabilityZone = "availabilityZone"
	ClusterID        = "clusterId"
	Stack            = "stack"
	VolumeDriver     = "volumeDriver"
	VolumeName       = "volumeName"
	AppID            = "appId"
	AppVersion       = "appVersion"
	AppTaskHost      = "appTaskHost"
	SSHMaster        = "sshMaster"
	SSHMasters       = "sshMasters"
	SSHAgents        = "sshAgents"
	Failover         = "failoverSettings"
	// ELBSecurityGroupID is the ELB's security group and AppPort the app's
	// host port on the agents: the partition drill admits that group on
	// that port into the isolated agent. Stacks made before the drill lack
	// them.
	ELBSecurityGroupID = "elbSecurityGroupId"
	AppPort            = "appPort"
)

// FailoverSettings are the stack's failure-detection settings, exported so a
// tool computes the recovery budget from what the stack really runs.
type FailoverSettings struct {
	AgentPingTimeoutSeconds float64 `json:"agentPingTimeoutSeconds"`
	MaxAgentPingTimeouts    int     `json:"maxAgentPingTimeouts"`
	ELBIntervalSeconds      float64 `json:"elbIntervalSeconds"`
	ELBTimeoutSeconds       float64 `json:"elbTimeoutSeconds"`
	ELBHealthyThreshold     int     `json:"elbHealthyThreshold"`
	ELBUnhealthyThreshold   int     `json:"elbUnhealthyThreshold"`
	// The app's Marathon health check as deployed (its first, from the app
	// definition): the failover watch holds a recovery for at least
	// grace period + interval x max failures, the time Marathon may take
	// to kill a replacement that fails it. Zero when the stack predates
	// them or the app has none: the watch then reads the repository's
	// default app definition (apps/moby-counter.json).
	HealthCheckGracePeriodSeconds     float64 `json:"healthCheckGracePeriodSeconds,omitempty"`
	HealthCheckIntervalSeconds        float64 `json:"healthCheckIntervalSeconds,omitempty"`
	HealthCheckMaxConsecutiveFailures int     `json:"healthCheckMaxConsecutiveFailures,omitempty"`
}

// NewFailoverSettings are the settings of a stack whose Mesos master runs
// with this agent ping timeout and number of misses; the ELB's health check
// is the same for every stack (internal/facts).
func NewFailoverSettings(agentPingTimeout time.Duration, maxAgentPingTimeouts int) FailoverSettings {
	return FailoverSettings{
		AgentPingTimeoutSeconds: agentPingTimeout.Seconds(),
		MaxAgentPingTimeouts:    maxAgentPingTimeouts,
		ELBIntervalSeconds:      facts.ELBHealthInterval.Seconds(),
		ELBTimeoutSeconds:       facts.ELBHealthTimeout.Seconds(),
		ELBHealthyThreshold:     facts.ELBHealthyThreshold,
		ELBUnhealthyThreshold:   facts.ELBUnhealthyThreshold,
	}
}

// WithHealthCheck is f with the app's Marathon health check (its grace
// period, interval and max consecutive failures), as the stack deploys it.
func (f FailoverSettings) WithHealthCheck(grace, interval time.Duration, maxFailures int) FailoverSettings {
	f.HealthCheckGracePeriodSeconds, f.HealthCheckIntervalSeconds = grace.Seconds(), interval.Seconds()
	f.HealthCheckMaxConsecutiveFailures = maxFailures
	return f
}

// AgentPingTimeout is the ping timeout as a duration.
func (f FailoverSettings) AgentPingTimeout() time.Duration {
	return seconds(f.AgentPingTimeoutSeconds)
}

// ELBInterval is the health-check interval as a duration.
func (f FailoverSettings) ELBInterval() time.Duration {
	return seconds(f.ELBIntervalSeconds)
}

// seconds converts JSON seconds to a duration, rounded to the nanosecond:
// 0.02 s is 19999999.99... ns as a float, which a plain conversion
// truncates.
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}

// Outputs is the typed view of a stack's outputs.
type Outputs struct {
	MarathonURL string `json:"marathonUrl"`
	// MarathonURLs are every master's Marathon, first master first; a
	// tool fails over between them (internal/marathon). Stacks made before
	// masters were counted lack the output: Decode fills it with
	// MarathonURL, and so for the other plural master outputs.
	MarathonURLs     []string         `json:"marathonUrls"`
	MesosURL         string           `json:"mesosUrl"`
	MesosURLs        []string         `json:"mesosUrls"`
	AppURL           string           `json:"appUrl"`
	MasterPublicIP   string           `json:"masterPublicIp"`
	MasterPublicIPs  []string         `json:"masterPublicIps"`
	MasterPrivateIP  string           `json:"masterPrivateIp"`
	MasterPrivateIPs []string         `json:"masterPrivateIps"`
	AgentInstanceIDs []string         `json:"agentInstanceIds"`
	AgentPrivateIPs  []string         `json:"agentPrivateIps"`
	Region           string           `json:"region"`
	AvailabilityZone string           `json:"availabilityZone"`
	ClusterID        string           `json:"clusterId"`
	Stack            string           `json:"stack"`
	VolumeDriver     string           `json:"volumeDriver"`
	VolumeName       string           `json:"volumeName"`
	AppID            string           `json:"appId"`
	AppVersion       string           `json:"appVersion"`
	AppTaskHost      string           `json:"appTaskHost"`
	SSHMaster        string           `json:"sshMaster"`
	SSHMasters       []string         `json:"sshMasters"`
	SSHAgents        []string         `json:"sshAgents"`
	Failover         FailoverSettings `json:"failoverSettings"`
	// ELBSecurityGroupID and AppPort: see the keys; "" and 0 when the
	// stack lacks them.
	ELBSecurityGroupID string `json:"elbSecurityGroupId,omitempty"`
	AppPort            int    `json:"appPort,omitempty"`
}

// required are the keys every tool needs; a stack without them is not a
// marathon-ha stack, or it has not finished its first `pulumi up`.
var required = []string{MarathonURL, AppURL, Region, ClusterID, Stack, AppID, Failover}

// FromMap builds Outputs from plain values, as decoded from
// `pulumi stack output --json` or taken from an Automation API OutputMap.
func FromMap(m map[string]any) (Outputs, error) {
	var missing []string
	for _, k := range required {
		if _, ok := m[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return Outputs{}, fmt.Errorf("stack outputs lack %v: run `pulumi up` on the stack first, or check that it is a marathon-ha stack", missing)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return Outputs{}, fmt.Errorf("encoding stack outputs: %w", err)
	}
	var o Outputs
	if err := json.Unmarshal(raw, &o); err != nil {
		return Outputs{}, fmt.Errorf("decoding stack outputs: %w", err)
	}
	// A stack of one master from before masters were counted exports only
	// the singular outputs; they are its one master.
	for _, f := range []struct {
		list *[]string
		one  string
	}{{&o.MarathonURLs, o.MarathonURL}, {&o.MesosURLs, o.MesosURL}, {&o.MasterPublicIPs, o.MasterPublicIP},
		{&o.MasterPrivateIPs, o.MasterPrivateIP}, {&o.SSHMasters, o.SSHMaster}} {
		if len(*f.list) == 0 && f.one != "" {
			*f.list = []string{f.one}
		}
	}
	return o, nil
}

// Decode reads the JSON that `pulumi stack output --json` prints.
func Decode(r io.Reader) (Outputs, error) {
	var m map[string]any
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return Outputs{}, fmt.Errorf("reading stack outputs JSON: %w", err)
	}
	return FromMap(m)
}

// Map is f as the plain map a stack output holds, keyed as FromMap reads it.
func (f FailoverSettings) Map() map[string]any {
	raw, _ := json.Marshal(f) // a struct of numbers always marshals
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}
