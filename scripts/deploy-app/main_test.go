package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/apps"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// fast runs the app's health checks (first after 5 s, every 5 s) at a
// millisecond per second.
var fast = marathontest.Options{DeploymentDuration: 10 * time.Millisecond, StagingDuration: 10 * time.Millisecond, HealthCheckSecond: time.Millisecond}

// quick are the flags that keep the command's polling in milliseconds.
var quick = []string{"--poll-interval", "5ms", "--http-timeout", "1s"}

type result struct {
	code           int
	stdout, stderr string
}

func runCmd(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func renderedFile(t *testing.T) (string, []byte) {
	t.Helper()
	doc, err := manifest.Render(apps.MobyCounter, manifest.Params{AppID: facts.AppID, HostPort: facts.DefaultAppPort,
		VolumeDriver: "flocker", VolumeName: "moby", Zone: "us-east-1a"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "app.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, doc
}

func TestDeployPrintsOneJSONObjectAndIsIdempotent(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	path, _ := renderedFile(t)
	t.Setenv("MHA_MARATHON_URL", s.URL())

	for i, wantChanged := range []bool{true, false} {
		r := runCmd(t, "", append([]string{"--manifest", path, "--timeout", "5s"}, quick...)...)
		if r.code != 0 {
			t.Fatalf("run %d: exit %d\nstderr:\n%s", i, r.code, r.stderr)
		}
		var got map[string]any
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		if err := dec.Decode(&got); err != nil || dec.More() {
			t.Fatalf("run %d: stdout is not exactly one JSON object: %q (%v)", i, r.stdout, err)
		}
		if got["appId"] != facts.AppID || got["taskHost"] != "10.42.1.20" || got["taskId"] == "" || got["version"] == "" || got["changed"] != wantChanged {
			t.Errorf("run %d: stdout = %v, want changed=%v", i, got, wantChanged)
		}
		if len(got) != 5 {
			t.Errorf("run %d: stdout has keys %v, want appId, version, taskHost, taskId, changed", i, got)
		}
		if !strings.Contains(r.stderr, "is ready") {
			t.Errorf("run %d: no progress on stderr:\n%s", i, r.stderr)
		}
	}
	if n := s.DeploymentsStarted(); n != 1 {
		t.Errorf("deployments = %d, want 1 after an unchanged rerun", n)
	}
}

func TestDryRunContactsNothing(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	_, doc := renderedFile(t)
	r := runCmd(t, string(doc), "--marathon", s.URL(), "--dry-run")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := "PUT " + s.URL() + "/v2/apps" + facts.AppID + "\n\n" + string(doc)
	if r.stdout != want {
		t.Errorf("stdout =\n%s\nwant\n%s", r.stdout, want)
	}
	d := runCmd(t, "", "--marathon", s.URL(), "--dry-run", "--delete", "--app-id", facts.AppID)
	if d.code != 0 || d.stdout != "DELETE "+s.URL()+"/v2/apps"+facts.AppID+"?force=true\n" {
		t.Errorf("delete dry run: exit %d, stdout %q, stderr %q", d.code, d.stdout, d.stderr)
	}
	if reqs := s.Requests(); len(reqs) != 0 {
		t.Errorf("dry runs made requests: %+v", reqs)
	}
}

// The Marathon URLs come from MHA_MARATHON_URL, as the program sets it
// (components/app.go); the old MARATHON_URL still works for one release
// with a deprecation line, and --marathon wins over both.
func TestMarathonURLFromTheEnvironment(t *testing.T) {
	_, doc := renderedFile(t)
	for _, tc := range []struct {
		name, now, old string
		args           []string
		want, warn     string
	}{
		{"new name", "http://198.51.100.10:8080", "", nil, "http://198.51.100.10:8080", ""},
		{"old name", "", "http://198.51.100.11:8080", nil, "http://198.51.100.11:8080", "MARATHON_URL is deprecated and goes in the next release: use MHA_MARATHON_URL"},
		{"new before old", "http://198.51.100.10:8080", "http://198.51.100.11:8080", nil, "http://198.51.100.10:8080", ""},
		{"flag wins", "http://198.51.100.10:8080", "http://198.51.100.11:8080", []string{"--marathon", "http://198.51.100.12:8080"}, "http://198.51.100.12:8080", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MHA_MARATHON_URL", tc.now)
			t.Setenv("MARATHON_URL", tc.old)
			r := runCmd(t, string(doc), append([]string{"--dry-run"}, tc.args...)...)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "PUT "+tc.want+"/v2/apps") {
				t.Errorf("exit %d, stdout %q, stderr %q; want a PUT to %s", r.code, r.stdout, r.stderr, tc.want)
			}
			if warned := strings.Contains(r.stderr, "deprecated"); warned != (tc.warn != "") || !strings.Contains(r.stderr, tc.warn) {
				t.Errorf("stderr %q, want deprecation line %q", r.stderr, tc.warn)
			}
		})
	}
}

func TestDeleteByAppIDAndFromManifest(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	path, doc := renderedFile(t)
	if r := runCmd(t, string(doc), append([]string{"--marathon", s.URL(), "--timeout", "5s"}, quick...)...); r.code != 0 {
		t.Fatalf("deploy: exit %d: %s", r.code, r.stderr)
	}
	r := runCmd(t, "", append([]string{"--marathon", s.URL(), "--delete", "--manifest", path, "--timeout", "5s"}, quick...)...)
	if r.code != 0 || strings.TrimSpace(r.stdout) != `{"appId":"`+facts.AppID+`","deleted":true,"skipped":false}` {
		t.Fatalf("delete: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	// Deleting again (a destroy rerun) finds nothing and succeeds.
	r = runCmd(t, "", append([]string{"--marathon", s.URL(), "--delete", "--app-id", facts.AppID, "--timeout", "5s"}, quick...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "nothing to delete") {
		t.Errorf("second delete: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestDeleteWhenMarathonIsGone(t *testing.T) {
	s := marathontest.NewUnstartedServer(fast) // connections refused: the master is gone
	defer s.Close()
	args := append([]string{"--marathon", s.URL(), "--delete", "--app-id", facts.AppID, "--timeout", "50ms"}, quick...)

	r := runCmd(t, "", args...)
	if r.code != 1 || !strings.Contains(r.stderr, "deploy-app: waiting for Marathon at "+s.URL()) || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("without --skip-if-unreachable: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	r = runCmd(t, "", append(args, "--skip-if-unreachable")...)
	if r.code != 0 || !strings.Contains(r.stderr, "warning: not deleting "+facts.AppID) || !strings.Contains(r.stdout, `"skipped":true`) {
		t.Errorf("with --skip-if-unreachable: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestRejectsBadInput(t *testing.T) {
	s := marathontest.NewServer(fast)
	defer s.Close()
	t.Setenv("MHA_MARATHON_URL", "")
	t.Setenv("MARATHON_URL", "")
	tests := []struct {
		name, stdin string
		args        []string
		wantCode    int
		wantErr     string
	}{
		{"no URL", "{}", nil, 2, "no Marathon URL"},
		{"empty stdin", "", []string{"--marathon", s.URL()}, 1, "the manifest on stdin is empty"},
		{"invalid manifest", `{"id":"/a","instances":2}`, []string{"--marathon", s.URL()}, 1, "deploy-app: stdin: manifest is not a valid Marathon 1.4 app"},
		{"missing file", "", []string{"--marathon", s.URL(), "--manifest", "/nonexistent.json"}, 1, "reading the manifest"},
		{"skip without delete", "{}", []string{"--marathon", s.URL(), "--skip-if-unreachable"}, 2, "only applies with --delete"},
		{"bad flag", "", []string{"--nope"}, 2, "flag provided but not defined: -nope (run deploy-app -h for the options)"},
		{"stray argument", "", []string{"--marathon", s.URL(), "extra"}, 2, "unexpected argument"},
		{"the template", string(apps.MobyCounter), []string{"--marathon", s.URL()}, 1, "this is the template (apps/moby-counter.json)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, tt.stdin, tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit %d and %q", r.code, r.stdout, r.stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
	if reqs := s.Requests(); len(reqs) != 0 {
		t.Errorf("bad input reached Marathon: %+v", reqs)
	}
}
