package ec2ops_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

func TestConsoleReader(t *testing.T) {
	s := ec2test.NewServer()
	defer s.Close()
	for _, id := range []string{"i-nitro", "i-xen"} {
		s.AddInstance(ec2test.Instance{ID: id})
	}
	s.SetConsoleLatestUnsupported("i-xen")
	s.AppendConsole("i-nitro", "marathon-ha boot master boot start 0s\n")
	s.AppendConsole("i-xen", "buffered\n")
	r := ec2ops.NewConsoleReader(s.Client(), 0)
	ctx := context.Background()

	c, err := r.Read(ctx, "i-nitro")
	if err != nil || c.Text != "marathon-ha boot master boot start 0s\n" || c.Buffered || c.Updated.IsZero() {
		t.Errorf("nitro: %+v, %v", c, err)
	}
	for range 2 {
		c, err = r.Read(ctx, "i-xen")
		if err != nil || c.Text != "buffered\n" || !c.Buffered {
			t.Errorf("xen: %+v, %v", c, err)
		}
	}
	latest := 0
	for _, q := range s.Calls("GetConsoleOutput") {
		if q.Params.Get("InstanceId") == "i-xen" && q.Params.Get("Latest") == "true" {
			latest++
		}
	}
	if latest != 1 {
		t.Errorf("Latest=true asked %d times of the Xen instance, want once", latest)
	}

	// No fallback for an unknown instance; a denied call names the permission.
	if _, err := r.Read(ctx, "i-gone"); err == nil || !strings.Contains(err.Error(), "InvalidInstanceID.NotFound") {
		t.Errorf("unknown instance: %v", err)
	}
	s.Fail("GetConsoleOutput", 1, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	if _, err := r.Read(ctx, "i-nitro"); err == nil || !strings.Contains(err.Error(), "ec2:GetConsoleOutput") {
		t.Errorf("denied: %v", err)
	}
}

func TestClusterInstances(t *testing.T) {
	s := ec2test.NewServer()
	defer s.Close()
	s.AddInstance(ec2test.Instance{ID: "i-m", Tags: map[string]string{facts.TagClusterID: cluster, facts.TagRole: facts.RoleMaster}})
	s.AddInstance(ec2test.Instance{ID: "i-a", Tags: map[string]string{facts.TagClusterID: cluster, facts.TagRole: facts.RoleAgent}})
	s.AddInstance(ec2test.Instance{ID: "i-dead", State: ec2test.StateTerminated, Tags: map[string]string{facts.TagClusterID: cluster}})
	s.AddInstance(ec2test.Instance{ID: "i-other", Tags: map[string]string{facts.TagClusterID: "other"}})
	got, err := ec2ops.New(s.Client()).ClusterInstances(context.Background(), cluster)
	if err != nil || len(got) != 2 {
		t.Fatalf("ClusterInstances = %+v, %v; want i-m and i-a", got, err)
	}
	if _, err := ec2ops.New(s.Client()).ClusterInstances(context.Background(), "*"); err == nil {
		t.Error("a wildcard cluster id was accepted")
	}
}
