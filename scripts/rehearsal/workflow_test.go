package main

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	pulumisdk "github.com/pulumi/pulumi/sdk/v3"

	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

const workflowPath = "../../.github/workflows/rehearsal.yml"

type step struct {
	Name           string            `yaml:"name"`
	ID             string            `yaml:"id"`
	Uses           string            `yaml:"uses"`
	If             string            `yaml:"if"`
	Run            string            `yaml:"run"`
	With           map[string]string `yaml:"with"`
	TimeoutMinutes int               `yaml:"timeout-minutes"`
}

type workflow struct {
	On struct {
		WorkflowDispatch struct {
			Inputs map[string]struct {
				Type    string   `yaml:"type"`
				Default string   `yaml:"default"`
				Options []string `yaml:"options"`
			} `yaml:"inputs"`
		} `yaml:"workflow_dispatch"`
		Schedule []struct {
			Cron string `yaml:"cron"`
		} `yaml:"schedule"`
	} `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Concurrency struct {
		Group            string `yaml:"group"`
		CancelInProgress *bool  `yaml:"cancel-in-progress"`
	} `yaml:"concurrency"`
	Jobs map[string]struct {
		Strategy struct {
			FailFast    *bool `yaml:"fail-fast"`
			MaxParallel int   `yaml:"max-parallel"`
			Matrix      struct {
				Include []leg `yaml:"include"`
			} `yaml:"matrix"`
		} `yaml:"strategy"`
		Env            map[string]string `yaml:"env"`
		Steps          []step            `yaml:"steps"`
		TimeoutMinutes int               `yaml:"timeout-minutes"`
	} `yaml:"jobs"`
}

// leg is one entry of the rehearsal job's matrix: the stack's masters and
// what the rehearsal kills on it.
type leg struct {
	Masters int    `yaml:"masters"`
	Drills  string `yaml:"drills"`
}

func loadWorkflow(t *testing.T) (workflow, string) {
	t.Helper()
	raw, err := os.ReadFile(workflowPath)
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(raw, &w); err != nil {
		t.Fatalf("%s is not valid YAML of a workflow: %v", workflowPath, err)
	}
	return w, string(raw)
}

// stepIndex returns the index of the first step that matches, or -1.
func stepIndex(steps []step, match func(step) bool) int { return slices.IndexFunc(steps, match) }

func TestWorkflow(t *testing.T) {
	w, raw := loadWorkflow(t)

	in := w.On.WorkflowDispatch.Inputs
	if in["region"].Default == "" || !slices.Equal(in["volume-driver"].Options, []string{"rexray", "flocker"}) ||
		!slices.Equal(in["kill-mode"].Options, []string{"crash", "graceful"}) || in["kill-mode"].Default != "crash" || in["rto-limit"].Default != "" ||
		in["serving-limit"].Default != "" || !strings.Contains(raw, `${SERVING_LIMIT:+--serving-limit "$SERVING_LIMIT"}`) {
		t.Errorf("workflow_dispatch inputs %+v, want region, volume-driver (rexray, flocker), kill-mode (crash, graceful; crash), rto-limit (empty: judged by the budget) and serving-limit (empty: the goal, passed only when set)", in)
	}
	if len(w.On.Schedule) != 1 || len(strings.Fields(w.On.Schedule[0].Cron)) != 5 || strings.Fields(w.On.Schedule[0].Cron)[4] == "*" {
		t.Errorf("schedule %+v, want one weekly cron", w.On.Schedule)
	}
	if len(w.Permissions) != 2 || w.Permissions["id-token"] != "write" || w.Permissions["contents"] != "read" {
		t.Errorf("permissions %v, want exactly id-token: write and contents: read", w.Permissions)
	}
	if !strings.Contains(w.Concurrency.Group, "github.ref") || w.Concurrency.CancelInProgress == nil || *w.Concurrency.CancelInProgress {
		t.Errorf("concurrency %+v, want a group per branch and cancel-in-progress false", w.Concurrency)
	}
	if strings.Contains(raw, "aws-access-key-id") || strings.Contains(raw, "AWS_SECRET_ACCESS_KEY") {
		t.Error("the workflow uses stored AWS keys; it must use OIDC only")
	}

	job, ok := w.Jobs["rehearsal"]
	if !ok {
		t.Fatalf("no rehearsal job in %v", w.Jobs)
	}
	steps := job.Steps
	uses := func(prefix string) func(step) bool {
		return func(s step) bool { return strings.HasPrefix(s.Uses, prefix) }
	}

	aws := stepIndex(steps, uses("aws-actions/configure-aws-credentials@v4"))
	if aws < 0 || !strings.Contains(steps[aws].With["role-to-assume"], "vars.") || steps[aws].With["aws-region"] == "" {
		t.Errorf("configure-aws-credentials@v4 must assume a role named by a repository variable: %+v", steps)
	}
	goSetup := stepIndex(steps, uses("actions/setup-go@v5"))
	if goSetup < 0 || steps[goSetup].With["go-version-file"] != "go.mod" {
		t.Error("setup-go@v5 must read the Go version from go.mod")
	}
	cli := stepIndex(steps, uses("pulumi/actions@v7"))
	if cli < 0 || steps[cli].With["pulumi-version"] != pulumisdk.Version.String() || steps[cli].With["command"] != "" {
		t.Errorf("pulumi/actions@v7 must only install the CLI of the SDK's version %s: %+v", pulumisdk.Version, steps[max(cli, 0)])
	}

	rehearse := stepIndex(steps, func(s step) bool {
		return strings.Contains(s.Run, "--output") && !strings.Contains(s.Run, "--destroy-run")
	})
	if rehearse < 0 || !strings.HasPrefix(strings.TrimSpace(steps[rehearse].Run), "exec ") {
		t.Fatalf("no rehearsal step run with exec (the runner's SIGINT must reach the rehearsal): %+v", steps)
	}
	if rehearse < aws || rehearse < cli || rehearse < goSetup {
		t.Error("the rehearsal runs before its credentials, Go or the Pulumi CLI are set up")
	}
	safety := stepIndex(steps, func(s step) bool { return strings.Contains(s.Run, "--destroy-run") })
	if safety < rehearse || steps[safety].If != "always()" && steps[safety].If != "cancelled()" {
		t.Errorf("no destroy safety net with if: always() after the rehearsal: %+v", steps)
	}
	report := stepIndex(steps, func(s step) bool {
		return strings.HasPrefix(s.Uses, "actions/upload-artifact@v4") && strings.HasSuffix(s.With["path"], "rehearsal-report.json")
	})
	if report < 0 || steps[report].If != "always()" || !strings.Contains(steps[rehearse].Run, "rehearsal-report.json") {
		t.Errorf("the report the rehearsal writes is not uploaded with if: always(): %+v", steps)
	}
	// The drawing the rehearsal writes next to its report, before the
	// safety net, whatever happened.
	svg := stepIndex(steps, func(s step) bool {
		return strings.HasPrefix(s.Uses, "actions/upload-artifact@v4") && s.With["path"] == "${{ runner.temp }}/"+svgPath("rehearsal-report.json")
	})
	if svg < rehearse || svg > safety || steps[svg].If != "always()" || steps[svg].With["name"] == steps[max(report, 0)].With["name"] {
		t.Errorf("the failover's SVG (%s) is not uploaded as its own artifact with if: always() between the rehearsal and the safety net: %+v", svgPath("rehearsal-report.json"), steps)
	}
	state := stepIndex(steps, func(s step) bool {
		return strings.HasPrefix(s.Uses, "actions/upload-artifact@v4") && strings.Contains(s.With["path"], "state/")
	})
	if state < 0 || !strings.Contains(steps[state].If, "failure()") {
		t.Fatalf("the state of a failed run is not uploaded: %+v", steps)
	}
	for _, p := range strings.Split(strings.TrimSpace(steps[state].With["path"]), "\n") {
		if !strings.HasSuffix(p, "/run.json") && !strings.HasSuffix(p, "/state/") {
			t.Errorf("state upload includes %q: only run.json and state/ are free of secrets", p)
		}
	}
}

// TestWorkflowFlagsExist: every flag the workflow passes to the rehearsal is
// one the rehearsal parses, so renaming a flag cannot leave CI calling the
// old name (flag's ContinueOnError would fail the run only on AWS).
func TestWorkflowFlagsExist(t *testing.T) {
	w, _ := loadWorkflow(t)
	flagRE := regexp.MustCompile(`(?:^|\s|\+)--([a-z][a-z-]*)`)
	seen := 0
	for _, job := range w.Jobs {
		for _, s := range job.Steps {
			if !strings.Contains(s.Run, `"$RUNNER_TEMP/rehearsal"`) {
				continue
			}
			for _, m := range flagRE.FindAllStringSubmatch(s.Run, -1) {
				seen++
				// Ask the rehearsal itself: an unknown flag fails parsing
				// with "flag provided but not defined".
				var stderr strings.Builder
				run([]string{"--" + m[1] + "=x", "-h"}, io.Discard, &stderr, deps{getenv: func(string) string { return "" }})
				if strings.Contains(stderr.String(), "flag provided but not defined") {
					t.Errorf("step %q passes --%s, which the rehearsal does not define", s.Name, m[1])
				}
			}
		}
	}
	if seen < 5 {
		t.Fatalf("found only %d rehearsal flags in the workflow: is the step still there?", seen)
	}
}

// TestWorkflowMatrix: the weekly rehearsal runs a one-master stack with
// the default drill and a five-master stack that kills Marathon's leading
// master and then the Mesos leader's (two masters lost for good: five keep
// a quorum), one leg after the other, neither cancelling the other, each
// with its own artifacts.
func TestWorkflowMatrix(t *testing.T) {
	w, _ := loadWorkflow(t)
	job := w.Jobs["rehearsal"]
	st := job.Strategy
	if st.FailFast == nil || *st.FailFast || st.MaxParallel != 1 {
		t.Errorf("strategy fail-fast %v, max-parallel %d: want false (a failed leg must not cancel one whose stack is up) and 1 (one stack at a time)", st.FailFast, st.MaxParallel)
	}
	var masters []int
	for _, l := range st.Matrix.Include {
		drills, err := rehearsal.ParseDrills(l.Drills)
		if err != nil {
			t.Errorf("leg %+v: %v", l, err)
			continue
		}
		want := max(1, rehearsal.MasterCountFor(drills))
		if l.Masters != want {
			t.Errorf("leg %+v: its drills give a stack of %d masters", l, want)
		}
		if l.Masters > 1 && !slices.Equal(drills, []string{rehearsal.DrillLeadingMaster, rehearsal.DrillMesosLeader}) {
			t.Errorf("leg %+v: the masters' leg must kill Marathon's leading master, then the Mesos leader's", l)
		}
		masters = append(masters, l.Masters)
	}
	if !slices.Equal(masters, []int{1, 5}) {
		t.Errorf("matrix legs of %v masters, want one master then 5 (two master drills)", masters)
	}
	steps := job.Steps
	rehearse := stepIndex(steps, func(s step) bool {
		return strings.Contains(s.Run, "--output") && !strings.Contains(s.Run, "--destroy-run")
	})
	if job.Env["DRILLS"] != "${{ matrix.drills }}" || rehearse < 0 || !strings.Contains(steps[rehearse].Run, `--drills "$DRILLS"`) {
		t.Errorf("the rehearsal is not run with the leg's drills (env DRILLS %q)", job.Env["DRILLS"])
	}
	// upload-artifact@v4 refuses a name already uploaded in the run.
	for _, s := range steps {
		if strings.HasPrefix(s.Uses, "actions/upload-artifact@") && !strings.Contains(s.With["name"], "${{ matrix.masters }}") {
			t.Errorf("artifact %q does not name the leg: the legs' uploads would collide", s.With["name"])
		}
	}
}
