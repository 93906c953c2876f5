package ec2test_test

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
)

// TerminateInstances takes SkipOsShutdown as the API names it: without it
// the OS shuts down first; with it the instance stops at once. The hook
// and the request log see which.
func TestTerminateWithAndWithoutOSShutdown(t *testing.T) {
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	type call struct {
		id   string
		skip bool
	}
	var hooked []call
	srv := ec2test.NewServer(ec2test.WithClock(clk.now), ec2test.WithOSShutdown(30*time.Second), ec2test.WithShutdownDelay(2*time.Second),
		ec2test.WithTerminateHook(func(id string, skip bool) { hooked = append(hooked, call{id, skip}) }))
	defer srv.Close()
	srv.AddInstance(ec2test.Instance{ID: "i-0graceful"})
	srv.AddInstance(ec2test.Instance{ID: "i-0crash"})
	ctx := context.Background()
	if _, err := srv.Client().TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0graceful"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client().TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0crash"}, SkipOsShutdown: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls("TerminateInstances")
	if calls[0].Params.Has("SkipOsShutdown") || calls[1].Params.Get("SkipOsShutdown") != "true" || calls[1].At.IsZero() {
		t.Errorf("requests %+v", calls)
	}
	if len(hooked) != 2 || hooked[0] != (call{"i-0graceful", false}) || hooked[1] != (call{"i-0crash", true}) {
		t.Errorf("hook saw %+v", hooked)
	}
	state := func(id string) string {
		in, _ := srv.Instance(id)
		return in.State
	}
	clk.step(2 * time.Second)
	if state("i-0crash") != ec2test.StateTerminated || state("i-0graceful") != ec2test.StateShuttingDown {
		t.Errorf("after 2 s: crash %s, graceful %s", state("i-0crash"), state("i-0graceful"))
	}
	clk.step(29 * time.Second)
	if state("i-0graceful") != ec2test.StateShuttingDown {
		t.Errorf("after 31 s the graceful one is %s, want shutting-down until 32 s", state("i-0graceful"))
	}
	clk.step(time.Second)
	if in, _ := srv.Instance("i-0graceful"); in.State != ec2test.StateTerminated || in.SkipOsShutdown {
		t.Errorf("after 32 s: %+v", in)
	}
	if in, _ := srv.Instance("i-0crash"); !in.SkipOsShutdown {
		t.Errorf("the crash is not recorded: %+v", in)
	}
}

// A parameter the action does not take is refused, as EC2 does; one EC2
// takes but the stand-in does not model is refused too, saying so.
func TestUnknownParametersAreRefused(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	srv.AddInstance(ec2test.Instance{ID: "i-0agent"})
	ctx := context.Background()
	_, err := srv.Client().TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0agent"}, Force: aws.Bool(true)})
	if apiCode(t, err) != "UnknownParameter" || !strings.Contains(err.Error(), "does not model TerminateInstances Force") {
		t.Errorf("Force: %v", err)
	}
	_, err = srv.Client().DescribeInstances(ctx, &ec2.DescribeInstancesInput{}, func(o *ec2.Options) {
		o.APIOptions = append(o.APIOptions, addFormParam("Bogus", "1"))
	})
	if apiCode(t, err) != "UnknownParameter" || !strings.Contains(err.Error(), "Bogus") {
		t.Errorf("Bogus: %v", err)
	}
	_, err = srv.Client().TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0agent"}}, func(o *ec2.Options) {
		o.APIOptions = append(o.APIOptions, addFormParam("SkipOsShutdown", "yes"))
	})
	if apiCode(t, err) != "InvalidParameterValue" {
		t.Errorf("SkipOsShutdown=yes: %v", err)
	}
	if in, _ := srv.Instance("i-0agent"); in.State != ec2test.StateRunning {
		t.Errorf("a refused call terminated the instance: %s", in.State)
	}
}

// AttachVolume and DetachVolume, which the drivers call, follow EC2's
// rules: a volume in use cannot be attached elsewhere; a forced detach
// completes whatever the instance does; a plain one is busy while the OS
// holds the volume, until the instance stops.
func TestAttachAndDetachRules(t *testing.T) {
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := ec2test.NewServer(ec2test.WithClock(clk.now), ec2test.WithAttachDelay(3*time.Second), ec2test.WithDetachDelay(time.Second),
		ec2test.WithShutdownDelay(10*time.Second))
	defer srv.Close()
	srv.AddInstance(ec2test.Instance{ID: "i-0old"})
	srv.AddInstance(ec2test.Instance{ID: "i-0new"})
	srv.AddInstance(ec2test.Instance{ID: "i-0far", AvailabilityZone: "us-east-1b"})
	srv.AddVolume(ec2test.Volume{ID: "vol-0app", AttachedTo: "i-0old"})
	vol := func() ec2test.Volume { v, _ := srv.Volume("vol-0app"); return v }

	if err := srv.AttachVolume("vol-0app", "i-0new", ""); err == nil || !strings.HasPrefix(err.Error(), "VolumeInUse") {
		t.Errorf("attach while in use: %v", err)
	}
	if _, err := srv.Client().TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0old"}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.DetachVolume("vol-0app", false); err != nil || vol().AttachState != "busy" {
		t.Fatalf("plain detach from a shutting-down instance: %v, %+v", err, vol())
	}
	clk.step(5 * time.Second)
	if v := vol(); v.AttachedTo != "i-0old" || v.AttachState != "busy" {
		t.Errorf("a busy detach completed before the instance stopped: %+v", v)
	}
	clk.step(6 * time.Second) // terminated at 10 s, detached 1 s later
	if v := vol(); v.AttachedTo != "" || v.State != ec2test.VolumeAvailable {
		t.Errorf("after the instance stopped: %+v", v)
	}
	if err := srv.AttachVolume("vol-0app", "i-0far", ""); err == nil || !strings.HasPrefix(err.Error(), "InvalidVolume.ZoneMismatch") {
		t.Errorf("attach in another zone: %v", err)
	}
	if err := srv.AttachVolume("vol-0app", "i-0old", ""); err == nil || !strings.HasPrefix(err.Error(), "IncorrectState") {
		t.Errorf("attach to a terminated instance: %v", err)
	}
	if err := srv.AttachVolume("vol-0app", "i-0new", ""); err != nil || vol().AttachState != "attaching" {
		t.Fatalf("attach: %v, %+v", err, vol())
	}
	clk.step(3 * time.Second)
	if v := vol(); v.AttachedTo != "i-0new" || v.AttachState != "attached" || v.State != ec2test.VolumeInUse {
		t.Errorf("after the attach delay: %+v", v)
	}
	// Forced: detached after the detach delay although i-0new runs.
	if err := srv.DetachVolume("vol-0app", true); err != nil || vol().AttachState != "detaching" {
		t.Fatalf("force detach: %v, %+v", err, vol())
	}
	clk.step(time.Second)
	if v := vol(); v.AttachedTo != "" {
		t.Errorf("after a forced detach: %+v", v)
	}
	if err := srv.DetachVolume("vol-0app", true); err == nil || !strings.HasPrefix(err.Error(), "IncorrectState") {
		t.Errorf("detach of an available volume: %v", err)
	}
}

// WithLatency delays the answer, not the effect: the request is logged at
// its arrival and the instance is shutting down before the answer comes.
func TestLatencyDelaysTheAnswerOnly(t *testing.T) {
	srv := ec2test.NewServer(ec2test.WithLatency("TerminateInstances", 200*time.Millisecond))
	defer srv.Close()
	srv.AddInstance(ec2test.Instance{ID: "i-0agent"})
	sent := time.Now()
	if _, err := srv.Client().TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0agent"}}); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	at := srv.Calls("TerminateInstances")[0].At
	if done.Sub(sent) < 200*time.Millisecond || at.Sub(sent) > 150*time.Millisecond {
		t.Errorf("sent %s, received +%s, answered +%s", sent, at.Sub(sent), done.Sub(sent))
	}
}

// addFormParam adds name=value to a Query-API request's form, as a client
// that sends a parameter the stand-in does not know would.
func addFormParam(name, value string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Build.Add(middleware.BuildMiddlewareFunc("addFormParam", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			req := in.Request.(*smithyhttp.Request)
			body, err := io.ReadAll(req.GetStream())
			if err != nil {
				return middleware.BuildOutput{}, middleware.Metadata{}, err
			}
			body = append(body, "&"+url.QueryEscape(name)+"="+url.QueryEscape(value)...)
			r2, err := req.SetStream(bytes.NewReader(body))
			if err != nil {
				return middleware.BuildOutput{}, middleware.Metadata{}, err
			}
			r2.ContentLength = int64(len(body))
			in.Request = r2
			return next.HandleBuild(ctx, in)
		}), middleware.Before)
	}
}
