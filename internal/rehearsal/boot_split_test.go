package rehearsal

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
)

func bootNode(name string, launch time.Time, uptime, elapsed int, state string) ec2ops.NodeBoot {
	return ec2ops.NodeBoot{InstanceID: "i-" + name, LaunchTime: launch, Console: ec2ops.ConsoleLatest, Timeline: bootlog.Timeline{
		Node: name, State: state, Elapsed: elapsed,
		Steps: []bootlog.Step{{Name: bootlog.Boot, Start: 0, End: elapsed, State: state, Detail: "uptime=" + strconv.Itoa(uptime) + "s"}},
	}}
}

func TestBootSplitEdges(t *testing.T) {
	up := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	adds := func(t *testing.T, b *BootTimeline) {
		t.Helper()
		if sum := b.CreateSeconds + b.BootSeconds + b.DeploySeconds; math.Abs(sum-b.TotalSeconds) > 1e-9 || b.CreateSeconds < 0 || b.BootSeconds < 0 || b.DeploySeconds < 0 {
			t.Errorf("split %v + %v + %v, total %v", b.CreateSeconds, b.BootSeconds, b.DeploySeconds, b.TotalSeconds)
		}
	}
	notes := func(b *BootTimeline) string { return strings.Join(b.Notes, "\n") }

	// The app never served: the nodes are kept, nothing is split.
	b := &BootTimeline{UpStartedAt: up, Nodes: []ec2ops.NodeBoot{bootNode("master", up.Add(time.Minute), 30, 100, bootlog.Done)}}
	b.split()
	if b.TotalSeconds != 0 || b.LastBooted != "" || !strings.Contains(notes(b), "never served") {
		t.Errorf("not served: %+v", b)
	}

	// A boot that would end after the serving (clocks that disagree) is cut.
	b = &BootTimeline{UpStartedAt: up, ServingAt: up.Add(200 * time.Second),
		Nodes: []ec2ops.NodeBoot{bootNode("master", up.Add(time.Minute), 30, 300, bootlog.Done)}}
	b.split()
	adds(t, b)
	if b.CreateSeconds != 60 || b.BootSeconds != 140 || b.DeploySeconds != 0 || !strings.Contains(notes(b), "cut at the serving") {
		t.Errorf("cut: %+v", b)
	}

	// No finished boot: its time falls in the deployment, and a note says so.
	b = &BootTimeline{UpStartedAt: up, ServingAt: up.Add(300 * time.Second),
		Nodes: []ec2ops.NodeBoot{bootNode("master", up.Add(time.Minute), 30, 100, bootlog.Running)}}
	b.split()
	adds(t, b)
	if b.CreateSeconds != 60 || b.BootSeconds != 0 || b.DeploySeconds != 240 || !strings.Contains(notes(b), "no node's console showed a finished boot") {
		t.Errorf("unfinished: %+v", b)
	}

	// A launch time before up (clock skew) counts from up.
	b = &BootTimeline{UpStartedAt: up, ServingAt: up.Add(300 * time.Second),
		Nodes: []ec2ops.NodeBoot{bootNode("master", up.Add(-time.Minute), 30, 100, bootlog.Done)}}
	b.split()
	adds(t, b)
	if b.CreateSeconds != 0 || b.BootSeconds != 70 || b.DeploySeconds != 230 {
		t.Errorf("skewed: %+v", b)
	}
}
