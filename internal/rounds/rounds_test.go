package rounds_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/rounds"
)

var drills = []string{"crash", "graceful"}

func TestPlanReplaysFromItsSeed(t *testing.T) {
	a, b := rounds.Plan(42, drills, 100), rounds.Plan(42, drills, 100)
	if !slices.Equal(a, b) || len(a) != 100 {
		t.Fatalf("two plans of seed 42 differ or are not 100 long:\n%v\n%v", a, b)
	}
	if c := rounds.Plan(43, drills, 100); slices.Equal(a, c) {
		t.Error("seeds 42 and 43 give the same plan")
	}
	// Both drills are drawn, about as often each.
	n := 0
	for _, d := range a {
		if d == "crash" {
			n++
		}
	}
	if n < 30 || n > 70 {
		t.Errorf("%d crashes of 100: the draw is not even", n)
	}
	// A prefix of a longer plan: --rounds 10 replays the first 10 of 100.
	if p := rounds.Plan(42, drills, 10); !slices.Equal(p, a[:10]) {
		t.Errorf("the first 10 rounds %v are not those of the 100 %v", p, a[:10])
	}
	if rounds.Plan(1, nil, 3) != nil || rounds.Plan(1, drills, 0) != nil {
		t.Error("a plan of no drills or no rounds is not empty")
	}
}

func TestStatsNearestRank(t *testing.T) {
	var vs []float64
	for i := 100; i >= 1; i-- {
		vs = append(vs, float64(i))
	}
	if s := rounds.NewStats(vs); s != (rounds.Stats{N: 100, P50: 50, P95: 95, Max: 100}) {
		t.Errorf("stats of 1..100: %+v", s)
	}
	if s := rounds.NewStats([]float64{3, 1, 2}); s != (rounds.Stats{N: 3, P50: 2, P95: 3, Max: 3}) {
		t.Errorf("stats of 1..3: %+v", s)
	}
	if s := rounds.NewStats(nil); s != (rounds.Stats{}) {
		t.Errorf("stats of nothing: %+v", s)
	}
}

// fake rounds: RTO = n seconds; round fail says which fails how.
func runFake(t *testing.T, n int, fail map[int]string) (rounds.Summary, []string, []int) {
	t.Helper()
	var ran []string
	var restored []int
	rpo := 0.5
	s := rounds.Run(context.Background(), rounds.Config{Rounds: n, Seed: 7, Drills: drills,
		Round: func(_ context.Context, i int, d string) (rounds.Outcome, error) {
			ran = append(ran, d)
			o := rounds.Outcome{Recovered: true, RTOSeconds: float64(i), Acknowledged: 10}
			switch fail[i] {
			case "error":
				return rounds.Outcome{}, errors.New("kill refused")
			case "lost":
				o.Lost, o.RPOSeconds, o.Problems = 2, &rpo, []string{"2 of 10 clicks lost"}
			case "down":
				o.Recovered, o.Problems = false, []string{"the app did not come back"}
			}
			return o, nil
		},
		Restore: func(_ context.Context, i int) error {
			restored = append(restored, i)
			if fail[i] == "restore" {
				return errors.New("pulumi up failed")
			}
			return nil
		}})
	return s, ran, restored
}

func TestRunSummarises(t *testing.T) {
	s, ran, restored := runFake(t, 20, map[int]string{4: "lost"})
	if !slices.Equal(ran, rounds.Plan(7, drills, 20)) {
		t.Errorf("drills run %v, want the plan of seed 7", ran)
	}
	if len(restored) != 19 || restored[18] != 19 {
		t.Errorf("restored after rounds %v: want after every round but the last", restored)
	}
	if s.OK() || s.Recovered != 20 || s.Passed != 19 || s.Acknowledged != 200 || s.Lost != 2 || s.Stopped != "" {
		t.Errorf("summary %+v", s)
	}
	if s.RTO != (rounds.Stats{N: 20, P50: 10, P95: 19, Max: 20}) || s.RPO == nil || s.RPO.N != 1 || s.RPO.Max != 0.5 {
		t.Errorf("RTO %+v RPO %+v", s.RTO, s.RPO)
	}
	if p := s.Problems(); len(p) != 1 || !strings.Contains(p[0], "round 4") {
		t.Errorf("problems %q", p)
	}
	var b bytes.Buffer
	s.Write(&b)
	for _, want := range []string{"20 of 20 run", "seed 7 (replay with --seed 7)", "p50 10.000s, p95 19.000s, max 20.000s", "RPO over 1 rounds", "200 acknowledged, 2 lost"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
	if ok, _, _ := runFake(t, 5, nil); !ok.OK() || ok.RPO != nil {
		t.Errorf("a clean run: %+v", ok)
	}
}

func TestRunStops(t *testing.T) {
	for _, tc := range []struct {
		fail map[int]string
		want string
		ran  int
	}{
		{map[int]string{3: "down"}, "did not recover", 3},
		{map[int]string{2: "error"}, "kill refused", 2},
		{map[int]string{5: "restore"}, "pulumi up failed", 5},
	} {
		s, ran, _ := runFake(t, 10, tc.fail)
		if len(ran) != tc.ran || len(s.Rounds) != tc.ran || !strings.Contains(s.Stopped, tc.want) || s.OK() {
			t.Errorf("%v: ran %d, stopped %q; want %d rounds and %q", tc.fail, len(ran), s.Stopped, tc.ran, tc.want)
		}
		if p := strings.Join(s.Problems(), "\n"); !strings.Contains(p, "replay with --seed 7") {
			t.Errorf("%v: problems do not give the seed: %s", tc.fail, p)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := rounds.Run(ctx, rounds.Config{Rounds: 3, Seed: 1, Drills: drills, Round: func(context.Context, int, string) (rounds.Outcome, error) {
		t.Error("a round ran after the cancellation")
		return rounds.Outcome{}, nil
	}})
	if len(s.Rounds) != 0 || !strings.Contains(s.Stopped, "before round 1") {
		t.Errorf("cancelled run %+v", s)
	}
}

// FullStrength runs after every recovered round, before the next kill (and
// before Restore); its times make the summary's time to full strength, and
// a group that does not come back stops the run before another kill.
func TestFullStrengthBetweenKills(t *testing.T) {
	var log []string
	cfg := rounds.Config{Rounds: 4, Seed: 7, Drills: drills,
		Round: func(_ context.Context, n int, _ string) (rounds.Outcome, error) {
			log = append(log, fmt.Sprintf("kill %d", n))
			return rounds.Outcome{Recovered: true, RTOSeconds: 1}, nil
		},
		Restore: func(_ context.Context, n int) error { log = append(log, fmt.Sprintf("restore %d", n)); return nil },
		FullStrength: func(_ context.Context, n int) (time.Duration, error) {
			log = append(log, fmt.Sprintf("full %d", n))
			if n == 3 {
				return 0, errors.New("1 of 2 InService")
			}
			return time.Duration(n) * time.Second, nil
		},
	}
	s := rounds.Run(context.Background(), cfg)
	want := []string{"kill 1", "full 1", "restore 1", "kill 2", "full 2", "restore 2", "kill 3", "full 3"}
	if !slices.Equal(log, want) {
		t.Errorf("order %v, want %v", log, want)
	}
	if s.FullStrength == nil || *s.FullStrength != (rounds.Stats{N: 2, P50: 1, P95: 2, Max: 2}) {
		t.Errorf("time to full strength %+v", s.FullStrength)
	}
	if s.OK() || !strings.Contains(s.Stopped, "stopped after round 3") || !strings.Contains(s.Stopped, "1 of 2 InService") {
		t.Errorf("stopped %q", s.Stopped)
	}
	var out bytes.Buffer
	s.Write(&out)
	if !strings.Contains(out.String(), "time to full strength (kill to the agents' group all InService) over 2 rounds: p50 1.000s") {
		t.Errorf("summary:\n%s", out.String())
	}
}
