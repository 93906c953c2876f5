package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
)

// docs/masters.md shows the master budget of every case, with the
// cluster's ZooKeeper settings and with the images' defaults, the worst
// case's steps, and the settings themselves: all computed here from
// failover.MasterBudgetWith and facts.ZooKeeper (`go test . -run
// MastersDoc -update` rewrites the section).
func TestMastersDocBudgets(t *testing.T) {
	checkDocSection(t, "docs/masters.md", "master-budget", masterBudgetSection())
}

func masterBudgetSection() string {
	z, d := facts.ZooKeeper, facts.ZooKeeperImageDefaults
	var sb strings.Builder
	fmt.Fprintf(&sb, "| the lost master held | budget | without a Marathon leader | without a Mesos leader | with the images' defaults |\n|---|---|---|---|---|\n")
	for _, h := range failover.MasterCases {
		b, bd := failover.MasterBudgetWith(z, h), failover.MasterBudgetWith(d, h)
		marathon := b.MarathonLeaderless.String()
		if b.MarathonMayChange {
			marathon = "0s (" + marathon + " if its connection was to the lost server)"
		}
		mesos := "0s"
		if b.MesosLeaderless > 0 {
			mesos = b.MesosLeaderless.String()
		}
		over := ""
		if bd.Total > facts.MasterBudgetGoal {
			over = " (over the goal)"
		}
		fmt.Fprintf(&sb, "| %s | **%s** | %s | %s | %s%s |\n", h, b.Total, marathon, mesos, bd.Total, over)
	}
	fmt.Fprintf(&sb, "\nThe goal: %s for every case (facts.MasterBudgetGoal).\n\n", facts.MasterBudgetGoal)
	fmt.Fprintf(&sb, "| setting | the cluster's (facts.ZooKeeper) | the images' default |\n|---|---|---|\n")
	fmt.Fprintf(&sb, "| ZooKeeper tickTime (`ZOO_TICK_TIME`) | %s | %s |\n", z.TickTime, d.TickTime)
	fmt.Fprintf(&sb, "| ZooKeeper initLimit (`ZOO_INIT_LIMIT`) | %d ticks | %d ticks |\n", z.InitLimit, d.InitLimit)
	fmt.Fprintf(&sb, "| ZooKeeper syncLimit (`ZOO_SYNC_LIMIT`): followers drop a silent leader after | %d ticks = %s | %d ticks = %s |\n", z.SyncLimit, z.SyncTimeout(), d.SyncLimit, d.SyncTimeout())
	fmt.Fprintf(&sb, "| Mesos master `--zk_session_timeout` | %s | %s |\n", z.MesosSessionTimeout, d.MesosSessionTimeout)
	fmt.Fprintf(&sb, "| Marathon `--zk_session_timeout` (Curator SUSPENDED after 2/3 of it) | %s (%s) | %s (%s) |\n",
		z.MarathonSessionTimeout, facts.DisconnectAfter(z.MarathonSessionTimeout).Round(time.Millisecond),
		d.MarathonSessionTimeout, facts.DisconnectAfter(d.MarathonSessionTimeout).Round(time.Millisecond))
	fmt.Fprintf(&sb, "| sessions ZooKeeper accepts (2 to 20 ticks) | %s to %s | %s to %s |\n", z.MinSessionTimeout(), z.MaxSessionTimeout(), d.MinSessionTimeout(), d.MaxSessionTimeout())
	sb.WriteString("\n```\n")
	for _, h := range []failover.Held{{ZooKeeper: true, Mesos: true, Marathon: true}, {ZooKeeper: true}, {Mesos: true}, {Marathon: true}, {}} {
		sb.WriteString(failover.MasterBudgetWith(z, h).String())
		sb.WriteString("\n")
	}
	sb.WriteString("```\n")
	return sb.String()
}

// checkDocSection is checkREADMESection for another file.
func checkDocSection(t *testing.T, path, name, want string) {
	t.Helper()
	begin, end := "<!-- "+name+":begin -->", "<!-- "+name+":end -->"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, ok := replaceBetween(string(raw), begin, end, want)
	if !ok {
		t.Fatalf("%s has no %s ... %s section", path, begin, end)
	}
	if doc == string(raw) {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Errorf("%s %s section rewritten; run the tests again without -update", path, name)
		return
	}
	t.Errorf("%s's %s section is out of date; run `go test . -run MastersDoc -update`", path, name)
}
