package rehearsal

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/rounds"
)

// Names of the timed steps, in the order they run.
const (
	StepUp          = "up"
	StepAppReady    = "app ready"
	StepWriteClicks = "clicks written"
	StepFlushWait   = "flush wait"
	StepFindTarget  = "find target"
	// StepWorkloadLead starts the writer and lets it run its lead before
	// the kill.
	StepWorkloadLead = "writer lead"
	StepKill         = "kill"
	StepWatch        = "watch"
	StepDestroy      = "destroy"
	StepRemove       = "remove"
)

// StepTiming is how long one step took, and why it failed.
type StepTiming struct {
	Name      string    `json:"name"`
	StartedAt time.Time `json:"startedAt"`
	Seconds   float64   `json:"seconds"`
	Error     string    `json:"error,omitempty"`
	// Round is the round the step belongs to (Config.Rounds), 0 outside.
	Round int `json:"round,omitempty"`
}

// Report is what a rehearsal did and measured: the JSON written to
// --report and summarised on stdout.
type Report struct {
	Stack      string    `json:"stack"`
	Backend    string    `json:"backend"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`

	Steps []StepTiming `json:"steps"`

	// Boot is the way from up to the app serving: every node's boot
	// timeline and the total split into create, boot and deployment.
	Boot *BootTimeline `json:"boot,omitempty"`

	AppURL           string           `json:"appUrl,omitempty"`
	ClicksWritten    []string         `json:"clicksWritten"`
	FlushWaitSeconds float64          `json:"flushWaitSeconds"`
	Target           *failover.Target `json:"target,omitempty"` // the agent the rehearsal killed
	KilledAt         string           `json:"killedAt,omitempty"`

	// Drills are what the rehearsal killed, in order; MasterDrill is the
	// leading-master drill's report.
	Drills      []string     `json:"drills,omitempty"`
	MasterDrill *MasterDrill `json:"masterDrill,omitempty"`
	// MoreMasterDrills are the master drills after the first, in order.
	MoreMasterDrills []*MasterDrill `json:"moreMasterDrills,omitempty"`

	// Mode is how the agent was killed (crash or graceful).
	Mode failover.Mode `json:"mode"`
	// Failover is the watch's report: timeline, RTO, budget, lost clicks.
	// After rounds, Target, KilledAt, Failover and the limit are the last
	// round's; RoundFailovers has every round's and Rounds their summary.
	Failover       *failover.Report `json:"failover,omitempty"`
	Rounds         *rounds.Summary  `json:"rounds,omitempty"`
	RoundFailovers []RoundFailover  `json:"roundFailovers,omitempty"`
	// RTOLimitSeconds is the RTO the run was judged against, and
	// RTOLimitFrom why: the budget of its volume driver and mode plus
	// BudgetMarginSeconds, or the --rto-limit override.
	RTOLimitSeconds     float64 `json:"rtoLimitSeconds"`
	RTOLimitFrom        string  `json:"rtoLimitFrom,omitempty"`
	BudgetMarginSeconds float64 `json:"budgetMarginSeconds"`

	Interrupted bool `json:"interrupted"`
	Destroyed   bool `json:"destroyed"`
	Removed     bool `json:"removed"`
	// ManualCleanup is set when the destroy or the removal failed: the
	// commands that finish them by hand.
	ManualCleanup []string `json:"manualCleanup,omitempty"`
	// Leftovers is the teardown's check beyond the destroy: the state's
	// pending operations and the sweeps of what the stack's tags find.
	Leftovers *Leftovers `json:"leftovers,omitempty"`

	// Problems are why the rehearsal failed; empty means it passed.
	Problems []string `json:"problems"`
	Passed   bool     `json:"passed"`
}

// WriteFile writes the report as indented JSON.
func (r *Report) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// Summary writes the report for a human: the verdict, every step's time,
// the RTO against its limit and budget, the clicks, the clean-up.
func (r *Report) Summary(w io.Writer) {
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "rehearsal %s: stack %s (backend %s)\n", verdict, r.Stack, r.Backend)
	for _, s := range r.Steps {
		if s.Round > 0 && s.Error == "" {
			continue // the rounds' summary below
		}
		line := fmt.Sprintf("  %-15s %8.1fs", s.Name, s.Seconds)
		if s.Round > 0 {
			line = fmt.Sprintf("  %-15s %8.1fs", fmt.Sprintf("%s (round %d)", s.Name, s.Round), s.Seconds)
		}
		if s.Error != "" {
			line += "  FAILED: " + firstLine(s.Error)
		}
		fmt.Fprintln(w, line)
	}
	r.Boot.Summary(w)
	if r.MasterDrill != nil {
		for _, d := range append([]*MasterDrill{r.MasterDrill}, r.MoreMasterDrills...) {
			d.summary(w)
		}
		if r.Target != nil || r.Failover != nil {
			fmt.Fprintf(w, "  %s drill:\n", DrillAppAgent)
		}
	}
	if r.Rounds != nil {
		r.Rounds.Write(w)
		fmt.Fprintf(w, "  the last round:\n")
	}
	if r.Target != nil {
		fmt.Fprintf(w, "  killed %s (%s) running %s\n", r.Target.InstanceID, r.Target.PrivateIP, r.Target.TaskID)
	}
	if f := r.Failover; f != nil {
		if f.Recovered {
			fmt.Fprintf(w, "  RTO %.1fs, %s kill (limit %.1fs: %s), new host %s\n", f.RTOSeconds, f.Mode, r.RTOLimitSeconds, r.RTOLimitFrom, f.NewHost)
		} else {
			fmt.Fprintf(w, "  not recovered after a %s kill (limit %.1fs: %s)\n", f.Mode, r.RTOLimitSeconds, r.RTOLimitFrom)
		}
		fmt.Fprintf(w, "  clicks: %d written, %d lost\n", f.ClicksWritten, len(f.ClicksLost))
		for _, l := range f.Workload.Lines() {
			fmt.Fprintf(w, "  workload: %s\n", l)
		}
	}
	fmt.Fprintf(w, "  destroyed: %t, removed: %t\n", r.Destroyed, r.Removed)
	r.Leftovers.Summary(w)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	if len(r.ManualCleanup) > 0 {
		fmt.Fprintf(w, "  finish the clean-up by hand:\n")
		for _, l := range r.ManualCleanup {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// summary writes a master drill's lines of the report's summary.
func (d *MasterDrill) summary(w io.Writer) {
	name := d.Drill
	if name == "" { // a report from before the drill was recorded
		name = DrillLeadingMaster
	}
	fmt.Fprintf(w, "  %s drill:\n", name)
	if d.Target != nil {
		fmt.Fprintf(w, "    killed master %d, %s (%s), leaders then: %s\n", d.Target.Index, d.Target.InstanceID, d.Target.PrivateIP, d.Target.Leaders)
	}
	if f := d.Failover; f != nil {
		for _, l := range strings.Split(strings.TrimSpace(f.Summary()), "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
		fmt.Fprintf(w, "    limit %.1fs: master budget %.1fs plus margin\n", d.LimitSeconds, f.Budget.Seconds)
	}
}
