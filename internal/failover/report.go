package failover

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// The events of a recovery timeline, in the order they should happen.
const (
	EventKill             = "terminate requested"        // TerminateInstances accepted
	EventInstanceDown     = "instance terminated"        // EC2 state shutting-down or terminated
	EventAgentLost        = "Mesos marks the agent lost" // Marathon's task on the old host unreachable or gone
	EventTaskStaged       = "Marathon stages the task"   // a task of the app on another agent
	EventTaskRunning      = "task running"               // that task TASK_RUNNING
	EventAppServed        = "ELB serves the app again"   // ping through the ELB answers
	EventClicksReadBack   = "clicks read back"           // every click read through the ELB
	EventDeadlineExceeded = "deadline exceeded"          // the watch gave up
)

// Event is one moment of the timeline.
type Event struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
	// SinceKillSeconds is the time since EventKill.
	SinceKillSeconds float64 `json:"sinceKillSeconds"`
	Detail           string  `json:"detail,omitempty"`
}

// Report is what a failover measured: the kill-node --json output and the
// core of the rehearsal's report.
type Report struct {
	Stack            string `json:"stack"`
	AppURL           string `json:"appUrl"`
	KilledInstanceID string `json:"killedInstanceId"`
	KilledHost       string `json:"killedHost"`
	NewHost          string `json:"newHost,omitempty"`

	Budget   Budget  `json:"budget"`
	Timeline []Event `json:"timeline"`

	// Recovered is true once the app answered through the ELB on another
	// agent; RTOSeconds is then the time from EventKill to EventAppServed.
	Recovered  bool    `json:"recovered"`
	RTOSeconds float64 `json:"rtoSeconds,omitempty"`

	// ClicksWritten were acknowledged before the kill; ClicksLost are those
	// not read back after it (the RPO, in clicks).
	ClicksWritten int      `json:"clicksWritten"`
	ClicksLost    []string `json:"clicksLost"`

	// Error says why the watch ended without a full recovery.
	Error string `json:"error,omitempty"`

	// SampleIntervalSeconds is the watch's sampling period (at most 1 s)
	// and Samples how many samples each source got.
	SampleIntervalSeconds float64 `json:"sampleIntervalSeconds"`
	Samples               Samples `json:"samples"`
}

// Samples counts the watch's samples of each source.
type Samples struct {
	EC2      int `json:"ec2"`
	Marathon int `json:"marathon"`
	App      int `json:"app"`
}

// RTO is the measured recovery time.
func (r Report) RTO() time.Duration { return time.Duration(r.RTOSeconds * float64(time.Second)) }

// Problems lists why the failover is a failure: not recovered, clicks lost,
// or an RTO over limit (a limit of 0 checks none). Empty means success.
func (r Report) Problems(limit time.Duration) []string {
	var p []string
	if !r.Recovered {
		msg := "the app did not come back through the ELB"
		if r.Error != "" {
			msg += ": " + r.Error
		}
		p = append(p, msg)
	}
	if n := len(r.ClicksLost); n > 0 {
		p = append(p, fmt.Sprintf("%d of %d clicks lost: %v", n, r.ClicksWritten, r.ClicksLost))
	}
	if r.Recovered && limit > 0 && r.RTO() > limit {
		p = append(p, fmt.Sprintf("RTO %s exceeds the limit %s (budget %s)", r.RTO().Round(time.Millisecond), limit, r.Budget.Total))
	}
	return p
}

// WriteTimeline prints the timeline, one event a line, as Watch's progress
// does: the time since the kill, the event and its detail.
func (r Report) WriteTimeline(w io.Writer) error {
	for _, e := range r.Timeline {
		line := fmt.Sprintf("%s  %s", stamp(time.Duration(e.SinceKillSeconds*float64(time.Second))), e.Name)
		if e.Detail != "" {
			line += ": " + e.Detail
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

// Summary is the outcome in two lines: recovered (where, the RTO against
// the budget) or why not, and the clicks lost.
func (r Report) Summary() string {
	var sb strings.Builder
	if r.Recovered {
		host := r.NewHost
		if host == "" {
			host = "an agent Marathon did not report"
		}
		fmt.Fprintf(&sb, "recovered on %s: RTO %.1fs (budget %.1fs)\n", host, r.RTOSeconds, r.Budget.Seconds)
	} else {
		fmt.Fprintf(&sb, "NOT recovered: %s\n", r.Error)
	}
	fmt.Fprintf(&sb, "clicks: %d written before the kill, %d lost %v\n", r.ClicksWritten, len(r.ClicksLost), r.ClicksLost)
	return sb.String()
}
