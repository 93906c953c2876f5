package ec2test_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
)

// clock is a hand-stepped clock for deterministic transitions.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an AWS API error", err)
	}
	return ae.ErrorCode()
}

func TestDescribeInstancesThroughSDK(t *testing.T) {
	launch := time.Date(2015, 9, 29, 12, 0, 0, 0, time.UTC)
	srv := ec2test.NewServer()
	defer srv.Close()
	srv.AddInstance(ec2test.Instance{ID: "i-0agent1", PrivateIP: "10.0.1.11", LaunchTime: launch,
		Tags: map[string]string{"role": "agent", "Name": "node1"}})
	srv.AddInstance(ec2test.Instance{ID: "i-0agent2", PrivateIP: "10.0.1.12", State: ec2test.StateStopped})

	out, err := srv.Client().DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{
		Filters: []types.Filter{
			{Name: aws.String("private-ip-address"), Values: []string{"10.0.1.11", "10.0.1.12"}},
			{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}},
			{Name: aws.String("tag:role"), Values: []string{"ag*"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("want exactly the running agent, got %+v", out.Reservations)
	}
	in := out.Reservations[0].Instances[0]
	if aws.ToString(in.InstanceId) != "i-0agent1" || aws.ToString(in.PrivateIpAddress) != "10.0.1.11" ||
		in.State.Name != types.InstanceStateNameRunning || aws.ToInt32(in.State.Code) != 16 ||
		!aws.ToTime(in.LaunchTime).Equal(launch) ||
		aws.ToString(in.Placement.AvailabilityZone) != ec2test.AvailabilityZone || len(in.Tags) != 2 {
		t.Errorf("instance parsed as %+v", in)
	}
}

func TestDescribeInstancesUnknownIDAndFilter(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	c := srv.Client()
	_, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{"i-missing"}})
	if code := apiCode(t, err); code != "InvalidInstanceID.NotFound" {
		t.Errorf("unknown id: code %q", code)
	}
	_, err = c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{
		Filters: []types.Filter{{Name: aws.String("private-ip"), Values: []string{"x"}}}})
	if code := apiCode(t, err); code != "InvalidParameterValue" {
		t.Errorf("misspelt filter: code %q", code)
	}
}

func TestTerminationDetachesAndDeletesVolumes(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := ec2test.NewServer(ec2test.WithClock(clk.now), ec2test.WithShutdownDelay(10*time.Second), ec2test.WithDetachDelay(5*time.Second))
	defer srv.Close()
	srv.AddInstance(ec2test.Instance{ID: "i-1", PrivateIP: "10.0.1.11"})
	srv.AddVolume(ec2test.Volume{ID: "vol-root", AttachedTo: "i-1", Device: "/dev/sda1", DeleteOnTermination: true})
	srv.AddVolume(ec2test.Volume{ID: "vol-data", AttachedTo: "i-1"})
	c := srv.Client()
	ctx := context.Background()

	out, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.TerminatingInstances[0]; got.CurrentState.Name != types.InstanceStateNameShuttingDown || got.PreviousState.Name != types.InstanceStateNameRunning {
		t.Errorf("state change %v -> %v, want running -> shutting-down", got.PreviousState.Name, got.CurrentState.Name)
	}
	volumeStatus := func() (types.VolumeState, string) {
		t.Helper()
		v, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-data"}})
		if err != nil {
			t.Fatal(err)
		}
		att := ""
		if len(v.Volumes[0].Attachments) > 0 {
			att = string(v.Volumes[0].Attachments[0].State)
		}
		return v.Volumes[0].State, att
	}
	if st, att := volumeStatus(); st != types.VolumeStateInUse || att != "attached" {
		t.Errorf("while shutting down: %s/%s, want in-use/attached", st, att)
	}
	_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String("vol-data")})
	if code := apiCode(t, err); code != "VolumeInUse" {
		t.Errorf("deleting an attached volume: code %q, want VolumeInUse", code)
	}

	clk.step(10 * time.Second)
	if in, _ := srv.Instance("i-1"); in.State != ec2test.StateTerminated {
		t.Errorf("after the shutdown delay the instance is %s", in.State)
	}
	if _, ok := srv.Volume("vol-root"); ok {
		t.Error("the DeleteOnTermination root volume survived its instance")
	}
	if st, att := volumeStatus(); st != types.VolumeStateInUse || att != "detaching" {
		t.Errorf("after termination: %s/%s, want in-use/detaching", st, att)
	}
	clk.step(5 * time.Second)
	if st, att := volumeStatus(); st != types.VolumeStateAvailable || att != "" {
		t.Errorf("after the detach delay: %s/%s, want available and no attachment", st, att)
	}
	if _, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String("vol-data")}); err != nil {
		t.Fatalf("deleting the available volume: %v", err)
	}
	if ids := srv.VolumeIDs(); len(ids) != 0 {
		t.Errorf("volumes left: %v", ids)
	}
	_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String("vol-data")})
	if code := apiCode(t, err); code != "InvalidVolume.NotFound" {
		t.Errorf("deleting twice: code %q", code)
	}
}

func TestVolumeFiltersAndPagination(t *testing.T) {
	srv := ec2test.NewServer(ec2test.WithPageSize(2))
	defer srv.Close()
	for _, id := range []string{"vol-1", "vol-2", "vol-3", "vol-4", "vol-5"} {
		srv.AddVolume(ec2test.Volume{ID: id, Tags: map[string]string{"flocker-cluster-id": "u-1"}})
	}
	srv.AddVolume(ec2test.Volume{ID: "vol-other", Tags: map[string]string{"flocker-cluster-id": "u-2"}})
	srv.AddVolume(ec2test.Volume{ID: "vol-untagged"})

	var got []string
	p := ec2.NewDescribeVolumesPaginator(srv.Client(), &ec2.DescribeVolumesInput{
		Filters: []types.Filter{{Name: aws.String("tag:flocker-cluster-id"), Values: []string{"u-1"}}}})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Volumes {
			got = append(got, aws.ToString(v.VolumeId))
		}
	}
	if want := []string{"vol-1", "vol-2", "vol-3", "vol-4", "vol-5"}; !slices.Equal(got, want) {
		t.Errorf("paged volumes %v, want %v", got, want)
	}
	if n := len(srv.Calls("DescribeVolumes")); n != 3 {
		t.Errorf("%d DescribeVolumes calls for 5 volumes in pages of 2, want 3", n)
	}
}

func TestFaultInjection(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	srv.AddVolume(ec2test.Volume{ID: "vol-1"})
	c := srv.Client()
	ctx := context.Background()

	// Throttling is retried by the SDK: the caller never sees it.
	srv.Fail("DeleteVolume", 1, http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
	if _, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String("vol-1")}); err != nil {
		t.Fatalf("throttled once: %v", err)
	}
	if n := len(srv.Calls("DeleteVolume")); n != 2 {
		t.Errorf("%d DeleteVolume calls, want 2 (one throttled, one retried)", n)
	}

	srv.Fail("DescribeVolumes", -1, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	for range 2 {
		_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
		if code := apiCode(t, err); code != "UnauthorizedOperation" {
			t.Errorf("code %q, want UnauthorizedOperation", code)
		}
	}
}

func TestUnsignedRequestIsRefused(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	resp, err := http.PostForm(srv.URL, map[string][]string{"Action": {"DescribeVolumes"}, "Version": {"2016-11-15"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned request: status %d, want 401", resp.StatusCode)
	}
}
