package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootbudget"
	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
)

// Defaults of the boot watch.
const (
	// defaultConsoleInterval is how often each node's console is read:
	// one GetConsoleOutput per node per round keeps a five-node cluster
	// at a quarter of a call per second, far below EC2's API throttling.
	defaultConsoleInterval = 20 * time.Second
	// defaultConsoleLines is how much of a failed node's console is shown.
	defaultConsoleLines = 20
	// consoleCallTimeout bounds one GetConsoleOutput (with the SDK's
	// retries): a progress line must not hold up the next round.
	consoleCallTimeout = 15 * time.Second
)

// bootNode is one node whose console is watched.
type bootNode struct{ name, id string }

// envAgentsOf names the cluster whose agents are an Auto Scaling group's
// (components.AppDeploymentArgs.AgentsOf): Pulumi does not know their
// instance ids, so they are found by the cluster's tags.
const envAgentsOf = "MHA_BOOT_AGENTS_OF"

// withGroupAgents adds to nodes the live agents of cluster (none when
// cluster is ""), found by tag as every tool finds agents, each named
// "agent@<instance id>": the group's agents all call themselves "agent" on
// their consoles.
func withGroupAgents(ctx context.Context, nodes []bootNode, cluster, region, profile string) ([]bootNode, error) {
	if cluster == "" {
		return nodes, nil
	}
	api, _, err := ec2ops.ConnectAs(ctx, region, profile)
	if err != nil {
		return nil, err
	}
	live, err := ec2ops.New(api).LiveAgents(ctx, cluster)
	if err != nil {
		return nil, fmt.Errorf("finding the agents of %s by tag (%s): %w", cluster, envAgentsOf, err)
	}
	for _, in := range live {
		nodes = append(nodes, bootNode{"agent@" + in.ID, in.ID})
	}
	return nodes, nil
}

// parseInstances reads "master=i-0abc,agent-1=i-0def".
func parseInstances(s string) ([]bootNode, error) {
	var out []bootNode
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, id, ok := strings.Cut(f, "=")
		if !ok || name == "" || !strings.HasPrefix(id, "i-") {
			return nil, fmt.Errorf("--instances: %q is not NODE=INSTANCE-ID such as master=i-0123456789abcdef0", f)
		}
		out = append(out, bootNode{name, id})
	}
	return out, nil
}

// bootFailed is the cause a watch cancels the deployment with.
type bootFailed struct {
	node, id string
	step     bootlog.Step
	last     []string
}

func (e *bootFailed) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the boot of %s (%s) FAILED at step %s after %ds: %s\n", e.node, e.id, e.step.Name, e.step.End, e.step.Detail)
	fmt.Fprintf(&b, "last %d console lines of %s (aws ec2 get-console-output --instance-id %s --latest --output text):\n", len(e.last), e.node, e.id)
	for _, l := range e.last {
		b.WriteString("    " + l + "\n")
	}
	b.WriteString("Marathon will not come up on this cluster as it is: fix the cause and run `pulumi up` again (a failed node is replaced when its user data changes, or with `pulumi up --replace URN`)")
	return b.String()
}

// bootWatch shows each node's boot step while deploy-app waits, and
// cancels the wait when a boot fails.
type bootWatch struct {
	reader   *ec2ops.ConsoleReader
	nodes    []bootNode
	interval time.Duration
	lines    int
	progress io.Writer
	// budget, when the volume driver is known, is what each node's steps
	// are held against.
	budget *bootbudget.Budget
	// stallAfter is how long an unchanged console of an unfinished boot is
	// waited before a warning (facts.BootStallWarning).
	stallAfter time.Duration

	// seen is what the watch last saw of each node, by name; run writes
	// it, report reads it once run has returned.
	seen map[string]*nodeSeen
}

// nodeSeen is the last look at one node's console.
type nodeSeen struct {
	msg       string
	timeline  bootlog.Timeline
	console   ec2ops.Console
	changedAt time.Time // when the console's text last changed
	warned    bool      // the stall warning was given for this text
}

// note records a look at node n and warns once when its console has not
// changed for stallAfter while its boot runs. A buffered console (Xen)
// changes only around state changes, so it is not judged.
func (w *bootWatch) note(n bootNode, msg string, tl bootlog.Timeline, c ec2ops.Console, now time.Time) {
	s := w.seen[n.name]
	if s == nil {
		s = &nodeSeen{changedAt: now}
		w.seen[n.name] = s
	}
	if c.Text != s.console.Text {
		s.changedAt, s.warned = now, false
	}
	s.msg, s.timeline, s.console = msg, tl, c
	if s.warned || c.Buffered || c.Text == "" || tl.State == bootlog.Done || tl.State == bootlog.Failed || now.Sub(s.changedAt) < w.stallAfter {
		return
	}
	s.warned = true
	fmt.Fprintf(w.progress, "boot %s: its console has not changed for %s (%s): the boot may be hung; see aws ec2 get-console-output --instance-id %s --latest --output text\n",
		n.name, now.Sub(s.changedAt).Round(time.Second), msg, n.id)
}

// report says, once the watch has stopped, where each boot that did not
// finish stood, with the console's last lines of the first: what a deploy
// that gave up waiting needs explained.
func (w *bootWatch) report(now time.Time) string {
	var b strings.Builder
	if note := w.firstBootWait(); note != "" {
		b.WriteString("\n" + note)
	}
	first := true
	for _, n := range w.nodes {
		s := w.seen[n.name]
		if s == nil || s.timeline.State == bootlog.Done {
			continue
		}
		fmt.Fprintf(&b, "\nthe boot of %s (%s) had not finished: %s", n.name, n.id, s.msg)
		if s.console.Text != "" {
			fmt.Fprintf(&b, "; its console last changed %s ago", now.Sub(s.changedAt).Round(time.Second))
		}
		if first && s.console.Text != "" {
			first = false
			last := bootlog.LastLines(s.console.Text, w.lines)
			fmt.Fprintf(&b, "\nlast %d console lines of %s:", len(last), n.name)
			for _, l := range last {
				b.WriteString("\n    " + l)
			}
		}
	}
	return b.String()
}

// run reads every node's console each interval until ctx ends or every
// node has booted; a FAILED boot cancels with a *bootFailed.
func (w *bootWatch) run(ctx context.Context, cancel context.CancelCauseFunc) {
	last := map[string]string{}
	done := map[string]bool{}
	lastWait := "" // the last firstBootWait said
	for {
		for _, n := range w.nodes {
			if done[n.name] || ctx.Err() != nil {
				continue
			}
			msg, tl, c := w.look(ctx, n)
			if ctx.Err() != nil {
				return
			}
			w.note(n, msg, tl, c, time.Now())
			if tl.State == bootlog.Failed {
				fmt.Fprintf(w.progress, "boot %s: %s\n", n.name, msg)
				cancel(&bootFailed{node: n.name, id: n.id, step: *tl.Failed, last: bootlog.LastLines(c.Text, w.lines)})
				return
			}
			if msg != last[n.name] {
				fmt.Fprintf(w.progress, "boot %s: %s\n", n.name, msg)
				last[n.name] = msg
			}
			done[n.name] = tl.State == bootlog.Done
		}
		if note := w.firstBootWait(); note != lastWait {
			if note != "" {
				fmt.Fprintf(w.progress, "boot: %s\n", note)
			}
			lastWait = note
		}
		if len(done) == len(w.nodes) && allTrue(done) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.interval):
		}
	}
}

func allTrue(m map[string]bool) bool {
	for _, v := range m {
		if !v {
			return false
		}
	}
	return true
}

// look reads one node's console and says where its boot is.
func (w *bootWatch) look(ctx context.Context, n bootNode) (string, bootlog.Timeline, ec2ops.Console) {
	c, err := w.reader.Read(ctx, n.id)
	if err != nil {
		return fmt.Sprintf("cannot read the console of %s: %v", n.id, err), bootlog.Timeline{State: bootlog.Unknown}, c
	}
	note := ""
	if c.Buffered {
		note = " (EC2 gives this instance type's console only as buffered around state changes, so it lags)"
	}
	if c.Text == "" {
		return "console of " + n.id + " not available yet (EC2 has no output for it so far)" + note, bootlog.Timeline{State: bootlog.Unknown}, c
	}
	tl := nodeTimeline(n.name, c.Text)
	if tl.State == bootlog.Unknown {
		return "console of " + n.id + " shows no boot step yet (cloud-init has not reached the boot script)" + note, tl, c
	}
	return tl.Summary() + w.budgetNote(n.name, tl) + note, tl, c
}

// budgetNote holds a node's boot against its role's budget: the budget of
// the step it is in, and the steps that took longer than theirs.
func (w *bootWatch) budgetNote(name string, tl bootlog.Timeline) string {
	if w.budget == nil || tl.State == bootlog.Failed {
		return ""
	}
	checks := w.budget.CheckNode(bootbudget.NodeSteps{Node: name, Role: bootbudget.RoleOf(name),
		OSSeconds: ec2ops.NodeBoot{Timeline: tl}.OSStartSeconds(), Steps: tl.Steps})
	var note string
	var over []string
	for _, c := range checks {
		if c.Over {
			over = append(over, fmt.Sprintf("%s %s of %s", c.Step, seconds(c.TookSeconds), seconds(c.BudgetSeconds)))
		}
		if c.TookSeconds < 0 && tl.State == bootlog.Running && slices.ContainsFunc(tl.Steps, func(s bootlog.Step) bool { return s.Name == c.Step && s.End < 0 }) {
			note += fmt.Sprintf("; budget of %s %s", c.Step, seconds(c.BudgetSeconds))
		}
	}
	if len(over) > 0 {
		note += "; over budget: " + strings.Join(over, ", ")
	}
	return note
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// nodeTimeline is the timeline on one instance's console: the node's own,
// or the only node's there if it names itself otherwise.
func nodeTimeline(name, text string) bootlog.Timeline {
	tls := bootlog.Timelines(text)
	for _, tl := range tls {
		if tl.Node == name {
			return tl
		}
	}
	if len(tls) == 1 {
		return tls[0]
	}
	return bootlog.Timeline{Node: name, State: bootlog.Unknown}
}

// watchBoot starts the watch when there are nodes to watch and says so
// plainly when there are not; stop ends it, waits for it, and returns
// report's account of the boots that had not finished ("" if none, or no
// watch).
func watchBoot(ctx context.Context, o options, progress io.Writer) (context.Context, func() string) {
	nodes, err := parseInstances(o.instances)
	agentsOf := os.Getenv(envAgentsOf)
	if err == nil && (len(nodes) > 0 || agentsOf != "") {
		if msg, ok := credentialsForBootWatch(ctx, o); !ok {
			fmt.Fprintln(progress, msg)
			return ctx, func() string { return "" }
		}
	}
	if err == nil {
		nodes, err = withGroupAgents(ctx, nodes, agentsOf, o.region, o.awsProfile)
	}
	if err == nil && len(nodes) == 0 {
		err = errors.New("no instance ids (--instances or MHA_BOOT_INSTANCES)")
	}
	var api ec2ops.ConsoleAPI
	if err == nil {
		api, err = ec2ops.ConnectConsoles(ctx, o.region, o.awsProfile)
	}
	if err != nil {
		fmt.Fprintf(progress, "%s: cannot see the nodes' consoles, so no boot progress is shown: %v\n", program, err)
		return ctx, func() string { return "" }
	}
	w := &bootWatch{reader: ec2ops.NewConsoleReader(api, consoleCallTimeout), nodes: nodes,
		interval: o.consoleInterval, lines: o.consoleLines, progress: progress,
		stallAfter: o.stallWarning, seen: map[string]*nodeSeen{}}
	if o.driver != "" {
		if b, err := bootbudget.New(o.driver); err != nil {
			fmt.Fprintf(progress, "%s: no boot budget shown: %v\n", program, err)
		} else {
			w.budget = &b
		}
	}
	wctx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.run(wctx, cancel)
	}()
	var once sync.Once
	return wctx, func() string {
		once.Do(func() {
			cancel(nil)
			wg.Wait()
		})
		return w.report(time.Now())
	}
}

// bootError returns the failed boot that ended ctx, if one did.
func bootError(ctx context.Context) error {
	var bf *bootFailed
	if errors.As(context.Cause(ctx), &bf) {
		return bf
	}
	return nil
}

// lockedWriter lets the boot watch and the Marathon client share stderr.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
