package rehearsal

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootbudget"
	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// DefaultBootTimelineTimeout bounds the reading of the nodes' boot
// timelines after the app serves: one DescribeInstances and one
// GetConsoleOutput (two with the buffered fallback) per node, each bounded
// by ec2ops.APICallTimeout. It is counted in shortStepsAllowance.
const DefaultBootTimelineTimeout = time.Minute

// BootTimeline is the report's section on the way from `pulumi up` to the
// app serving: every node's boot as its console tells it (bootlog, read as
// scripts/boot-timeline reads it, ec2ops.ClusterBoots) and the up-to-serving
// total split into Pulumi's create, the nodes' boot and the app deployment.
//
// The split: create runs from the start of up to the launch of the last
// instance (EC2 launchTime); boot from there to the end of the last node's
// boot, each node's end being its launch plus the OS's start before the
// boot script (the uptime its first boot line carries) plus the script's
// elapsed time at its boot done line; the app deployment from there to the
// app answering through the ELB (deploy-app's wait for Marathon, the post,
// the task's start, the ELB's health checks). Every instant is clamped to
// lie between the start of up and the serving, so the three add up to the
// total; Notes say what could not be measured.
type BootTimeline struct {
	UpStartedAt time.Time `json:"upStartedAt"`
	// ServingAt is when the app first answered through the ELB; zero when
	// it never did, and then there is no split.
	ServingAt time.Time `json:"servingAt,omitzero"`
	// InstancesCreatedAt is the last instance's launch time.
	InstancesCreatedAt time.Time `json:"instancesCreatedAt,omitzero"`
	// BootedAt is when the last node's boot ended; LastBooted is that node.
	BootedAt   time.Time `json:"bootedAt,omitzero"`
	LastBooted string    `json:"lastBooted,omitempty"`

	TotalSeconds  float64 `json:"totalSeconds"`
	CreateSeconds float64 `json:"createSeconds"`
	BootSeconds   float64 `json:"bootSeconds"`
	DeploySeconds float64 `json:"deploySeconds"`

	Nodes []ec2ops.NodeBoot `json:"nodes"`
	Notes []string          `json:"notes,omitempty"`

	// Budget is the split and each node's steps held against the stack's
	// up-to-serving budget and Config.ServingLimit (internal/bootbudget);
	// nil when the app never served or the budget is unknown.
	Budget *bootbudget.Verdict `json:"budget,omitempty"`
}

// readBootTimeline fills r.Boot: the nodes' timelines and the split of
// upStart..servedAt (servedAt zero: the app never served). It never fails
// the rehearsal: what it cannot read is a note in the report.
func readBootTimeline(ctx context.Context, cfg Config, r *Report, outs stackoutputs.Outputs, upStart, servedAt time.Time) {
	b := &BootTimeline{UpStartedAt: upStart.UTC(), Nodes: []ec2ops.NodeBoot{}}
	if !servedAt.IsZero() {
		b.ServingAt = servedAt.UTC()
	}
	r.Boot = b
	b.Nodes, b.Notes = readBoots(ctx, cfg, outs)
	b.split()
	if b.ServingAt.IsZero() {
		return
	}
	// Judged against the budget of the image the nodes booted: a prepared
	// image's nodes find every image present (bootbudget.ImageOf).
	m := b.measured()
	budget, err := bootbudget.NewFor(outs.VolumeDriver, bootbudget.ImageOf(m))
	if err != nil {
		b.Notes = append(b.Notes, "the up-to-serving time is not judged: "+err.Error())
		return
	}
	v := budget.Judge(m, cfg.ServingLimit)
	b.Budget = &v
	if p := v.Problem(); p != "" {
		r.Problems = append(r.Problems, p)
	}
}

// measured is the split and the nodes' steps, as the budget judges them.
func (b *BootTimeline) measured() bootbudget.Measured {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	m := bootbudget.Measured{Create: sec(b.CreateSeconds), Boot: sec(b.BootSeconds), Deploy: sec(b.DeploySeconds), Total: sec(b.TotalSeconds)}
	for _, n := range b.Nodes {
		m.Nodes = append(m.Nodes, bootbudget.NodeSteps{Node: nodeName(n), Role: n.Role, OSSeconds: n.OSStartSeconds(), Steps: n.Steps})
	}
	return m
}

// readBoots reads every node's console, or says why it could not.
func readBoots(ctx context.Context, cfg Config, outs stackoutputs.Outputs) ([]ec2ops.NodeBoot, []string) {
	if cfg.Clients.Consoles == nil {
		return []ec2ops.NodeBoot{}, []string{"no console client: the nodes' boot was not read"}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.BootTimelineTimeout)
	defer cancel()
	e, err := cfg.Clients.EC2(ctx, outs)
	if err != nil {
		return []ec2ops.NodeBoot{}, []string{"the nodes' boot was not read: " + err.Error()}
	}
	consoles, err := cfg.Clients.Consoles(ctx, outs)
	if err != nil {
		return []ec2ops.NodeBoot{}, []string{"the nodes' consoles could not be read: " + err.Error()}
	}
	nodes, err := e.ClusterBoots(ctx, outs.ClusterID, ec2ops.NewConsoleReader(consoles, 0))
	if err != nil {
		return []ec2ops.NodeBoot{}, []string{"the nodes' boot was not read: " + err.Error()}
	}
	var notes []string
	if len(nodes) == 0 {
		notes = append(notes, fmt.Sprintf("cluster %s has no live instance: no boot to read", outs.ClusterID))
	}
	for _, n := range nodes {
		switch {
		case n.Error != "":
			notes = append(notes, fmt.Sprintf("the console of %s (%s) could not be read: %s", nodeName(n), n.InstanceID, n.Error))
		case n.Console == ec2ops.ConsoleEmpty:
			notes = append(notes, fmt.Sprintf("the console of %s (%s) was empty: EC2 had no output for it", nodeName(n), n.InstanceID))
		case n.State != bootlog.Done:
			notes = append(notes, fmt.Sprintf("%s (%s): %s", nodeName(n), n.InstanceID, n.Summary()))
		}
	}
	return nodes, notes
}

func nodeName(n ec2ops.NodeBoot) string {
	if n.Node != "" {
		return n.Node
	}
	return n.Role
}

// split computes the create, boot and deployment times (see BootTimeline).
func (b *BootTimeline) split() {
	if b.ServingAt.IsZero() {
		b.Notes = append(b.Notes, "the app never served through the ELB: the up-to-serving total is not split")
		return
	}
	clamp := func(t time.Time) time.Time {
		if t.Before(b.UpStartedAt) {
			return b.UpStartedAt
		}
		if t.After(b.ServingAt) {
			return b.ServingAt
		}
		return t
	}
	created := b.UpStartedAt
	for _, n := range b.Nodes {
		if n.LaunchTime.After(created) {
			created = n.LaunchTime
		}
	}
	created = clamp(created)
	var booted time.Time
	noOS := false
	for _, n := range b.Nodes {
		if n.State != bootlog.Done || n.LaunchTime.IsZero() {
			continue
		}
		osUp := n.OSStartSeconds()
		if osUp < 0 {
			osUp, noOS = 0, true
		}
		end := n.LaunchTime.Add(time.Duration(osUp+n.Elapsed) * time.Second)
		if end.After(booted) {
			booted, b.LastBooted = end, nodeName(n)
		}
	}
	if booted.Before(created) { // every finished boot ended before the last launch
		booted = created
	}
	if b.LastBooted == "" {
		b.Notes = append(b.Notes, "no node's console showed a finished boot: its time is counted in the app deployment")
	} else if end := clamp(booted); !end.Equal(booted) {
		b.Notes = append(b.Notes, fmt.Sprintf("%s's boot ends %s after the app served (launch time, uptime and console disagree): the boot is cut at the serving", b.LastBooted, booted.Sub(end).Round(time.Second)))
		booted = end
	}
	if noOS {
		b.Notes = append(b.Notes, "a console did not say the OS's uptime when its boot script started: that node's boot counts from the script's start")
	}
	b.InstancesCreatedAt, b.BootedAt = created.UTC(), booted.UTC()
	b.TotalSeconds = b.ServingAt.Sub(b.UpStartedAt).Seconds()
	b.CreateSeconds = created.Sub(b.UpStartedAt).Seconds()
	b.BootSeconds = booted.Sub(created).Seconds()
	b.DeploySeconds = b.ServingAt.Sub(booted).Seconds()
}

// Summary writes the section for a human: the split, then each node's
// timeline as boot-timeline prints it.
func (b *BootTimeline) Summary(w io.Writer) {
	if b == nil {
		return
	}
	if !b.ServingAt.IsZero() {
		fmt.Fprintf(w, "  up to serving %.1fs: Pulumi create %.1fs, boot %.1fs", b.TotalSeconds, b.CreateSeconds, b.BootSeconds)
		if b.LastBooted != "" {
			fmt.Fprintf(w, " (last: %s)", b.LastBooted)
		}
		fmt.Fprintf(w, ", app deployment %.1fs\n", b.DeploySeconds)
	}
	if b.Budget != nil {
		for _, l := range strings.Split(strings.TrimRight(b.Budget.Summary(), "\n"), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	for _, n := range b.Nodes {
		fmt.Fprintf(w, "  boot of %s %s (console: %s", n.Role, n.InstanceID, n.Console)
		if osUp := n.OSStartSeconds(); osUp >= 0 {
			fmt.Fprintf(w, ", OS up %ds before the script", osUp)
		}
		fmt.Fprintln(w, "):")
		if n.Console == ec2ops.ConsoleUnreadable {
			fmt.Fprintf(w, "    console unreadable: %s\n", firstLine(n.Error))
			continue
		}
		if n.Console == ec2ops.ConsoleEmpty {
			fmt.Fprintf(w, "    console empty: EC2 had no output for it\n")
			continue
		}
		var sb strings.Builder
		_ = n.Timeline.Write(&sb)
		for _, l := range strings.Split(strings.TrimRight(sb.String(), "\n"), "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	for _, note := range b.Notes {
		fmt.Fprintf(w, "  boot note: %s\n", note)
	}
}
