package failover

import (
	"fmt"
	"github.com/marathon-ha/marathon-ha/internal/fencelog"
	"io"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/workload"
)

// The events of a recovery timeline, in the order they should happen.
const (
	EventKill             = "terminate requested"                       // just before TerminateInstances was sent
	EventShuttingDown     = "instance shutting down"                    // EC2 state shutting-down
	EventOldAnswers       = "the killed agent still answers"            // a ping answered while the killed agent was in service
	EventAppDown          = "app stops answering"                       // the first failed ping through the ELB after the kill
	EventInstanceDown     = "instance terminated"                       // EC2 state terminated, or gone from the API
	EventVolumeDetached   = "volume detached from the killed agent"     // the app's EBS volume no longer attached to it
	EventAgentLost        = "Mesos marks the agent lost"                // Marathon's task on the old host unreachable or gone
	EventTaskStaged       = "Marathon stages the task"                  // a task of the app on another agent (once for each replacement followed)
	EventVolumeAttached   = "volume attached to the new agent"          // the app's EBS volume attached to another instance
	EventTaskRunning      = "task running"                              // that task TASK_RUNNING
	EventOldOutOfService  = "ELB takes the killed agent out of service" // DescribeInstanceHealth: not InService, or not listed
	EventNewInService     = "ELB puts the new agent in service"         // DescribeInstanceHealth: the new agent's instance InService
	EventAppServed        = "ELB serves the app again"                  // the first answer of the recovery that held: the replacement running and healthy in Marathon, alone in service
	EventClicksReadBack   = "clicks read back"                          // every click read through the ELB from the new agent
	EventRecoveryHeld     = "recovery held"                             // every sample good for the stability window since EventAppServed
	EventRecoveryBroken   = "a recovery did not hold"                   // a sample went bad within the stability window (may repeat)
	EventReplacementLost  = "a replacement did not last"                // Marathon's replacement task gone, not running or failing its health checks (may repeat)
	EventDeadlineExceeded = "deadline exceeded"                         // the watch gave up

	// A partition (ModePartition, RunPartition): EventPartitionRequested
	// takes EventKill's place.
	EventPartitionRequested = "partition requested"      // just before ModifyInstanceAttribute swapped in the drill group
	EventGroupsSwapped      = "security groups swapped"  // DescribeInstances shows the drill group alone
	EventGroupsRestored     = "security groups restored" // DescribeInstances shows the original groups, or the instance gone (fenced)
	EventDrillGroupDeleted  = "drill group deleted"      // DeleteSecurityGroup of the drill group succeeded

	// A master's loss (WatchMaster).
	EventMarathonLeaderless  = "Marathon has no leader"                      // /v2/leader fails or names the lost master, which no longer answers
	EventZooKeeperSession    = "ZooKeeper expires the lost master's session" // implied by the first new leader that waits for it; expected the session timeout after the kill, or after the new ZooKeeper leader
	EventMesosLeader         = "Mesos elects a new leader"                   // a Mesos master other than the lost one leads
	EventMarathonLeader      = "Marathon elects a new leader"                // /v2/leader names a master other than the lost one
	EventAgentsReregistered  = "agents re-register with the new leader"      // every agent active in the new Mesos leader's state
	EventTaskKept            = "the app's task kept running"                 // Marathon lists the same task running on the same agent, and Mesos runs it for Marathon's framework
	EventAppServedThroughout = "the app answered throughout"                 // every ping through the ELB since the kill answered

	// Each leader the lost master did not hold stays (or, for Marathon,
	// may be re-elected); ZooKeeper's is seen with srvr (ZooKeeperProbe).
	EventZooKeeperLeaderless = "ZooKeeper has no leader"                         // srvr: no server says Mode: leader
	EventZooKeeperLeader     = "ZooKeeper elects a new leader"                   // another master's ZooKeeper says Mode: leader
	EventZooKeeperUnchanged  = "ZooKeeper leader unchanged"                      // the same master's ZooKeeper still leads
	EventMesosUnchanged      = "Mesos leader unchanged"                          // the same Mesos master still leads
	EventMarathonUnchanged   = "Marathon leader unchanged"                       // /v2/leader names the same leader
	EventAgentsActive        = "agents stay registered"                          // every agent active on the unchanged Mesos leader
	EventFrameworkActive     = "Marathon's framework active on the Mesos leader" // /master/state frameworks: Marathon's id, active (after its new leader registered)
	EventCanaryDeployed      = "a canary app runs"                               // Marathon deployed the canary and Mesos runs its task
	EventCanaryRemoved       = "the canary app is removed"                       // Marathon removed it: it schedules again
)

// The sources of the events: one lane each in a drawing of the timeline,
// in this order.
const (
	SourceEC2      = "ec2"      // the killed instance's state
	SourceMasters  = "masters"  // leader elections: ZooKeeper, Mesos, Marathon
	SourceMesos    = "mesos"    // the master's view of the agent, as Marathon reports it
	SourceMarathon = "marathon" // the app's tasks
	SourceVolume   = "volume"   // the app's EBS volume attachment
	SourceELB      = "elb"      // the ELB's instance health
	SourceApp      = "app"      // answers through the ELB
	SourceClicks   = "clicks"   // the clicks read back
)

// Sources lists the sources in lane order.
var Sources = []string{SourceEC2, SourceMasters, SourceMesos, SourceMarathon, SourceVolume, SourceELB, SourceApp, SourceClicks}

// eventSource is the source of each event.
var eventSource = map[string]string{
	EventKill: SourceEC2, EventShuttingDown: SourceEC2, EventInstanceDown: SourceEC2,
	EventAgentLost: SourceMesos, EventTaskStaged: SourceMarathon, EventTaskRunning: SourceMarathon,
	EventVolumeDetached: SourceVolume, EventVolumeAttached: SourceVolume,
	EventOldOutOfService: SourceELB, EventNewInService: SourceELB,
	EventOldAnswers: SourceApp, EventAppDown: SourceApp, EventAppServed: SourceApp, EventDeadlineExceeded: SourceApp,
	EventClicksReadBack: SourceClicks,
	EventRecoveryHeld:   SourceApp, EventRecoveryBroken: SourceApp, EventReplacementLost: SourceMarathon,
	EventMarathonLeaderless: SourceMasters, EventZooKeeperSession: SourceMasters, EventMesosLeader: SourceMasters,
	EventMarathonLeader: SourceMasters, EventAgentsReregistered: SourceMesos, EventTaskKept: SourceMarathon,
	EventAppServedThroughout: SourceApp,
	EventZooKeeperLeaderless: SourceMasters, EventZooKeeperLeader: SourceMasters, EventZooKeeperUnchanged: SourceMasters,
	EventMesosUnchanged: SourceMasters, EventMarathonUnchanged: SourceMasters, EventAgentsActive: SourceMesos,
	EventFrameworkActive: SourceMesos, EventCanaryDeployed: SourceMarathon, EventCanaryRemoved: SourceMarathon,
	EventWritesStop: SourceClicks, EventWritesBack: SourceClicks,
	EventPartitionRequested: SourceEC2, EventGroupsSwapped: SourceEC2, EventGroupsRestored: SourceEC2, EventDrillGroupDeleted: SourceEC2,
}

// SourceOf returns the source (lane) of an event name.
func SourceOf(event string) string { return eventSource[event] }

// Event is one moment of the timeline.
type Event struct {
	Name string `json:"name"`
	// Source is the lane the event belongs to: one of Sources.
	Source string    `json:"source"`
	At     time.Time `json:"at"`
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
	NewInstanceID    string `json:"newInstanceId,omitempty"`
	// NewTaskID is the replacement task the recovery held on.
	NewTaskID string `json:"newTaskId,omitempty"`
	// Mode is how the agent was killed (crash or graceful); VolumeID the
	// app's EBS volume the watch followed, "" when none was found.
	Mode     Mode   `json:"mode"`
	VolumeID string `json:"volumeId,omitempty"`
	// Partition is the partition drill's record (ModePartition): the drill
	// group, the groups put back, how long the partition was to last.
	Partition *PartitionRecord `json:"partition,omitempty"`
	// Fences are the mha-fence lines about the faulted agent that its own
	// console and the masters' printed (AddFences).
	Fences []fencelog.Event `json:"fences,omitempty"`

	Budget   Budget  `json:"budget"`
	Timeline []Event `json:"timeline"`

	// Recovered is true once a recovery held: for StabilityWindowSeconds
	// every sample found the replacement task (on any agent but the
	// killed one) TASK_RUNNING with its Marathon health checks alive, the
	// ELB with its instance, and only it, in service, and the app
	// answering through the ELB. RTOSeconds is then the time from
	// EventKill (the terminate request) to EventAppServed, the first
	// sample of that window; a replacement that did not last does not
	// count (EventRecoveryBroken, EventReplacementLost).
	Recovered  bool    `json:"recovered"`
	RTOSeconds float64 `json:"rtoSeconds,omitempty"`
	// StabilityWindowSeconds is how long a recovery must hold: the app's
	// health-check grace period + interval x max consecutive failures,
	// the time Marathon may take to kill a replacement that fails them
	// (StabilityWindow).
	StabilityWindowSeconds float64 `json:"stabilityWindowSeconds"`

	// ClicksWritten were acknowledged before the kill; ClicksLost are those
	// not read back after it (the RPO, in clicks).
	ClicksWritten int      `json:"clicksWritten"`
	ClicksLost    []string `json:"clicksLost"`

	// Error says why the watch ended without a full recovery.
	Error string `json:"error,omitempty"`

	// Workload is what a writer sending clicks through the ELB from before
	// the kill to the end of the watch saw and read back (AddWorkload):
	// the outage and RTO as a user saw them, the RPO, and the invariants.
	Workload *workload.Summary `json:"workload,omitempty"`
	// Judgement is the verdict (Judge): the RTO limit and every problem.
	Judgement *Judgement `json:"judgement,omitempty"`

	// SampleIntervalSeconds is the watch's sampling period (at most 1 s)
	// and Samples how many samples each source got.
	SampleIntervalSeconds float64 `json:"sampleIntervalSeconds"`
	Samples               Samples `json:"samples"`

	// TimeScale, when above 1, says the run was a stand-in's, run that
	// many times faster than the stack it models, and that every time in
	// the report is given at the stack's scale: measured times multiplied
	// by TimeScale, the budget the stack's own (AtRealScale).
	TimeScale float64 `json:"timeScale,omitempty"`
}

// Samples counts the watch's samples of each source.
type Samples struct {
	EC2      int `json:"ec2"`
	Marathon int `json:"marathon"`
	App      int `json:"app"`
	ELB      int `json:"elb"`
	// DyingAnswers counts answers through the ELB that could not count as
	// recovery: the killed agent, or no replacement alone in service.
	DyingAnswers int `json:"dyingAnswers"`
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
		p = append(p, fmt.Sprintf("RTO %s exceeds the limit %s (budget %s for %s, %s)", r.RTO().Round(time.Millisecond), limit, r.Budget.Total, r.Budget.Driver, r.Budget.Mode))
	}
	return append(p, r.Workload.Problems()...)
}

// WriteTimeline prints the timeline, one event a line, as Watch's progress
// does: the time since the kill, the event and its detail.
func (r Report) WriteTimeline(w io.Writer) error { return writeTimeline(w, r.Timeline) }

func writeTimeline(w io.Writer, timeline []Event) error {
	for _, e := range timeline {
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
		fmt.Fprintf(&sb, "recovered on %s: RTO %.1fs (budget %.1fs for %s, %s)\n", host, r.RTOSeconds, r.Budget.Seconds, r.Budget.Driver, r.Budget.Mode)
	} else {
		fmt.Fprintf(&sb, "NOT recovered: %s\n", r.Error)
	}
	fmt.Fprintf(&sb, "clicks: %d written before the kill, %d lost %v\n", r.ClicksWritten, len(r.ClicksLost), r.ClicksLost)
	for _, l := range r.Workload.Lines() {
		fmt.Fprintf(&sb, "workload: %s\n", l)
	}
	if j := r.Judgement; j != nil {
		verdict := "PASSED"
		if !j.Passed {
			verdict = "FAILED"
		}
		fmt.Fprintf(&sb, "verdict: %s (RTO limit %.1fs: %s)\n", verdict, j.RTOLimitSeconds, j.RTOLimitFrom)
		for _, p := range j.Problems {
			fmt.Fprintf(&sb, "problem: %s\n", p)
		}
	}
	return sb.String()
}
