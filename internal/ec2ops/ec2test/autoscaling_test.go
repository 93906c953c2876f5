package ec2test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// The Auto Scaling stand-in refuses what the API refuses: an unsigned
// call, another version, an action it does not model, a parameter
// DescribeAutoScalingGroups does not take, a filter it does not know.
func TestAutoScalingRefuses(t *testing.T) {
	srv := NewServer()
	defer srv.Close()
	a := NewAutoScaling(srv)
	defer a.Close()
	post := func(form url.Values, signed bool) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, a.URL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if signed {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/autoscaling/aws4_request, SignedHeaders=host, Signature=x")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	ok := url.Values{"Action": {"DescribeAutoScalingGroups"}, "Version": {"2011-01-01"}}
	for name, c := range map[string]struct {
		form   url.Values
		signed bool
		code   string
	}{
		"unsigned":    {ok, false, "MissingAuthenticationToken"},
		"version":     {url.Values{"Action": {"DescribeAutoScalingGroups"}, "Version": {"2016-11-15"}}, true, "InvalidParameterValue"},
		"action":      {url.Values{"Action": {"SetDesiredCapacity"}, "Version": {"2011-01-01"}}, true, "InvalidAction"},
		"parameter":   {url.Values{"Action": {"DescribeAutoScalingGroups"}, "Version": {"2011-01-01"}, "InstanceIds.member.1": {"i-1"}}, true, "InvalidParameterValue"},
		"max records": {url.Values{"Action": {"DescribeAutoScalingGroups"}, "Version": {"2011-01-01"}, "MaxRecords": {"101"}}, true, "ValidationError"},
		"filter name": {url.Values{"Action": {"DescribeAutoScalingGroups"}, "Version": {"2011-01-01"}, "Filters.member.1.Name": {"instance-id"}, "Filters.member.1.Values.member.1": {"i-1"}}, true, "ValidationError"},
	} {
		if status, body := post(c.form, c.signed); status < 400 || !strings.Contains(body, "<Code>"+c.code+"</Code>") {
			t.Errorf("%s: %d %s, want %s", name, status, body, c.code)
		}
	}
	if status, body := post(ok, true); status != http.StatusOK {
		t.Errorf("a valid call: %d %s", status, body)
	}
	// The SDK's own request is accepted and its answer read.
	a.AddGroup(Group{Name: "g", Desired: 1, Tags: map[string]string{"k": "v"}})
	out, err := a.Client().DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{
		Filters: []types.Filter{{Name: aws.String("tag:k"), Values: []string{"v"}}}, MaxRecords: aws.Int32(10)})
	if err != nil || len(out.AutoScalingGroups) != 1 || aws.ToInt32(out.AutoScalingGroups[0].DesiredCapacity) != 1 || len(out.AutoScalingGroups[0].Tags) != 1 {
		t.Errorf("SDK call: %+v %v", out, err)
	}
}
