package facts

import "time"

// The REX-Ray agents' Auto Scaling group (components/autoscaling.go,
// docs/agents.md).
const (
	// GroupReplaceEstimate is how long the agents' group takes from an
	// agent's termination to its replacement running: the group's EC2
	// health check noticing an instance that is no longer running, the
	// scaling activity that terminates it, and the launch of a new
	// instance until EC2 reports it running. An estimate, not a
	// measurement: the rehearsal's rounds measure the whole time to full
	// strength (rounds.Summary.FullStrength) on AWS.
	GroupReplaceEstimate = 60 * time.Second
)
