package workload

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
)

const writer = 0xabcd1234

var kill = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// at is a time relative to the kill.
func at(ms int) time.Time { return kill.Add(time.Duration(ms) * time.Millisecond) }

// logOf makes a log: one click per entry, answered at the given time
// (milliseconds from the kill) with the given outcome.
func logOf(entries ...struct {
	ms int
	o  Outcome
}) []Click {
	var log []Click
	for i, e := range entries {
		seq := i + 1
		log = append(log, Click{Seq: seq, Value: mobycounter.Mark{Writer: writer, Seq: seq}.String(),
			SentAt: at(e.ms - 5), AnsweredAt: at(e.ms), Outcome: e.o})
	}
	return log
}

type entry = struct {
	ms int
	o  Outcome
}

// aRun is a writer from 4 s before the kill to 3 s after it; a crash may
// lose 2 s.
func aRun(crash bool) Run {
	return Run{Writer: writer, Seed: 7, Started: at(-4000), Stopped: at(3000), StoppedBy: StoppedByFinish,
		MinGap: 100 * time.Millisecond, MaxGap: 250 * time.Millisecond, Lead: 4 * time.Second,
		Loss: Allowance{Crash: crash, Bound: 2 * time.Second}}
}

// The log of a failover: good answers up to 200 ms before the kill, an
// outage, and good answers from the replacement from 1.5 s on.
func failoverLog() []Click {
	return logOf(entry{-3000, OK}, entry{-2500, OK}, entry{-1000, OK}, entry{-200, OK},
		entry{100, Failed}, entry{600, Unknown}, entry{1000, Failed}, entry{1500, OK}, entry{2000, OK})
}

func present(log []Click, except ...int) []string {
	skip := map[int]bool{}
	for _, s := range except {
		skip[s] = true
	}
	var read []string
	for _, c := range log {
		if !skip[c.Seq] {
			read = append(read, c.Value)
		}
	}
	return read
}

func verdict(t *testing.T, s Summary, inv string) Verdict {
	t.Helper()
	for _, v := range s.Verdicts {
		if v.Invariant == inv {
			return v
		}
	}
	t.Fatalf("no verdict %q in %+v", inv, s.Verdicts)
	return Verdict{}
}

// The outage is the longest gap between good answers that ends after the
// kill; the client's RTO is from the kill to its end.
func TestOutageAndClientRTO(t *testing.T) {
	log := failoverLog()
	s := Check(aRun(true), log, present(log), nil, kill)
	if s.Outage == nil || s.Outage.Open || s.Outage.FromSinceKillSeconds != -0.2 || s.Outage.ToSinceKillSeconds != 1.5 || s.Outage.Seconds != 1.7 {
		t.Fatalf("outage %+v, want -0.2s to 1.5s", s.Outage)
	}
	if !s.ClientRecovered || s.ClientRTOSeconds != 1.5 {
		t.Errorf("client recovered %v, RTO %v, want 1.5s", s.ClientRecovered, s.ClientRTOSeconds)
	}
	if s.Sent != 9 || s.OK != 6 || s.Failed != 2 || s.Unknown != 1 {
		t.Errorf("counts %d sent, %d ok, %d failed, %d unknown", s.Sent, s.OK, s.Failed, s.Unknown)
	}
	// A gap before the kill, longer than the outage, is not the outage.
	long := logOf(entry{-3900, OK}, entry{-100, OK}, entry{200, OK}, entry{2000, OK})
	if s := Check(aRun(true), long, present(long), nil, kill); s.Outage.ToSinceKillSeconds != 2 || s.Outage.Seconds != 1.8 {
		t.Errorf("outage %+v, want the gap that ends after the kill (0.2s to 2s)", s.Outage)
	}
}

// No good answer after the kill, or good answers that stop for longer than
// any gap after the kill: the client saw no recovery.
func TestOpenOutage(t *testing.T) {
	for name, log := range map[string][]Click{
		"none after the kill":       logOf(entry{-1000, OK}, entry{-200, OK}, entry{500, Failed}),
		"the dying agent's answers": logOf(entry{-1000, OK}, entry{-200, OK}, entry{50, OK}, entry{500, Failed}, entry{2900, Unknown}),
	} {
		s := Check(aRun(true), log, present(log), nil, kill)
		if s.Outage == nil || !s.Outage.Open || s.ClientRecovered || s.Outage.ToSinceKillSeconds != 3 {
			t.Errorf("%s: outage %+v, client recovered %v: want open to the writer's stop", name, s.Outage, s.ClientRecovered)
		}
	}
}

// Every acknowledged click present: the invariants hold, RPO 0.
func TestNothingLost(t *testing.T) {
	log := failoverLog()
	for _, crash := range []bool{true, false} {
		s := Check(aRun(crash), log, present(log), nil, kill)
		if p := s.Problems(); len(p) != 0 || s.RPOSeconds != 0 || len(s.Lost) != 0 || s.Present != 9 {
			t.Errorf("crash %v: problems %q, RPO %v, lost %v, present %d", crash, p, s.RPOSeconds, s.Lost, s.Present)
		}
	}
}

// A crash may lose the clicks acknowledged within the bound before it:
// reported, allowed, the RPO the age of the oldest one.
func TestCrashLossWithinTheBound(t *testing.T) {
	log := logOf(entry{-3000, OK}, entry{-1500, OK}, entry{-200, OK}, entry{50, OK}, entry{1500, OK})
	s := Check(aRun(true), log, present(log, 2, 3, 4), nil, kill)
	if len(s.Lost) != 3 || s.RPOSeconds != 1.5 || !s.Lost[0].Allowed || !s.Lost[2].Allowed || s.Lost[2].AgeAtKillSeconds != -0.05 {
		t.Fatalf("lost %+v, RPO %v: want 3 allowed, RPO 1.5s", s.Lost, s.RPOSeconds)
	}
	if p := s.Problems(); len(p) != 0 {
		t.Errorf("problems %q", p)
	}
	if v := verdict(t, s, InvariantAcknowledged); !v.Held || !strings.Contains(v.Detail, "within the crash-loss bound 2s") {
		t.Errorf("verdict %+v", v)
	}
}

// A crash that loses a click older than the bound fails, naming the RPO.
func TestCrashLossBeyondTheBound(t *testing.T) {
	log := logOf(entry{-3000, OK}, entry{-2500, OK}, entry{-200, OK}, entry{1500, OK})
	s := Check(aRun(true), log, present(log, 2, 3), nil, kill)
	if s.RPOSeconds != 2.5 || s.Lost[0].Allowed || !s.Lost[1].Allowed {
		t.Fatalf("lost %+v, RPO %v: want RPO 2.5s, the older click not allowed", s.Lost, s.RPOSeconds)
	}
	p := s.Problems()
	if len(p) != 1 || !strings.Contains(p[0], "RPO 2.500s exceeds the crash-loss bound 2s") || !strings.Contains(p[0], "mh-abcd1234-2 (acknowledged 2.5s before the kill)") {
		t.Errorf("problems %q", p)
	}
}

// A click the replacement acknowledged after the outage may never be
// lost, however young.
func TestLossAfterTheOutage(t *testing.T) {
	log := logOf(entry{-3000, OK}, entry{-200, OK}, entry{1500, OK}, entry{2000, OK})
	s := Check(aRun(true), log, present(log, 4), nil, kill)
	if s.RPOSeconds != 0 || len(s.Lost) != 1 || s.Lost[0].Allowed {
		t.Fatalf("lost %+v, RPO %v", s.Lost, s.RPOSeconds)
	}
	if p := s.Problems(); len(p) != 1 || !strings.Contains(p[0], "the replacement acknowledged after the outage") {
		t.Errorf("problems %q", p)
	}
}

// A graceful kill flushes the page cache: any acknowledged click lost
// fails, even one acknowledged after the kill by the dying agent.
func TestGracefulLosesNone(t *testing.T) {
	log := logOf(entry{-3000, OK}, entry{100, OK}, entry{1500, OK})
	s := Check(aRun(false), log, present(log, 2), nil, kill)
	if s.Lost[0].Allowed || s.LossBoundSeconds != 0 {
		t.Fatalf("lost %+v, bound %v", s.Lost, s.LossBoundSeconds)
	}
	if p := s.Problems(); len(p) != 1 || !strings.Contains(p[0], "after a graceful kill") {
		t.Errorf("problems %q", p)
	}
}

// A click of this writer that it never sent is a phantom and fails; other
// writers' marks and users' clicks are not judged; a duplicate is reported.
func TestPhantomsAndDuplicates(t *testing.T) {
	log := failoverLog()
	read := append(present(log), mobycounter.Mark{Writer: writer, Seq: 99}.String(), // never sent
		mobycounter.Mark{Writer: 0x11111111, Seq: 3}.String(), // an earlier run's
		"120:-40.5", "7:7", // users'
		log[0].Value) // stored twice
	s := Check(aRun(true), log, read, nil, kill)
	if len(s.Phantoms) != 1 || s.Phantoms[0] != "0:0:mh-abcd1234-99" || s.Foreign != 1 {
		t.Errorf("phantoms %q, foreign %d", s.Phantoms, s.Foreign)
	}
	if len(s.Duplicates) != 1 || s.Duplicates[0] != (Duplicate{Value: log[0].Value, Count: 2}) {
		t.Errorf("duplicates %+v", s.Duplicates)
	}
	p := s.Problems()
	if len(p) != 1 || !strings.HasPrefix(p[0], InvariantNoPhantom+": violated") || !strings.Contains(p[0], "0:0:mh-abcd1234-99") {
		t.Errorf("problems %q: want the phantom alone (a duplicate is reported, not judged)", p)
	}
	if v := verdict(t, s, InvariantNoDuplicate); v.Held || v.Judged {
		t.Errorf("duplicate verdict %+v", v)
	}
}

// Unanswered clicks may be present or absent; refused ones present are
// counted.
func TestUnknownAndFailedCounted(t *testing.T) {
	log := logOf(entry{-1000, OK}, entry{100, Unknown}, entry{200, Unknown}, entry{300, Failed}, entry{1500, OK})
	s := Check(aRun(true), log, present(log, 3), nil, kill)
	if s.UnknownPresent != 1 || s.UnknownAbsent != 1 || s.FailedPresent != 1 || len(s.Problems()) != 0 {
		t.Errorf("unknown %d present, %d absent, failed present %d, problems %q", s.UnknownPresent, s.UnknownAbsent, s.FailedPresent, s.Problems())
	}
}

// Clicks not read back are not judged, and say so.
func TestNotReadBack(t *testing.T) {
	log := failoverLog()
	s := Check(aRun(true), log, nil, errors.New("no answer"), kill)
	if s.ReadBack || len(s.Lost) != 0 {
		t.Fatalf("read back %v, lost %v", s.ReadBack, s.Lost)
	}
	if p := s.Problems(); len(p) != 1 || !strings.Contains(p[0], "not checked: no answer") {
		t.Errorf("problems %q", p)
	}
	for _, l := range s.Lines() {
		if strings.Contains(l, "held:") {
			t.Errorf("an unchecked invariant is said to hold: %q", l)
		}
	}
}

// Same seed, same pauses, each within the bounds; another seed differs.
func TestGapsReplay(t *testing.T) {
	lo, hi := 100*time.Millisecond, 250*time.Millisecond
	a, b, c := Gaps(42, lo, hi), Gaps(42, lo, hi), Gaps(43, lo, hi)
	differ := false
	for range 1000 {
		x, y, z := a(), b(), c()
		if x != y {
			t.Fatalf("seed 42 drew %s then %s", x, y)
		}
		if x < lo || x > hi {
			t.Fatalf("pause %s outside %s..%s", x, lo, hi)
		}
		differ = differ || x != z
	}
	if !differ {
		t.Error("seeds 42 and 43 drew the same pauses")
	}
}
