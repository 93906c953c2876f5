package ec2ops_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// A master scope finds the stack's masters and refuses its agents and
// untagged instances, as the agent scope refuses masters.
func TestFindMasterByPrivateIP(t *testing.T) {
	srv, c := setup(t)
	srv.AddInstance(ec2test.Instance{ID: "i-0master", PrivateIP: "10.42.1.11", Tags: tags(stack, cluster, facts.RoleMaster)})
	srv.AddInstance(ec2test.Instance{ID: "i-0agent", PrivateIP: "10.42.1.101", Tags: tags(stack, cluster, facts.RoleAgent)})
	srv.AddInstance(ec2test.Instance{ID: "i-0untagged", PrivateIP: "10.42.1.12", Tags: tags("", "", "")})
	masters := ec2ops.Scope{Stack: stack, ClusterID: cluster, Role: facts.RoleMaster}
	ctx := context.Background()

	in, err := c.FindByPrivateIP(ctx, masters, "10.42.1.11")
	if err != nil || in.ID != "i-0master" || in.Role != facts.RoleMaster {
		t.Fatalf("FindByPrivateIP(master 2) = %+v, %v", in, err)
	}
	for ip, want := range map[string]string{"10.42.1.101": `tag marathon-ha:role is "agent" (want "master")`, "10.42.1.12": "tag marathon-ha:stack is missing"} {
		_, err := c.FindByPrivateIP(ctx, masters, ip)
		if !errors.Is(err, ec2ops.ErrNotInScope) || !strings.Contains(err.Error(), "not a master of stack") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want a refusal saying %q", ip, err, want)
		}
	}
	// The agent scope (the default) refuses the master.
	if _, err := c.FindByPrivateIP(ctx, scope, "10.42.1.11"); !errors.Is(err, ec2ops.ErrNotInScope) || !strings.Contains(err.Error(), "not an agent of stack") {
		t.Errorf("agent scope on a master: err %v, want a refusal", err)
	}
	// Terminate checks the role again.
	if _, err := c.TerminateWith(ctx, masters, "i-0agent", ec2ops.TerminateOptions{SkipOSShutdown: true}); !errors.Is(err, ec2ops.ErrNotInScope) {
		t.Errorf("terminating an agent in the master scope: err %v, want a refusal", err)
	}
	if n := len(srv.Calls("TerminateInstances")); n != 0 {
		t.Errorf("%d TerminateInstances calls, want none", n)
	}
}
