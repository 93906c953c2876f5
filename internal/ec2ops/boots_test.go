package ec2ops_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

func TestClusterBoots(t *testing.T) {
	s := ec2test.NewServer()
	defer s.Close()
	launch := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tags := func(role, name string) map[string]string {
		return map[string]string{facts.TagClusterID: cluster, facts.TagRole: role, facts.TagName: name}
	}
	// Agents first, so the order of the answer is ClusterBoots's own.
	s.AddInstance(ec2test.Instance{ID: "i-a2", Tags: tags(facts.RoleAgent, "mha-agent-2")})
	s.AddInstance(ec2test.Instance{ID: "i-a1", Tags: tags(facts.RoleAgent, "mha-agent-1")})
	s.AddInstance(ec2test.Instance{ID: "i-m", Tags: tags(facts.RoleMaster, "mha-master-1")})
	s.AddInstance(ec2test.Instance{ID: "i-other", Tags: map[string]string{facts.TagClusterID: "other", facts.TagRole: facts.RoleAgent}})
	s.SetLaunchTime("i-m", launch)
	s.AppendConsole("i-m", "marathon-ha boot master boot start 0s uptime=31s\n"+
		"marathon-ha boot master pull-images start 3s\nmarathon-ha boot master pull-images done 90s\n"+
		"marathon-ha boot master boot done 120s\n")
	s.AppendConsole("i-a1", "marathon-ha boot agent-1 boot start 0s\nmarathon-ha boot agent-1 pull-images start 2s\n")
	// i-a2's console is empty.
	boots, err := ec2ops.New(s.Client()).ClusterBoots(context.Background(), cluster, ec2ops.NewConsoleReader(s.Client(), 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(boots) != 3 || boots[0].InstanceID != "i-m" || boots[1].InstanceID != "i-a1" || boots[2].InstanceID != "i-a2" {
		t.Fatalf("boots %+v, want the master, then agent-1, then agent-2, and not the other cluster's", boots)
	}
	m, a1, a2 := boots[0], boots[1], boots[2]
	if !m.LaunchTime.Equal(launch) || m.State != bootlog.Done || m.Elapsed != 120 || m.OSStartSeconds() != 31 || m.Console != ec2ops.ConsoleLatest || m.Role != facts.RoleMaster {
		t.Errorf("master %+v (uptime %d)", m, m.OSStartSeconds())
	}
	if a1.State != bootlog.Running || a1.Current() == nil || a1.Current().Name != "pull-images" || a1.OSStartSeconds() != -1 {
		t.Errorf("agent-1 %+v", a1)
	}
	if a2.Console != ec2ops.ConsoleEmpty || a2.State != bootlog.Unknown || a2.Node != "mha-agent-2" {
		t.Errorf("agent-2 %+v, want an empty console named by its Name tag", a2)
	}

	// A console that cannot be read is that node's, not the whole's.
	s.Fail("GetConsoleOutput", 1, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	boots, err = ec2ops.New(s.Client()).ClusterBoots(context.Background(), cluster, ec2ops.NewConsoleReader(s.Client(), 0))
	if err != nil || len(boots) != 3 {
		t.Fatalf("boots %+v, %v", boots, err)
	}
	unreadable := 0
	for _, b := range boots {
		if b.Console == ec2ops.ConsoleUnreadable {
			unreadable++
			if !strings.Contains(b.Error, "ec2:GetConsoleOutput") {
				t.Errorf("error %q does not name the permission", b.Error)
			}
		}
	}
	if unreadable != 1 {
		t.Errorf("%d unreadable consoles, want 1: %+v", unreadable, boots)
	}
}
