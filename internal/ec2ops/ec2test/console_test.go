package ec2test_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
)

func TestGetConsoleOutput(t *testing.T) {
	s := ec2test.NewServer()
	defer s.Close()
	s.AddInstance(ec2test.Instance{ID: "i-1"})
	c := s.Client()
	ctx := context.Background()
	get := func(latest bool) *ec2.GetConsoleOutputOutput {
		t.Helper()
		out, err := c.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String("i-1"), Latest: aws.Bool(latest)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// A fresh instance's console is empty: no output, no timestamp.
	if out := get(true); out.Output != nil || out.Timestamp != nil || aws.ToString(out.InstanceId) != "i-1" {
		t.Errorf("empty console: output %v timestamp %v id %v", out.Output, out.Timestamp, aws.ToString(out.InstanceId))
	}
	s.AppendConsole("i-1", "line 1\n")
	s.AppendConsole("i-1", "line 2\n")
	out := get(true)
	// The SDK leaves output base64-encoded, as the API returns it.
	if aws.ToString(out.Output) != "bGluZSAxCmxpbmUgMgo=" || out.Timestamp == nil {
		t.Errorf("output %q timestamp %v", aws.ToString(out.Output), out.Timestamp)
	}

	// Buffered: without Latest the console is as last posted.
	s.SetConsoleBuffered("i-1")
	s.AppendConsole("i-1", "line 3\n")
	if o := aws.ToString(get(false).Output); o != "bGluZSAxCmxpbmUgMgo=" {
		t.Errorf("buffered output %q, want the posted one", o)
	}
	s.PostConsole("i-1")
	if o := aws.ToString(get(false).Output); o == "bGluZSAxCmxpbmUgMgo=" {
		t.Error("a posted console not seen without Latest")
	}

	// Only the last 64 KiB.
	s.AppendConsole("i-1", strings.Repeat("x", ec2test.ConsoleLimit))
	if o := aws.ToString(get(true).Output); len(o) != (ec2test.ConsoleLimit+2)/3*4 {
		t.Errorf("output of %d base64 bytes, want 64 KiB's", len(o))
	}

	// A type without Nitro refuses Latest.
	s.SetConsoleLatestUnsupported("i-1")
	if _, err := c.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String("i-1"), Latest: aws.Bool(true)}); apiCode(t, err) != "UnsupportedOperation" {
		t.Errorf("Latest on a Xen type: %v", err)
	}
	if _, err := c.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String("i-9")}); apiCode(t, err) != "InvalidInstanceID.NotFound" {
		t.Errorf("unknown instance: %v", err)
	}
}

func TestGetConsoleOutputRefusesUnknownParameters(t *testing.T) {
	s := ec2test.NewServer()
	defer s.Close()
	s.AddInstance(ec2test.Instance{ID: "i-1"})
	form := url.Values{"Action": {"GetConsoleOutput"}, "Version": {"2016-11-15"}, "InstanceId": {"i-1"}, "Tail": {"10"}}
	req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ec2/aws4_request")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "UnknownParameter") {
		t.Errorf("status %d body %s", resp.StatusCode, body)
	}
}
