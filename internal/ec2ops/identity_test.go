package ec2ops_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ststest"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

func TestCheckAccount(t *testing.T) {
	ours := ststest.Identity{AccessKeyID: "AKIDOURS", SecretAccessKey: "s1", Account: "123456789012"}
	theirs := ststest.Identity{AccessKeyID: "AKIDTHEIRS", SecretAccessKey: "s2", Account: "210987654321"}
	srv := ststest.NewServer(ours, theirs)
	t.Cleanup(srv.Close)
	ctx := context.Background()

	id, err := ec2ops.CheckAccount(ctx, srv.Client(ours, "eu-west-1"), "123456789012")
	if err != nil || id.Account != "123456789012" || id.ARN != "arn:aws:iam::123456789012:user/operator" {
		t.Errorf("own account: %+v, %v", id, err)
	}
	id, err = ec2ops.CheckAccount(ctx, srv.Client(theirs, "eu-west-1"), "123456789012")
	if !errors.Is(err, ec2ops.ErrWrongAccount) || id.Account != "210987654321" {
		t.Fatalf("other account: %+v, %v", id, err)
	}
	for _, want := range []string{"account 210987654321", "in account 123456789012", "would find nothing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	bad := ststest.Identity{AccessKeyID: "AKIDOURS", SecretAccessKey: "stale"}
	_, err = ec2ops.CheckAccount(ctx, srv.Client(bad, "eu-west-1"), "123456789012")
	if err == nil || errors.Is(err, ec2ops.ErrWrongAccount) || !strings.Contains(err.Error(), "SignatureDoesNotMatch") || !strings.Contains(err.Error(), "check the AWS credentials") {
		t.Errorf("bad secret: %v, want the STS error and the fix", err)
	}
}

func TestLiveAgentsAndFindVolumes(t *testing.T) {
	srv, c := setup(t)
	srv.AddInstance(ec2test.Instance{ID: "i-0running", Tags: tags(stack, cluster, facts.RoleAgent)})
	srv.AddInstance(ec2test.Instance{ID: "i-0stopped", State: ec2test.StateStopped, Tags: tags(stack, cluster, facts.RoleAgent)})
	srv.AddInstance(ec2test.Instance{ID: "i-0going", State: ec2test.StateShuttingDown, Tags: tags(stack, cluster, facts.RoleAgent)})
	srv.AddInstance(ec2test.Instance{ID: "i-0master", Tags: tags(stack, cluster, facts.RoleMaster)})
	srv.AddInstance(ec2test.Instance{ID: "i-0othercluster", Tags: tags(stack, "deadbeef", facts.RoleAgent)})
	srv.AddVolume(ec2test.Volume{ID: "vol-0ours", AttachedTo: "i-0running", Tags: flockerTags(ourUUID, "d1")})
	srv.AddVolume(ec2test.Volume{ID: "vol-0theirs", Tags: flockerTags(otherUUID, "d2")})

	live, err := c.LiveAgents(context.Background(), cluster)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range live {
		ids = append(ids, in.ID)
	}
	if !slices.Equal(ids, []string{"i-0running", "i-0stopped"}) {
		t.Errorf("live agents %v: want the running and the stopped agent of the cluster only", ids)
	}
	if _, err := c.LiveAgents(context.Background(), "*"); err == nil {
		t.Error("a wildcard cluster id was accepted")
	}

	found, err := c.FindVolumes(context.Background(), flockerSel)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0] != "vol-0ours (100 GiB gp2 in us-east-1a, in-use, attached to i-0running as /dev/xvdf: attached)" {
		t.Errorf("found %q", found)
	}
	if n := len(srv.Calls("DeleteVolume")); n != 0 {
		t.Errorf("FindVolumes made %d DeleteVolume calls", n)
	}
}
