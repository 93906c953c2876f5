package facts

import "time"

// Failure detection and health checking. The master's flags, the ELB and the
// recovery budget all read these.
const (
	// AgentPingTimeout and MaxAgentPingTimeouts decide how fast the Mesos
	// master declares a silent agent lost: timeout x misses. The 2015 demo
	// set 5secs and 2 (uploads/install.sh, commit 0579288); the defaults are
	// 15secs and 5 = 75 s (apache/mesos docs/configuration/master.md).
	AgentPingTimeout     = 5 * time.Second
	MaxAgentPingTimeouts = 2

	// ELB health check: the minimums AWS allows, as the demo used
	// (helpers.sh; awsdocs elb-healthchecks.md: interval 5-300 s, timeout
	// 2-60 s, thresholds 2-10).
	ELBHealthInterval     = 5 * time.Second
	ELBHealthTimeout      = 2 * time.Second
	ELBUnhealthyThreshold = 2
	ELBHealthyThreshold   = 2
	// ELBConnectionDrainingTimeout is short because the app has one instance:
	// a draining node is a dead node (range 1-3600 s, AWS
	// ConnectionDrainingPolicy API reference).
	ELBConnectionDrainingTimeout = 5 * time.Second
)

// AppHealthPath is the path the ELB and Marathon health-check: Moby Counter
// answers GET /v1/ping with {"connected":true} (binocarlos/moby-counter
// localfile server.js).
const AppHealthPath = "/v1/ping"
