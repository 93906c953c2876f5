package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
	"github.com/marathon-ha/marathon-ha/internal/opflags/opflagstest"
)

func TestSharedFlags(t *testing.T) {
	opflagstest.Check(t, opflagstest.Tool{Program: program, Flags: newFlags,
		Run: func(args []string, stdout, stderr io.Writer) int {
			return run(args, strings.NewReader(""), stdout, stderr)
		},
		Failing: []string{"--outputs", "/nonexistent/outputs.json"}})
}

// stackConfig is `pulumi config --json` of a stack with its own image.
const stackConfig = `{"aws:region": {"value": "eu-west-1", "secret": false},
 "marathon-ha:appImage": {"value": "registry.example/moby-counter:v2", "secret": false}}`

// TestRendersFromTheStack: --stack renders the template with the stack's
// outputs and config and posts that, never the template; the Marathon
// URLs are the stack's.
func TestRendersFromTheStack(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	t.Setenv("MHA_MARATHON_URL", "")
	t.Setenv("MARATHON_URL", "")
	outs, _ := json.Marshal(map[string]any{"marathonUrl": s.URL(), "marathonUrls": []string{s.URL()}, "appUrl": "http://elb", "region": "eu-west-1",
		"clusterId": "c0ffee12", "stack": "dev", "appId": facts.AppID, "failoverSettings": map[string]any{}, "volumeDriver": "rexray",
		"volumeName": "moby-counter-c0ffee12", "availabilityZone": "eu-west-1b", "appPort": 8600})
	var asked [][]string
	old := pulumi
	t.Cleanup(func() { pulumi = old })
	pulumi = func(_ context.Context, args []string) ([]byte, error) {
		asked = append(asked, args)
		if args[0] == "config" {
			return []byte(stackConfig), nil
		}
		return outs, nil
	}

	r := runCmd(t, "", append([]string{"--stack", "dev", "--dry-run"}, quick...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{`"registry.example/moby-counter:v2"`, `"eu-west-1b"`, `"hostPort": 8600`, `"rexray/ebs"`, `moby-counter-c0ffee12:/data`, "PUT " + s.URL()} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the rendered request lacks %s:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, `"unset"`) || len(asked) != 2 {
		t.Errorf("posted the template, or asked pulumi %v", asked)
	}
	r = runCmd(t, "", append([]string{"--stack", "dev", "--timeout", "5s"}, quick...)...)
	if r.code != 0 || !strings.Contains(r.stdout, `"appId":"`+facts.AppID+`"`) {
		t.Fatalf("deploy: exit %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}

	// --outputs holds no config: the default image, the stack's placement.
	file := filepath.Join(t.TempDir(), "outputs.json")
	if err := os.WriteFile(file, outs, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCmd(t, "", "--outputs", file, "--dry-run", "--volume-driver", "flocker")
	if r.code != 2 || !strings.Contains(r.stderr, "the stack's is rexray") {
		t.Errorf("a --volume-driver other than the stack's: exit %d, %s", r.code, r.stderr)
	}
}
