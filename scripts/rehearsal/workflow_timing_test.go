package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/opflags"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

// Limits the workflow's numbers must respect.
const (
	// maxJobMinutes: "Each job in a workflow can run for up to 6 hours of
	// execution time" on GitHub-hosted runners (GitHub docs, "Usage limits,
	// billing, and administration").
	maxJobMinutes = 360
	// maxRoleSessionSeconds: AssumeRoleWithWebIdentity DurationSeconds is at
	// most 43200, and at most the role's MaxSessionDuration (AWS STS API
	// reference).
	maxRoleSessionSeconds = 43200
)

// durationFlag returns the value of --name in a step's command line, or def.
func durationFlag(t *testing.T, run, name string, def time.Duration) time.Duration {
	t.Helper()
	m := regexp.MustCompile(`--` + name + `[ =]"?([0-9a-z.]+)`).FindStringSubmatch(run)
	if m == nil {
		return def
	}
	d, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatalf("--%s %q in the workflow: %v", name, m[1], err)
	}
	return d
}

func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }

// oneLine joins the workflow's comment lines into one text, so a phrase
// reads the same wherever the comment wraps it.
func oneLine(raw string) string {
	var words []string
	for _, l := range strings.Split(raw, "\n") {
		words = append(words, strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "#"))...)
	}
	return strings.Join(words, " ")
}

// The safety net cannot starve: every step is bounded, the rehearse step's
// bound covers a whole rehearsal at the Go code's own bounds, the safety
// net's a whole teardown, the job's all steps, and the credentials the job.
func TestWorkflowTimeoutsAddUp(t *testing.T) {
	w, raw := loadWorkflow(t)
	job := w.Jobs["rehearsal"]
	steps := job.Steps
	rehearse := stepIndex(steps, func(s step) bool {
		return strings.Contains(s.Run, "--output") && !strings.Contains(s.Run, "--destroy-run")
	})
	safety := stepIndex(steps, func(s step) bool { return strings.Contains(s.Run, "--destroy-run") })
	if rehearse < 0 || safety < rehearse {
		t.Fatalf("rehearse step %d, safety net %d", rehearse, safety)
	}
	total := 0
	for _, s := range steps {
		if s.TimeoutMinutes <= 0 {
			t.Errorf("step %q %q has no timeout-minutes: its default, 360, would let it starve the safety net", s.Name, s.Uses)
		}
		total += s.TimeoutMinutes
	}

	// The rehearse step of each leg: CIDR detection, then the run with the
	// flags given and the leg's drills.
	run := steps[rehearse].Run
	if len(job.Strategy.Matrix.Include) == 0 {
		t.Fatal("no matrix legs")
	}
	var legMinutes []int
	for _, l := range job.Strategy.Matrix.Include {
		drills, err := rehearsal.ParseDrills(l.Drills)
		if err != nil {
			t.Fatalf("leg %+v: %v", l, err)
		}
		cfg := rehearsal.Config{
			FlushWait:       durationFlag(t, run, "flush-wait", 0),
			UpTimeout:       durationFlag(t, run, "up-timeout", rehearsal.DefaultUpTimeout),
			AppReadyTimeout: durationFlag(t, run, "app-ready-timeout", rehearsal.DefaultAppReadyTimeout),
			WatchDeadline:   durationFlag(t, run, "watch-deadline", rehearsal.DefaultWatchDeadline),
			DestroyTimeout:  durationFlag(t, run, "destroy-timeout", rehearsal.DefaultDestroyTimeout),
			Drills:          drills,
		}
		before, teardown := cfg.Bounds()
		if need := rehearsal.CheckIPTimeout + before + teardown; minutes(steps[rehearse].TimeoutMinutes) < need {
			t.Errorf("leg %+v: the rehearse step's timeout-minutes %d is under the rehearsal's own bound %s (steps %s + teardown %s): the runner would kill it mid-teardown",
				l, steps[rehearse].TimeoutMinutes, need, before, teardown)
		}
		legMinutes = append(legMinutes, int((before+teardown)/time.Minute))
	}
	// The header's account of the legs' bounds and the job's sum is true.
	if len(legMinutes) == 2 {
		if want := fmt.Sprintf("%dm for one master, %dm for five", legMinutes[0], legMinutes[1]); !strings.Contains(oneLine(raw), want) {
			t.Errorf("the workflow's timing comment does not say %q", want)
		}
	}
	setup, uploads := 0, 0
	for i, s := range steps {
		switch {
		case i < rehearse:
			setup += s.TimeoutMinutes
		case i > rehearse && i < safety:
			uploads += s.TimeoutMinutes
		}
	}
	if want := fmt.Sprintf("Job = setup %d + rehearse %d + uploads %d + safety net %d = %d < %d minutes", setup, steps[rehearse].TimeoutMinutes,
		uploads, steps[safety].TimeoutMinutes, total, job.TimeoutMinutes); !strings.Contains(oneLine(raw), want) {
		t.Errorf("the workflow's timing comment does not say %q", want)
	}
	// The safety net: one teardown per run directory, one per job.
	net := rehearsal.TeardownConfig{DestroyTimeout: durationFlag(t, steps[safety].Run, "destroy-timeout", rehearsal.DefaultDestroyTimeout)}.Bound()
	if minutes(steps[safety].TimeoutMinutes) < net {
		t.Errorf("the safety net's timeout-minutes %d is under a teardown's bound %s", steps[safety].TimeoutMinutes, net)
	}
	// The job covers every step: setup + rehearse + uploads + safety net.
	if total >= job.TimeoutMinutes || job.TimeoutMinutes > maxJobMinutes {
		t.Errorf("job timeout-minutes %d: want above the steps' sum %d and at most %d", job.TimeoutMinutes, total, maxJobMinutes)
	}
	// The credentials outlive the job.
	aws := stepIndex(steps, func(s step) bool { return strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@") })
	session, err := strconv.Atoi(steps[aws].With["role-duration-seconds"])
	if err != nil || session < job.TimeoutMinutes*60 || session > maxRoleSessionSeconds {
		t.Errorf("role-duration-seconds %q: want at least the job's %d s and at most %d", steps[aws].With["role-duration-seconds"], job.TimeoutMinutes*60, maxRoleSessionSeconds)
	}
	// The state is saved before the safety net touches it.
	state := stepIndex(steps, func(s step) bool {
		return strings.HasPrefix(s.Uses, "actions/upload-artifact@") && strings.Contains(s.With["path"], "state/")
	})
	report := stepIndex(steps, func(s step) bool {
		return strings.HasPrefix(s.Uses, "actions/upload-artifact@") && strings.HasSuffix(s.With["path"], "rehearsal-report.json")
	})
	if state < rehearse || state > safety || report < rehearse || report > safety {
		t.Errorf("uploads at %d (state) and %d (report), want between the rehearsal (%d) and the safety net (%d)", state, report, rehearse, safety)
	}
}

// Every run, scheduled or manual (workflow_dispatch), refuses to start
// without the S3 backend and the passphrase secret: the check is the
// first step, it runs whatever the event (no if:), and its script (run as
// GitHub runs it, bash -e) fails with a message naming what is missing.
func TestRunsRequireTheS3BackendAndPassphrase(t *testing.T) {
	w, _ := loadWorkflow(t)
	steps := w.Jobs["rehearsal"].Steps
	// The variable the rehearsal reads its --backend from.
	backendVar := ""
	for _, fl := range opflags.ToolEnv[program] {
		if fl.Name == "backend" {
			backendVar = fl.Env[0]
		}
	}
	if backendVar == "" {
		t.Fatal("opflags.ToolEnv gives the rehearsal's --backend no variable")
	}
	if !strings.Contains(steps[0].Run, "$"+backendVar) || !strings.Contains(steps[0].Run, "PULUMI_CONFIG_PASSPHRASE") {
		t.Fatalf("the first step %+v is not the backend and passphrase check", steps[0])
	}
	if steps[0].If != "" {
		t.Errorf("the check runs only if %q: a manual run (workflow_dispatch) must be refused too, as a scheduled one is", steps[0].If)
	}
	if len(w.On.Schedule) == 0 || w.On.WorkflowDispatch.Inputs == nil {
		t.Fatal("the workflow is no longer both scheduled and manual: revisit this test")
	}
	if env := w.Jobs["rehearsal"].Env; env[backendVar] != "${{ vars.REHEARSAL_BACKEND }}" || env["PULUMI_CONFIG_PASSPHRASE"] != "${{ secrets.REHEARSAL_PASSPHRASE }}" {
		t.Fatalf("job env %v does not carry the backend variable (as %s) and the passphrase secret", env, backendVar)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to run the step's script")
	}
	for _, tc := range []struct {
		backend, passphrase string
		want                string // "" means the check passes
	}{
		{"s3://rehearsal-state?region=us-east-1", "secret", ""},
		{"", "secret", "REHEARSAL_BACKEND"},
		{"file:///tmp/state", "secret", "REHEARSAL_BACKEND"},
		{"s3://", "secret", "REHEARSAL_BACKEND"},
		{"s3://rehearsal-state?region=us-east-1", "", "REHEARSAL_PASSPHRASE"},
	} {
		cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", steps[0].Run)
		cmd.Env = append(os.Environ(), backendVar+"="+tc.backend, "PULUMI_CONFIG_PASSPHRASE="+tc.passphrase)
		out, err := cmd.CombinedOutput()
		if tc.want == "" {
			if err != nil {
				t.Errorf("backend %q: the check failed: %v\n%s", tc.backend, err, out)
			}
			continue
		}
		if err == nil || !strings.Contains(string(out), "::error::") || !strings.Contains(string(out), tc.want) {
			t.Errorf("backend %q passphrase %q: err %v, output %q; want a failure naming %s", tc.backend, tc.passphrase, err, out, tc.want)
		}
	}
}
