package main

import (
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ststest"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// TestDeployWithoutUsableCredentialsGoesOn: when the boot watch would use
// AWS but the credentials are expired, or the profile does not exist, STS
// answers (its ExpiredToken named), the problem is named once with its fix, no console is
// read, and the app is still deployed: posting to Marathon needs no AWS.
func TestDeployWithoutUsableCredentialsGoesOn(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T)
		args  []string
		want  []string
	}{
		{"expired", func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", "ASIAOLD")
			t.Setenv("AWS_SESSION_TOKEN", "tok")
		}, nil, []string{"have expired", "aws sso login", "ExpiredToken"}},
		{"no such profile", nil, []string{"--aws-profile", "nope"}, []string{`AWS profile "nope" does not exist`, "aws configure --profile nope"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ec2, instances := consoleEnv(t)
			ids := ststest.NewServer(ststest.Identity{AccessKeyID: "ASIAOLD", SecretAccessKey: "secret", SessionToken: "tok", Account: "123456789012", Expired: true})
			t.Cleanup(ids.Close)
			t.Setenv("AWS_ENDPOINT_URL_STS", ids.URL)
			if tc.setup != nil {
				tc.setup(t)
			}
			m := marathontest.NewServer(fast)
			defer m.Close()
			m.AddAgent("10.0.1.20")
			path, _ := renderedFile(t)
			args := append([]string{"--marathon", m.URL(), "--manifest", path, "--timeout", "10s", "--instances", instances}, watchFlags...)
			r := runCmd(t, "", append(args, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d, want the deploy to go on without AWS\nstderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, `"appId"`) {
				t.Errorf("no deploy result on stdout: %q", r.stdout)
			}
			for _, w := range append(tc.want, "no boot progress is shown", "needs no AWS credentials") {
				if n := strings.Count(r.stderr, w); n != 1 {
					t.Errorf("stderr has %q %d times, want once:\n%s", w, n, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "IMDS") {
				t.Errorf("the SDK's own words leaked:\n%s", r.stderr)
			}
			if n := len(ec2.Calls("GetConsoleOutput")); n != 0 {
				t.Errorf("%d consoles read with unusable credentials", n)
			}
		})
	}
}
