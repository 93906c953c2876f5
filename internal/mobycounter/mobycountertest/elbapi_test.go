package mobycountertest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/aws/smithy-go"

	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter/mobycountertest"
)

// The ELB describes its registered instances as AWS's DescribeInstanceHealth
// does, through the real SDK: registration in progress, in service,
// failed, and terminated instances left out.
func TestDescribeInstanceHealthThroughSDK(t *testing.T) {
	states := map[string]string{"i-0a": "running", "i-0b": "running"}
	e := mobycountertest.NewELB(mobycountertest.WithName("dev-c0ffee12"), mobycountertest.WithHealthCheck(0, 2, 2),
		mobycountertest.WithEC2State(func(id string) (string, bool) { s, ok := states[id]; return s, ok }))
	defer e.Close()
	e.Register("i-0a")
	e.Register("i-0b")
	app, err := mobycountertest.NewServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if err := e.SetInstanceBackend("i-0a", app.URL); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	health := func() map[string]string {
		t.Helper()
		out, err := e.APIClient().DescribeInstanceHealth(ctx, &elb.DescribeInstanceHealthInput{LoadBalancerName: aws.String("dev-c0ffee12")})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, s := range out.InstanceStates {
			m[aws.ToString(s.InstanceId)] = aws.ToString(s.State) + ": " + aws.ToString(s.Description)
		}
		return m
	}
	if h := health(); !strings.HasSuffix(h["i-0a"], "Instance registration is still in progress.") || !strings.HasPrefix(h["i-0a"], "OutOfService") {
		t.Errorf("before any check: %v", h)
	}
	e.CheckNow()
	e.CheckNow()
	h := health()
	if h["i-0a"] != "InService: N/A" || !strings.HasSuffix(h["i-0b"], "UnhealthyThreshold number of health checks consecutively.") {
		t.Errorf("after two checks: %v", h)
	}
	states["i-0b"] = "terminated"
	if h := health(); len(h) != 1 || h["i-0a"] == "" {
		t.Errorf("a terminated instance is listed: %v", h)
	}
	// Asked by name, even a terminated one is described.
	out, err := e.APIClient().DescribeInstanceHealth(ctx, &elb.DescribeInstanceHealthInput{LoadBalancerName: aws.String("dev-c0ffee12"),
		Instances: []elbtypes.Instance{{InstanceId: aws.String("i-0b")}}})
	if err != nil || len(out.InstanceStates) != 1 || aws.ToString(out.InstanceStates[0].Description) != "Instance is in terminated state." {
		t.Errorf("asked for i-0b: %+v, %v", out, err)
	}
	var ae smithy.APIError
	_, err = e.APIClient().DescribeInstanceHealth(ctx, &elb.DescribeInstanceHealthInput{LoadBalancerName: aws.String("other")})
	if !errors.As(err, &ae) || ae.ErrorCode() != "LoadBalancerNotFound" {
		t.Errorf("another name: %v", err)
	}
	_, err = e.APIClient().DescribeInstanceHealth(ctx, &elb.DescribeInstanceHealthInput{LoadBalancerName: aws.String("dev-c0ffee12"),
		Instances: []elbtypes.Instance{{InstanceId: aws.String("i-0nope")}}})
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidInstance" {
		t.Errorf("an unknown instance: %v", err)
	}
	calls := e.APICalls()
	if len(calls) == 0 || calls[0].Action != "DescribeInstanceHealth" || calls[0].Params.Get("LoadBalancerName") != "dev-c0ffee12" {
		t.Errorf("API calls %+v", calls)
	}
}

// The client finds its load balancer by the DNS name of the app's address
// and tells whether one instance alone is in service.
func TestLoadBalancerClient(t *testing.T) {
	e := mobycountertest.NewELB(mobycountertest.WithName("dev-c0ffee12"), mobycountertest.WithHealthCheck(0, 1, 1))
	defer e.Close()
	e.Register("i-0a")
	e.Register("i-0b")
	app, err := mobycountertest.NewServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if err := e.SetInstanceBackend("i-0b", app.URL); err != nil {
		t.Fatal(err)
	}
	e.CheckNow()
	lb := mobycounter.NewLoadBalancer(e.APIClient(), e.URL)
	ctx := context.Background()
	if name, err := lb.Name(ctx); err != nil || name != "dev-c0ffee12" {
		t.Fatalf("name %q, %v", name, err)
	}
	hs, err := lb.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !mobycounter.OnlyInService(hs, "i-0b") || mobycounter.OnlyInService(hs, "i-0a") || mobycounter.StateOf(hs, "i-0a") != "OutOfService" {
		t.Errorf("health %+v", hs)
	}
	// An address no load balancer has is refused with what was found.
	_, err = mobycounter.NewLoadBalancer(e.APIClient(), "http://elsewhere.example.com").Health(ctx)
	if err == nil || !strings.Contains(err.Error(), "no classic load balancer in this region has the DNS name elsewhere.example.com") {
		t.Errorf("unknown DNS name: %v", err)
	}
	if calls := e.APICalls(); calls[0].Action != "DescribeLoadBalancers" || len(calls[0].Params) != 2 {
		t.Errorf("the name was looked up with %+v", calls[0])
	}
}

// A parameter the API does not take is refused, an unsigned call too.
func TestELBAPIRefusesWhatAWSRefuses(t *testing.T) {
	e := mobycountertest.NewELB()
	defer e.Close()
	resp, err := http.PostForm(e.APIURL, map[string][]string{"Action": {"DescribeInstanceHealth"}, "Version": {"2012-06-01"}, "LoadBalancerName": {mobycountertest.DefaultELBName}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned: %d, want 403", resp.StatusCode)
	}
	_, err = e.APIClient().DescribeLoadBalancers(context.Background(), &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(500)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Errorf("PageSize 500: %v", err)
	}
}

// With several instances in service the ELB takes turns; Fail answers the
// next requests with an error of the ELB's own.
func TestELBRoutingAndFaults(t *testing.T) {
	e := mobycountertest.NewELB()
	defer e.Close()
	e.Register("i-0a")
	if got := status(t, e); got != http.StatusServiceUnavailable {
		t.Errorf("nothing listening: %d, want 503", got)
	}
	app, err := mobycountertest.NewServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if err := e.SetInstanceBackend("i-0a", app.URL); err != nil {
		t.Fatal(err)
	}
	e.Fail(1, http.StatusGatewayTimeout)
	if got := status(t, e); got != http.StatusGatewayTimeout {
		t.Errorf("injected fault: %d, want 504", got)
	}
	if got := status(t, e); got != http.StatusOK {
		t.Errorf("after the fault: %d, want 200", got)
	}
	if err := e.SetInstanceBackend("i-0nope", app.URL); err == nil {
		t.Error("an unregistered instance was given a backend")
	}
}

// WithWriteback writes a buffered click to disk once it is older than the
// expiry, at the flusher's next wake-up, and not before.
func TestWriteback(t *testing.T) {
	dir := t.TempDir()
	srv, err := mobycountertest.NewServer(dir, mobycountertest.WithWriteback(60*time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := mobycounter.New(srv.URL).Write(context.Background(), "1:1"); err != nil {
		t.Fatal(err)
	}
	onDisk := func() []string {
		other, err := mobycountertest.NewServer(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		c, _ := other.Clicks()
		return c
	}
	if got := onDisk(); len(got) != 0 {
		t.Errorf("on disk at once: %v", got)
	}
	time.Sleep(200 * time.Millisecond)
	if got := onDisk(); len(got) != 1 {
		t.Errorf("on disk after the writeback: %v", got)
	}
	srv.Close() // a crash now loses nothing
	if got := onDisk(); len(got) != 1 {
		t.Errorf("after the crash: %v", got)
	}
}
