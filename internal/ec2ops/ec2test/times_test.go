package ec2test_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
)

// EC2's own times: when an instance reached terminated, when its volume's
// attachment ended, and when the next attachment was made (also the API's
// attachTime).
func TestTerminationAndAttachmentTimes(t *testing.T) {
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	start := clk.now()
	srv := ec2test.NewServer(ec2test.WithClock(clk.now), ec2test.WithShutdownDelay(2*time.Second), ec2test.WithDetachDelay(time.Second))
	defer srv.Close()
	srv.AddInstance(ec2test.Instance{ID: "i-0old"})
	srv.AddInstance(ec2test.Instance{ID: "i-0new"})
	srv.AddVolume(ec2test.Volume{ID: "vol-1", AttachedTo: "i-0old"})
	if v, _ := srv.Volume("vol-1"); !v.AttachTime.Equal(start) {
		t.Errorf("seeded attachment made at %s, want %s", v.AttachTime, start)
	}
	clk.step(time.Second)
	ctx := context.Background()
	if _, err := srv.Client().TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0old"}, SkipOsShutdown: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	clk.step(10 * time.Second)
	in, _ := srv.Instance("i-0old")
	v, _ := srv.Volume("vol-1")
	if want := start.Add(3 * time.Second); !in.TerminatedAt.Equal(want) {
		t.Errorf("terminated at %s, want %s", in.TerminatedAt, want)
	}
	if want := start.Add(4 * time.Second); !v.DetachedAt.Equal(want) || v.AttachedTo != "" {
		t.Errorf("volume %+v, want detached at %s", v, want)
	}
	if err := srv.AttachVolume("vol-1", "i-0new", ""); err != nil {
		t.Fatal(err)
	}
	v, _ = srv.Volume("vol-1")
	if !v.AttachTime.Equal(clk.now()) {
		t.Errorf("attached at %s, want now %s", v.AttachTime, clk.now())
	}
	out, err := srv.Client().DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-1"}})
	if err != nil || len(out.Volumes[0].Attachments) != 1 || !aws.ToTime(out.Volumes[0].Attachments[0].AttachTime).Equal(clk.now()) {
		t.Errorf("DescribeVolumes attachments %+v, %v", out, err)
	}
}
