package ec2ops_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

func agentTags(cluster string) map[string]string {
	return map[string]string{facts.TagStack: "dev", facts.TagClusterID: cluster, facts.TagRole: facts.RoleAgent, facts.TagProject: facts.Project}
}

// A killed agent of the group is replaced by the group after its modelled
// delays; WaitFullStrength sees the group lack it, then whole again, and
// the tools' tag look-ups (LiveAgents, FindByPrivateIP) find the
// replacement, which no stack output names.
func TestGroupReplacesAKilledAgentAndTheToolsFindIt(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	asg := ec2test.NewAutoScaling(srv)
	defer asg.Close()
	const cluster = "mha-0000cafe"
	for _, id := range []string{"i-0a0000000000000a1", "i-0a0000000000000a2"} {
		srv.AddInstance(ec2test.Instance{ID: id, PrivateIP: "10.42.1." + id[len(id)-1:], Tags: agentTags(cluster)})
	}
	launched := make(chan ec2test.Instance, 1)
	asg.AddGroup(ec2test.Group{Name: "dev-agents-1", Desired: 2, Tags: agentTags(cluster), LoadBalancers: []string{"dev-elb"},
		Members: []string{"i-0a0000000000000a1", "i-0a0000000000000a2"}, ReplaceDelay: 30 * time.Millisecond, LaunchDelay: 30 * time.Millisecond,
		OnLaunch: func(in ec2test.Instance) { launched <- in }})
	// Another cluster's group is never this one's.
	asg.AddGroup(ec2test.Group{Name: "other", Desired: 1, Tags: agentTags("mha-0000beef")})

	c := ec2ops.New(srv.Client(), ec2ops.WithPollInterval(5*time.Millisecond), ec2ops.WithAutoScaling(asg.Client()))
	scope := ec2ops.Scope{Stack: "dev", ClusterID: cluster}
	ctx := context.Background()
	g, err := c.AgentGroup(ctx, scope)
	if err != nil || !g.Full() || g.Name != "dev-agents-1" {
		t.Fatalf("group %v, %v: want dev-agents-1 at full strength", g, err)
	}

	if _, err := c.TerminateWith(ctx, scope, "i-0a0000000000000a1", ec2ops.TerminateOptions{SkipOSShutdown: true}); err != nil {
		t.Fatal(err)
	}
	if g, err := c.AgentGroup(ctx, scope); err != nil || g.Full() {
		t.Fatalf("group %v, %v right after the kill: want it short of an agent", g, err)
	}
	var progress bytes.Buffer
	took, g, err := c.WaitFullStrength(ctx, scope, &progress)
	if err != nil || !g.Full() || len(g.InService) != 2 || slices.Contains(g.InService, "i-0a0000000000000a1") {
		t.Fatalf("WaitFullStrength: %v %v\n%s", g, err, progress.String())
	}
	if took < 40*time.Millisecond {
		t.Errorf("full strength after %s: faster than the group's replace and launch delays", took)
	}
	if !strings.Contains(progress.String(), "Pending") {
		t.Errorf("progress never showed the replacement Pending:\n%s", progress.String())
	}
	in := <-launched
	if !slices.Contains(g.InService, in.ID) || in.Tags[facts.TagClusterID] != cluster || in.Tags[facts.TagRole] != facts.RoleAgent {
		t.Errorf("launched %+v: want a member, tagged at launch", in)
	}

	live, err := c.LiveAgents(ctx, cluster)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range live {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	if want := []string{"i-0a0000000000000a2", in.ID}; !slices.Equal(ids, want) {
		t.Errorf("live agents %v, want %v", ids, want)
	}
	if found, err := c.FindByPrivateIP(ctx, scope, in.PrivateIP); err != nil || found.ID != in.ID {
		t.Errorf("kill-node's look-up of %s: %+v %v", in.PrivateIP, found, err)
	}
}

func TestNoGroup(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	asg := ec2test.NewAutoScaling(srv)
	defer asg.Close()
	scope := ec2ops.Scope{Stack: "dev", ClusterID: "mha-0000cafe"}
	for name, c := range map[string]*ec2ops.Client{
		"no Auto Scaling API": ec2ops.New(srv.Client()),
		"no group":            ec2ops.New(srv.Client(), ec2ops.WithAutoScaling(asg.Client())),
	} {
		if _, err := c.AgentGroup(context.Background(), scope); !errors.Is(err, ec2ops.ErrNoGroup) {
			t.Errorf("%s: %v, want ErrNoGroup", name, err)
		}
	}
}
