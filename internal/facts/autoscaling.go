package facts

import "time"

// The REX-Ray agents' Auto Scaling group (components/autoscaling.go,
// docs/agents.md).
const (
	// GroupReplaceEstimate is how long the agents' group takes from an
	// agent's termination to its replacement running. Estimate; the
	// rehearsal measures it (its rounds' time to full strength,
	// rounds.Summary.FullStrength, on AWS). No AWS document gives a time
	// for any of its parts, only their order: the group "continuously
	// monitors" its instances and its health checks "continue
	// periodically" (Amazon EC2 Auto Scaling User Guide, "Health checks for
	// instances in an Auto Scaling group"); an instance found in a state
	// other than running is unhealthy and replaced; by default one scaling
	// activity terminates it and, "while the instance is terminating,
	// another scaling activity launches a new instance" (same guide, "View
	// the reason for health check failures"); the new instance is then
	// pending until EC2 reports it running. 60 s is a guess at the three
	// together, not a sum of sourced parts.
	GroupReplaceEstimate = 60 * time.Second
)
