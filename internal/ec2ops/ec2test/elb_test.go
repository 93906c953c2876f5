package ec2test_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
)

func TestELBStandInSpeaksTheSDKsProtocol(t *testing.T) {
	srv := ec2test.NewELBServer()
	defer srv.Close()
	for _, n := range []string{"a", "b", "c"} {
		srv.AddLoadBalancer(ec2test.LoadBalancer{Name: n, Instances: []string{"i-0" + n}, Tags: map[string]string{"k": n}})
	}
	c, ctx := srv.Client(), context.Background()

	// Paging with PageSize and NextMarker, as the SDK's paginator follows it.
	var names []string
	p := elb.NewDescribeLoadBalancersPaginator(c, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.LoadBalancerDescriptions {
			names = append(names, aws.ToString(d.LoadBalancerName))
			if len(d.Instances) != 1 || aws.ToString(d.DNSName) == "" {
				t.Errorf("description %+v", d)
			}
		}
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) || len(srv.Calls("DescribeLoadBalancers")) != 2 {
		t.Errorf("listed %v in %d calls", names, len(srv.Calls("DescribeLoadBalancers")))
	}

	tags, err := c.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: []string{"b", "c"}})
	if err != nil || len(tags.TagDescriptions) != 2 || aws.ToString(tags.TagDescriptions[1].Tags[0].Value) != "c" {
		t.Fatalf("tags %+v, %v", tags, err)
	}
	// One unknown name fails the whole call.
	_, err = c.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: []string{"b", "zz"}})
	var nf *types.AccessPointNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("unknown name: %v, want LoadBalancerNotFound", err)
	}
	// At most 20 names.
	many := make([]string, 21)
	for i := range many {
		many[i] = "a"
	}
	if _, err := c.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: many}); err == nil || apiCode(t, err) != "ValidationError" {
		t.Errorf("21 names: %v", err)
	}

	// Deleting is idempotent.
	for range 2 {
		if _, err := c.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerName: aws.String("b")}); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.Names(); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("names after delete %v", got)
	}
	if _, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{"b"}}); !errors.As(err, &nf) {
		t.Errorf("describing a deleted ELB: %v", err)
	}

	srv.Fail("DeleteLoadBalancer", 1, http.StatusForbidden, "AccessDenied", "not allowed")
	if _, err := c.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerName: aws.String("a")}); err == nil || apiCode(t, err) != "AccessDenied" {
		t.Errorf("injected fault: %v", err)
	}
}

// The stand-in refuses what the API does not take: unknown parameters,
// actions it does not model, unsigned calls, another API version.
func TestELBStandInRefuses(t *testing.T) {
	srv := ec2test.NewELBServer()
	defer srv.Close()
	c := srv.Client()
	if _, err := c.DescribeInstanceHealth(context.Background(), &elb.DescribeInstanceHealthInput{LoadBalancerName: aws.String("a")}); err == nil || apiCode(t, err) != "InvalidAction" {
		t.Errorf("unmodelled action: %v", err)
	}
	for _, tc := range []struct {
		form     url.Values
		signed   bool
		wantCode string
	}{
		{url.Values{"Action": {"DescribeTags"}, "Version": {"2012-06-01"}, "LoadBalancerNames.member.1": {"a"}}, false, "MissingAuthenticationToken"},
		{url.Values{"Action": {"DescribeTags"}, "Version": {"2016-11-15"}, "LoadBalancerNames.member.1": {"a"}}, true, "InvalidParameterValue"},
		{url.Values{"Action": {"DeleteLoadBalancer"}, "Version": {"2012-06-01"}, "LoadBalancerName": {"a"}, "Force": {"true"}}, true, "InvalidParameterValue"},
		{url.Values{"Action": {"DescribeLoadBalancers"}, "Version": {"2012-06-01"}, "PageSize": {"401"}}, true, "ValidationError"},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.signed {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/elasticloadbalancing/aws4_request, SignedHeaders=host, Signature=0")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || !strings.Contains(string(body), "<Code>"+tc.wantCode+"</Code>") {
			t.Errorf("%v: status %d, body %s; want %s", tc.form, resp.StatusCode, body, tc.wantCode)
		}
	}
}
