package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// marathonURLs is every master's Marathon, comma-separated, for
// marathon.New to fail over between.
func marathonURLs(o stackoutputs.Outputs) string {
	if len(o.MarathonURLs) > 0 {
		return strings.Join(o.MarathonURLs, ",")
	}
	return o.MarathonURL
}

// runMaster finds every leader, kills a master (--target
// marathon-leader, mesos-leader, zookeeper-leader or master N) and
// watches the elections of what it held, the agents, a canary and the
// app.
func runMaster(ctx context.Context, o options, d deps, outs stackoutputs.Outputs, human io.Writer, fail func(string, ...any) int) int {
	m, err := marathon.New(marathonURLs(outs))
	if err != nil {
		return fail("%v", err)
	}
	api, err := d.connect(ctx, outs.Region)
	if err != nil {
		return fail("%v", err)
	}
	e := ec2ops.New(api)
	zk := failover.NewZooKeeperProbe(failover.ZooKeeperAddrs(outs), 0)
	if d.zooKeeper != nil {
		zk = d.zooKeeper(outs)
	}
	mesos := failover.NewMesosProbe(outs.MesosURLs, nil)
	findCtx, cancel := context.WithTimeout(ctx, o.marathonWait)
	target, inst, err := failover.FindMasterWith(findCtx, m, e, outs, o.target, mesos, zk)
	cancel()
	if err != nil {
		return fail("%v", err)
	}
	budget, err := failover.NewMasterBudget(outs.Failover, target.BudgetCase())
	if err != nil {
		return fail("%v", err)
	}
	lead := "not the Marathon leader"
	if target.Leading {
		lead = "the Marathon leader"
	}
	fmt.Fprintf(human, "leaders: %s\n", target.Leaders)
	fmt.Fprintf(human, "master %d of %d is %s and holds %s (/v2/leader: %s); app %s runs as task %s on agent %s and must keep running\n",
		target.Index, len(outs.MasterPrivateIPs), lead, target.Held, target.Leader, target.AppID, target.TaskID, target.AppHost)
	fmt.Fprint(human, budget.String())
	fmt.Fprintf(human, "target: instance %s, private IP %s, %s, stack %s in %s\n", target.InstanceID, target.PrivateIP, inst.State, outs.Stack, outs.Region)
	for _, k := range sortedTags(inst.Tags) {
		fmt.Fprintf(human, "  tag %s = %s\n", k, inst.Tags[k])
	}
	if o.dryRun {
		fmt.Fprintf(human, "dry run: would terminate master instance %s (crash) and watch the elections; nothing was terminated\n", target.InstanceID)
		return 0
	}
	if !o.yes && !confirm(d.stdin, human, target.InstanceID) {
		return fail("not confirmed: instance %s was not terminated", target.InstanceID)
	}
	app := mobycounter.New(outs.AppURL)
	if err := app.Ping(ctx); err != nil {
		return fail("the app does not answer through %s before the kill: %v; instance %s was not terminated", outs.AppURL, err, target.InstanceID)
	}
	if len(outs.AgentPrivateIPs) == 0 {
		// A group's agents: no output names them; the watch waits for
		// the ones live now, found by tag, to re-register.
		if outs.AgentPrivateIPs, err = e.LiveAgentAddresses(ctx, outs.ClusterID); err != nil {
			return fail("%v", err)
		}
	}
	killedAt, err := failover.KillMaster(ctx, e, outs, target)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(human, "terminate (crash) requested for master %d, %s at %s\n", target.Index, target.InstanceID, killedAt.UTC().Format(time.RFC3339Nano))
	if o.noWatch {
		fmt.Fprintln(human, "not watching the recovery (--no-watch)")
		return 0
	}
	r, err := failover.WatchMaster(ctx, failover.MasterWatchConfig{Outputs: outs, Target: target, KilledAt: killedAt, Marathon: m, EC2: e, App: app,
		Mesos: mesos, ZooKeeper: zk, Interval: o.interval, Deadline: o.timeout, Progress: human})
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprint(human, r.Summary())
	if o.svgFile != "" {
		if err := failover.WriteSVGFile(o.svgFile, r.AsReport(), failover.SVGOptions{}); err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(human, "timeline drawn in %s\n", o.svgFile)
	}
	if o.jsonOut {
		enc := json.NewEncoder(d.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fail("writing the JSON report: %v", err)
		}
	}
	// Judged as the rehearsal's master drill is: the case's master budget
	// plus --margin, or --rto-limit; the leaderless times against theirs
	// plus the same margin (MasterReport.Problems).
	limit, _ := failover.RTOLimit(r.Budget, o.rtoLimit, o.margin)
	if p := r.Problems(limit); len(p) > 0 {
		for _, line := range p {
			fmt.Fprintf(d.stderr, "%s: FAILED: %s\n", program, line)
		}
		return 1
	}
	return 0
}

// sortedTags are the tag keys in order.
func sortedTags(tags map[string]string) []string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
