package failovertest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// waitFor polls cond every millisecond for up to 5 s: the harness reacts
// in milliseconds, the bound only ends a broken test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// terminate crashes the instance: TerminateInstances with SkipOsShutdown.
func terminate(t *testing.T, c *failovertest.Cluster, id string) {
	t.Helper()
	terminateWith(t, c, id, true)
}

func terminateWith(t *testing.T, c *failovertest.Cluster, id string, skipOSShutdown bool) {
	t.Helper()
	at, err := c.EC2().TerminateWith(context.Background(), failover.Scope(c.Outputs()), id, ec2ops.TerminateOptions{SkipOSShutdown: skipOSShutdown})
	if err != nil || at.IsZero() {
		t.Fatalf("terminating %s: requested at %v, %v", id, at, err)
	}
}

func TestStartServesTheAppOnTheFirstAgent(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	ctx := context.Background()
	if err := c.App().Ping(ctx); err != nil {
		t.Fatal(err)
	}
	agents := c.Agents()
	if len(agents) != 2 || c.TaskHost() != agents[0].Host {
		t.Fatalf("agents %+v, task on %s", agents, c.TaskHost())
	}
	tasks := c.MarathonServer().Tasks(facts.AppID)
	if len(tasks) != 1 || tasks[0].Host != agents[0].Host || tasks[0].State != marathontest.TaskRunning {
		t.Errorf("Marathon's tasks %+v", tasks)
	}
	for _, a := range agents {
		in, ok := c.EC2Server().Instance(a.InstanceID)
		if !ok || in.PrivateIP != a.Host || in.Tags[facts.TagStack] != failovertest.Stack ||
			in.Tags[facts.TagClusterID] != failovertest.ClusterID || in.Tags[facts.TagRole] != facts.RoleAgent || in.Tags[facts.TagProject] != facts.Project {
			t.Errorf("instance %s: %+v", a.InstanceID, in)
		}
	}
}

func TestOutputsAreAStacksOutputs(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{DetectionDelay: 90 * time.Millisecond, HealthInterval: 10 * time.Millisecond})
	raw, err := json.Marshal(c.Outputs())
	if err != nil {
		t.Fatal(err)
	}
	o, err := stackoutputs.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the outputs do not decode as a stack's: %v", err)
	}
	if o.MarathonURL != c.MarathonServer().URL() || o.AppURL != c.ELB().URL || o.AppTaskHost != c.Agents()[0].Host ||
		o.Stack != failovertest.Stack || o.ClusterID != failovertest.ClusterID || o.AppID != facts.AppID || len(o.AgentInstanceIDs) != 2 {
		t.Errorf("outputs %+v", o)
	}
	if o.VolumeDriver != facts.VolumeDriverRexRay {
		t.Errorf("volume driver %q, want the default %s", o.VolumeDriver, facts.VolumeDriverRexRay)
	}
	b, err := failover.NewBudget(o.Failover, o.VolumeDriver, failover.ModeCrash)
	if err != nil {
		t.Fatal(err)
	}
	// Detection 90 ms (3 pings of 30 ms) and 2 health checks of 10 ms, plus
	// the estimates; the fence's termination outlasts so short a detection.
	fence := facts.FenceLookupEstimate + max(0, facts.FenceEstimate-facts.FenceLookupEstimate-90*time.Millisecond)
	want := 90*time.Millisecond + fence + 20*time.Millisecond + facts.MarathonRelaunchEstimate + facts.RexRayVolumeMoveEstimate + facts.ContainerStartEstimate
	if b.Total != want {
		t.Errorf("budget %s, want %s", b.Total, want)
	}
}

func TestTerminationMovesTheAppWithItsClicks(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	ctx := context.Background()
	if err := c.App().Write(ctx, "1:1"); err != nil {
		t.Fatal(err)
	}
	agents := c.Agents()
	terminate(t, c, agents[0].InstanceID)
	// The app server died with its instance: the ELB cannot reach it.
	if err := c.App().Ping(ctx); err == nil {
		t.Error("the app still answers right after its instance was terminated")
	}
	waitFor(t, "the app to move to the second agent", func() bool { return c.TaskHost() == agents[1].Host && c.App().Ping(ctx) == nil })
	clicks, err := c.App().Read(ctx)
	if err != nil || strings.Join(clicks, ",") != "1:1" {
		t.Errorf("clicks after the move %v, %v", clicks, err)
	}
	if in, _ := c.EC2Server().Instance(agents[0].InstanceID); in.State != ec2test.StateShuttingDown && in.State != ec2test.StateTerminated {
		t.Errorf("instance state %s", in.State)
	}
}

func TestBufferedClicksDieWithTheInstance(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Buffered: true})
	ctx := context.Background()
	if err := c.App().Write(ctx, "2:2"); err != nil {
		t.Fatal(err)
	}
	terminate(t, c, c.Agents()[0].InstanceID)
	waitFor(t, "the app to come back", func() bool { return c.App().Ping(ctx) == nil })
	clicks, err := c.App().Read(ctx)
	if err != nil || len(clicks) != 0 {
		t.Errorf("clicks after the crash %v, %v; want none", clicks, err)
	}
}

func TestNeverRelaunch(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{NeverRelaunch: true, DetectionDelay: 5 * time.Millisecond})
	terminate(t, c, c.Agents()[0].InstanceID)
	waitFor(t, "the task to be unreachable", func() bool {
		ts := c.MarathonServer().Tasks(facts.AppID)
		return len(ts) == 0 || ts[0].State == marathontest.TaskUnreachable
	})
	// The second agent never registered with Mesos: nothing can take the task.
	if ts := c.MarathonServer().Tasks(facts.AppID); len(ts) > 0 && ts[len(ts)-1].Host == c.Agents()[1].Host {
		t.Errorf("the task was relaunched: %+v", ts)
	}
	if err := c.App().Ping(context.Background()); err == nil {
		t.Error("the app answers with no agent to run it")
	}
}

func TestUntaggedAgents(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{UntaggedAgents: true})
	in, _ := c.EC2Server().Instance(c.Agents()[0].InstanceID)
	if _, ok := in.Tags[facts.TagStack]; ok || in.Tags[facts.TagName] == "" {
		t.Errorf("tags %v, want only Name", in.Tags)
	}
}

func TestStopMarathonRefusesConnections(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	c.StopMarathon()
	_, err := http.Get(c.Outputs().MarathonURL + "/v2/info")
	var op *net.OpError
	if !errors.As(err, &op) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("GET after StopMarathon: %v, want connection refused", err)
	}
	// Mesos and the app go on without Marathon.
	if err := c.App().Ping(context.Background()); err != nil {
		t.Error(err)
	}
}
