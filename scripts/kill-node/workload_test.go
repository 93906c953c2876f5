package main

import (
	"context"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/workload"
)

// jsonRun runs kill-node with --json, human lines going to progress (which
// a test may hook), and returns the exit code and the report.
func jsonRun(t *testing.T, d deps, progress *failovertest.Progress, a ...string) (int, failover.Report, string) {
	t.Helper()
	var stdout strings.Builder
	d.stdout, d.stderr = &stdout, progress
	code := run(context.Background(), append(a, "--json"), d)
	var rep failover.Report
	if stdout.Len() > 0 {
		if err := json.Unmarshal([]byte(stdout.String()), &rep); err != nil {
			t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout.String())
		}
	}
	return code, rep, progress.String()
}

// failedLines are kill-node's one-line reasons on stderr.
func failedLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, program+": FAILED: ") {
			out = append(out, strings.TrimPrefix(l, program+": FAILED: "))
		}
	}
	return out
}

// checkAgainstTheApp checks the report's workload against what the app
// holds now, independently of the report's own check: every click the log
// has acknowledged is there, and every mark of the writer there was sent.
func checkAgainstTheApp(t *testing.T, c *failovertest.Cluster, w *workload.Summary) {
	t.Helper()
	read, err := c.App().Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, v := range read {
		have[v] = true
	}
	sent := map[string]bool{}
	for _, k := range w.Clicks {
		sent[k.Value] = true
		if k.Outcome == workload.OK && !have[k.Value] {
			t.Errorf("click %s acknowledged at %s is not in the app", k.Value, k.AnsweredAt)
		}
	}
	for _, v := range read {
		if m, ok := mobycounter.ParseMark(v); ok && strconv.FormatUint(uint64(m.Writer), 16) == strings.TrimLeft(w.Writer, "0") && !sent[v] {
			t.Errorf("the app holds %s, which the writer never sent", v)
		}
	}
}

// The writer's clicks go through a crash and a graceful kill: every
// acknowledged click is read back, none that was never sent; the report
// carries the client's outage and RTO beside the watch's events.
func TestWorkloadThroughCrashAndGracefulKills(t *testing.T) {
	for _, tc := range []struct {
		mode failover.Mode
		opts failovertest.Options
	}{
		{failover.ModeCrash, failovertest.Options{}},
		// The page cache is flushed by the graceful shutdown only.
		{failover.ModeGraceful, failovertest.Options{Buffered: true}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			c := failovertest.StartT(t, tc.opts)
			var progress failovertest.Progress
			code, rep, stderr := jsonRun(t, testDeps(c, ""), &progress, args("--outputs", outputsFile(t, c), "--yes", "--clicks", "0", "--mode", string(tc.mode))...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			w := rep.Workload
			if w == nil || !w.ReadBack || w.Sent == 0 || w.OK == 0 || len(w.Lost) != 0 || w.RPOSeconds != 0 || len(w.Phantoms) != 0 {
				t.Fatalf("workload %+v", w)
			}
			if w.StartedSinceKillSeconds >= 0 || w.StoppedSinceKillSeconds <= rep.RTOSeconds {
				t.Errorf("the writer ran from %+.3fs to %+.3fs, not across the kill and the recovery at %.3fs", w.StartedSinceKillSeconds, w.StoppedSinceKillSeconds, rep.RTOSeconds)
			}
			if !w.ClientRecovered || w.Outage == nil || w.Outage.Open || w.Outage.Seconds <= 0 || w.ClientRTOSeconds <= 0 {
				t.Errorf("client recovered %v, outage %+v, RTO %v", w.ClientRecovered, w.Outage, w.ClientRTOSeconds)
			}
			for _, v := range w.Verdicts {
				if v.Judged && !v.Held {
					t.Errorf("verdict %+v", v)
				}
			}
			if j := rep.Judgement; j == nil || !j.Passed || len(j.Problems) != 0 {
				t.Errorf("judgement %+v", j)
			}
			back := false
			for _, e := range rep.Timeline {
				back = back || e.Name == failover.EventWritesBack && e.Source == failover.SourceClicks && e.SinceKillSeconds == w.ClientRTOSeconds
			}
			if !back {
				t.Errorf("the timeline lacks %q at the client's RTO %.3fs", failover.EventWritesBack, w.ClientRTOSeconds)
			}
			for _, want := range []string{"workload: writer " + w.Writer, "workload: outage: ", "RTO as the client saw it", "workload:   held: " + workload.InvariantAcknowledged, "verdict: PASSED"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("the human lines lack %q:\n%s", want, stderr)
				}
			}
			checkAgainstTheApp(t, c, w)
		})
	}
}

// A crash on a node whose kernel writes back more slowly than the bound
// loses acknowledged clicks older than it: the RPO is reported and judged,
// kill-node exits 1 and says why on one line. The same node killed
// gracefully loses none.
func TestCrashLosesMoreThanTheBound(t *testing.T) {
	slow := failovertest.Options{Writeback: time.Minute}
	c := failovertest.StartT(t, slow)
	var progress failovertest.Progress
	code, rep, stderr := jsonRun(t, testDeps(c, ""), &progress, args("--outputs", outputsFile(t, c), "--yes", "--clicks", "0")...)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	w := rep.Workload
	bound := testWorkload.Loss.Bound.Seconds()
	if w == nil || !w.ReadBack || len(w.Lost) == 0 || w.RPOSeconds <= bound || w.LossBoundSeconds != bound {
		t.Fatalf("workload %+v: want acknowledged clicks lost, RPO over the bound %vs", w, bound)
	}
	oldest := w.Lost[0]
	if oldest.Allowed || oldest.AgeAtKillSeconds != w.RPOSeconds {
		t.Errorf("oldest lost click %+v, RPO %v", oldest, w.RPOSeconds)
	}
	lines := failedLines(stderr)
	if rep.Judgement == nil || len(lines) != len(rep.Judgement.Problems) || len(lines) != 1 ||
		!strings.HasPrefix(lines[0], workload.InvariantAcknowledged+": violated: RPO ") || !strings.Contains(lines[0], "exceeds the crash-loss bound 40ms") {
		t.Errorf("stderr reasons %q, judgement %+v", lines, rep.Judgement)
	}
	if !rep.Recovered {
		t.Errorf("the app did recover: %s", rep.Error)
	}

	c = failovertest.StartT(t, slow)
	progress = failovertest.Progress{}
	code, rep, stderr = jsonRun(t, testDeps(c, ""), &progress, args("--outputs", outputsFile(t, c), "--yes", "--clicks", "0", "--mode", "graceful")...)
	if code != 0 || rep.Workload == nil || len(rep.Workload.Lost) != 0 || rep.Workload.OK == 0 {
		t.Errorf("graceful: exit %d, workload %+v\n%s", code, rep.Workload, stderr)
	}
}

// A click of the writer that it never sent, planted in the app while the
// writer runs, is reported as a phantom and fails the run.
func TestPhantomClickReported(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	var phantom string
	writerLine := regexp.MustCompile(`^writer ([0-9a-f]{8}) \(seed`)
	progress := failovertest.Progress{OnWrite: func(s string) {
		m := writerLine.FindStringSubmatch(s)
		if m == nil || phantom != "" {
			return
		}
		id, _ := strconv.ParseUint(m[1], 16, 32)
		phantom = mobycounter.Mark{Writer: uint32(id), Seq: 1_000_000}.String()
		if err := c.App().Write(context.Background(), phantom); err != nil {
			t.Errorf("planting %s: %v", phantom, err)
		}
	}}
	code, rep, stderr := jsonRun(t, testDeps(c, ""), &progress, args("--outputs", outputsFile(t, c), "--yes", "--clicks", "0")...)
	if phantom == "" {
		t.Fatalf("no writer line to plant the phantom at:\n%s", stderr)
	}
	if code != 1 || rep.Workload == nil || len(rep.Workload.Phantoms) != 1 || rep.Workload.Phantoms[0] != phantom {
		t.Fatalf("exit %d, workload %+v: want the phantom %s\n%s", code, rep.Workload, phantom, stderr)
	}
	if lines := failedLines(stderr); len(lines) != 1 || !strings.HasPrefix(lines[0], workload.InvariantNoPhantom+": violated") || !strings.Contains(lines[0], phantom) {
		t.Errorf("stderr reasons %q", lines)
	}
}

// A slow detection makes the RTO exceed the limit: exit 1, the reason on
// one line. The same run within a wider limit passes.
func TestOverBudgetExits1(t *testing.T) {
	const detection = 400 * time.Millisecond // no recovery can come sooner
	c := failovertest.StartT(t, failovertest.Options{DetectionDelay: detection})
	var progress failovertest.Progress
	code, rep, stderr := jsonRun(t, testDeps(c, ""), &progress, args("--outputs", outputsFile(t, c), "--yes", "--clicks", "0", "--rto-limit", "200ms")...)
	if code != 1 || !rep.Recovered || rep.RTO() < detection {
		t.Fatalf("exit %d, recovered %v, RTO %s\n%s", code, rep.Recovered, rep.RTO(), stderr)
	}
	lines := failedLines(stderr)
	if len(lines) != 1 || !strings.Contains(lines[0], "exceeds the limit 200ms") || rep.Judgement.RTOLimitFrom != "--rto-limit 200ms" {
		t.Errorf("stderr reasons %q, judgement %+v", lines, rep.Judgement)
	}

	c = failovertest.StartT(t, failovertest.Options{DetectionDelay: detection})
	progress = failovertest.Progress{}
	if code, rep, stderr = jsonRun(t, testDeps(c, ""), &progress, args("--outputs", outputsFile(t, c), "--yes", "--clicks", "0", "--rto-limit", "1m")...); code != 0 || !rep.Judgement.Passed {
		t.Errorf("within the limit: exit %d, judgement %+v\n%s", code, rep.Judgement, stderr)
	}
}

// The budget's own limit is the budget plus --margin, as the rehearsal's.
func TestJudgedAgainstTheBudgetPlusMargin(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	var progress failovertest.Progress
	code, rep, stderr := jsonRun(t, testDeps(c, ""), &progress, args("--outputs", outputsFile(t, c), "--yes", "--clicks", "0", "--margin", "3s")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if want := rep.Budget.Seconds + 3; math.Abs(rep.Judgement.RTOLimitSeconds-want) > 1e-9 || !strings.Contains(rep.Judgement.RTOLimitFrom, "+ margin 3s") {
		t.Errorf("judgement %+v, want the budget + 3s", rep.Judgement)
	}
}

// Never recovered: exit 1, the reason on one line, and the writer's clicks
// said unchecked rather than kept.
func TestNeverRecoveredExits1(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{NeverRelaunch: true})
	var progress failovertest.Progress
	code, rep, stderr := jsonRun(t, testDeps(c, ""), &progress, "--outputs", outputsFile(t, c), "--yes", "--clicks", "0", "--interval", "5ms", "--timeout", "300ms")
	if code != 1 || rep.Recovered {
		t.Fatalf("exit %d, recovered %v\n%s", code, rep.Recovered, stderr)
	}
	lines := failedLines(stderr)
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "the app did not come back through the ELB: deadline 300ms exceeded") ||
		!strings.HasPrefix(lines[1], "the writer's clicks were not checked") {
		t.Errorf("stderr reasons %q", lines)
	}
	if w := rep.Workload; w == nil || w.ReadBack || w.ClientRecovered || w.Outage == nil || !w.Outage.Open {
		t.Errorf("workload %+v", w)
	}
	if strings.Contains(stderr, "workload:   held:") {
		t.Errorf("an unchecked invariant is said to hold:\n%s", stderr)
	}
}

func TestBadJudgeFlags(t *testing.T) {
	for _, a := range [][]string{{"--margin", "-1s"}, {"--rto-limit", "-1s"}, {"--seed", "x"}} {
		r := runWith(t, deps{stdin: strings.NewReader("")}, append([]string{"--stack", "dev"}, a...)...)
		if r.code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", a, r.code, r.stderr)
		}
	}
}

// A master kill is judged the same way: over --rto-limit, exit 1 with the
// reason on one line.
func TestMasterOverTheLimitExits1(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Masters: 3})
	// No new leader can come before the session timeout.
	limit := failovertest.DefaultSessionTimeout / 2
	r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes", "--target", "leading-master", "--rto-limit", limit.String())...)
	if lines := failedLines(r.stderr); r.code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "exceeds the limit "+limit.String()) {
		t.Errorf("exit %d, reasons %q\nstderr:\n%s", r.code, lines, r.stderr)
	}
}
