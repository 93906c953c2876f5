package bootbudget

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Measured is one path from `pulumi up` to the app serving, as the
// rehearsal measured it: the phases (internal/rehearsal BootTimeline's
// split) and every node's boot steps from its console.
type Measured struct {
	Create, Boot, Deploy, Total time.Duration
	Nodes                       []NodeSteps
}

// NodeSteps is one node's measured boot.
type NodeSteps struct {
	Node, Role string
	// OSSeconds is the uptime at the start of the boot script, -1 when the
	// console did not say.
	OSSeconds int
	Steps     []bootlog.Step
}

// PhaseCheck is one phase, measured against its budget.
type PhaseCheck struct {
	Phase           string  `json:"phase"`
	MeasuredSeconds float64 `json:"measuredSeconds"`
	BudgetSeconds   float64 `json:"budgetSeconds"`
}

// Overrun is a node's step that took longer than its budget.
type Overrun struct {
	Node            string  `json:"node"`
	Step            string  `json:"step"`
	MeasuredSeconds float64 `json:"measuredSeconds"`
	BudgetSeconds   float64 `json:"budgetSeconds"`
}

// Verdict is a measured path judged against the budget and a limit (the
// goal unless overridden).
type Verdict struct {
	Driver        string       `json:"driver"`
	Image         Image        `json:"image"`
	GoalSeconds   float64      `json:"goalSeconds"`
	LimitSeconds  float64      `json:"limitSeconds"`
	BudgetSeconds float64      `json:"budgetSeconds"`
	TotalSeconds  float64      `json:"totalSeconds"`
	Within        bool         `json:"withinLimit"`
	Phases        []PhaseCheck `json:"phases"`
	// Overruns are the steps over their budget, the largest excess first:
	// where to look when the total is over.
	Overruns []Overrun `json:"overruns,omitempty"`
}

// Judge holds m against the budget and limit (the goal if limit <= 0).
func (b Budget) Judge(m Measured, limit time.Duration) Verdict {
	if limit <= 0 {
		limit = Goal
	}
	v := Verdict{Driver: b.Driver, Image: b.Image, GoalSeconds: Goal.Seconds(), LimitSeconds: limit.Seconds(), BudgetSeconds: b.TotalSeconds,
		TotalSeconds: m.Total.Seconds(), Within: m.Total <= limit,
		Phases: []PhaseCheck{
			{PhaseCreate, m.Create.Seconds(), b.CreateSeconds},
			{PhaseBoot, m.Boot.Seconds(), b.BootSeconds},
			{PhaseDeploy, m.Deploy.Seconds(), b.DeploySeconds},
		}}
	for _, n := range m.Nodes {
		for _, c := range b.CheckNode(n) {
			if c.Over {
				v.Overruns = append(v.Overruns, Overrun{Node: n.Node, Step: c.Step, MeasuredSeconds: c.TookSeconds, BudgetSeconds: c.BudgetSeconds})
			}
		}
	}
	sort.SliceStable(v.Overruns, func(i, j int) bool {
		return v.Overruns[i].MeasuredSeconds-v.Overruns[i].BudgetSeconds > v.Overruns[j].MeasuredSeconds-v.Overruns[j].BudgetSeconds
	})
	return v
}

// StepCheck is one boot step of a node against its role's budget.
type StepCheck struct {
	Step          string  `json:"step"`
	BudgetSeconds float64 `json:"budgetSeconds"`
	// TookSeconds is -1 when the console does not say (the step has not
	// run or ended, or scrolled out).
	TookSeconds float64 `json:"tookSeconds"`
	Over        bool    `json:"over,omitempty"`
}

// RoleOf is the role of a node by the name its boot prints ("master",
// "master-<i>", "agent-<i>": userdata and components.BootInstances), or ""
// for another name.
func RoleOf(node string) string {
	switch {
	case node == facts.RoleMaster || strings.HasPrefix(node, facts.RoleMaster+"-"):
		return facts.RoleMaster
	case strings.HasPrefix(node, facts.RoleAgent+"-"):
		return facts.RoleAgent
	}
	return ""
}

// CheckNode holds each boot step of n's role against its budget, in the
// budget's order; none for a role the budget does not know.
func (b Budget) CheckNode(n NodeSteps) []StepCheck {
	var out []StepCheck
	for _, s := range b.Steps {
		if s.Phase != PhaseBoot || s.Role != n.Role {
			continue
		}
		took := float64(-1)
		if s.Name == StepOS {
			took = float64(n.OSSeconds)
		}
		for _, st := range n.Steps {
			if st.Name == s.Name && st.End >= 0 {
				took = float64(st.Seconds())
			}
		}
		out = append(out, StepCheck{Step: s.Name, BudgetSeconds: s.Seconds, TookSeconds: took, Over: took > s.Seconds})
	}
	return out
}

// Problem is the verdict as a rehearsal problem, or "" when the path was
// within its limit.
func (v Verdict) Problem() string {
	if v.Within {
		return ""
	}
	p := fmt.Sprintf("up to serving took %s, over the limit of %s (the goal is %s, the %s budget %s)",
		secs(v.TotalSeconds), secs(v.LimitSeconds), secs(v.GoalSeconds), v.Driver, secs(v.BudgetSeconds))
	var over []string
	for _, ph := range v.Phases {
		if ph.MeasuredSeconds > ph.BudgetSeconds {
			over = append(over, fmt.Sprintf("%s %s (budget %s)", ph.Phase, secs(ph.MeasuredSeconds), secs(ph.BudgetSeconds)))
		}
	}
	if len(over) > 0 {
		p += "; over budget: " + strings.Join(over, ", ")
	}
	if len(v.Overruns) > 0 {
		p += "; slowest steps: " + v.overrunList(3)
	}
	return p
}

// overrunList names the first n overruns.
func (v Verdict) overrunList(n int) string {
	var out []string
	for _, o := range v.Overruns[:min(n, len(v.Overruns))] {
		out = append(out, fmt.Sprintf("%s %s %s (budget %s)", o.Node, o.Step, secs(o.MeasuredSeconds), secs(o.BudgetSeconds)))
	}
	return strings.Join(out, ", ")
}

// Summary is the verdict in a few lines for the rehearsal's report.
func (v Verdict) Summary() string {
	var sb strings.Builder
	state := "within"
	if !v.Within {
		state = "OVER"
	}
	fmt.Fprintf(&sb, "up to serving %s: %s the limit %s (goal %s); %s budget %s:", secs(v.TotalSeconds), state, secs(v.LimitSeconds), secs(v.GoalSeconds), v.Driver, secs(v.BudgetSeconds))
	for _, ph := range v.Phases {
		fmt.Fprintf(&sb, " %s %s/%s", ph.Phase, secs(ph.MeasuredSeconds), secs(ph.BudgetSeconds))
	}
	sb.WriteString("\n")
	if len(v.Overruns) > 0 {
		fmt.Fprintf(&sb, "steps over their budget: %s\n", v.overrunList(len(v.Overruns)))
	}
	return sb.String()
}

func secs(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}

// presentDetail is the detail of a pull that found its image already on
// the node (userdata lib.sh mha_pull_job: `done present`).
const presentDetail = "present"

// ImageOf tells from the nodes' consoles which image they booted: a
// prepared one when every image pull they logged found its image present,
// Canonical's otherwise (any download, or no pull logged at all). The
// rehearsal judges a measured path against that image's budget.
func ImageOf(m Measured) Image {
	pulls := 0
	for _, n := range m.Nodes {
		for _, s := range n.Steps {
			if !strings.HasPrefix(s.Name, "pull:") {
				continue
			}
			if s.State != bootlog.Done || s.Detail != presentDetail {
				return ImageCanonical
			}
			pulls++
		}
	}
	if pulls == 0 {
		return ImageCanonical
	}
	return ImagePrepared
}
