package rounds

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Summary is a run of rounds: each round, and over all of them the
// distribution of the RTO and the RPO and the clicks acknowledged and
// lost.
type Summary struct {
	Seed    uint64   `json:"seed"`
	Drills  []string `json:"drills"`
	Planned int      `json:"planned"`
	Rounds  []Round  `json:"rounds"`
	// Stopped says why the run ended before its planned rounds.
	Stopped string `json:"stopped,omitempty"`

	// Recovered counts the rounds that recovered; Passed those that also
	// had no problem. ByDrill counts the rounds of each drill.
	Recovered int            `json:"recovered"`
	Passed    int            `json:"passed"`
	ByDrill   map[string]int `json:"byDrill"`
	// RTO is over the recovered rounds; RPO over the rounds that measured
	// it, nil when none did.
	RTO Stats  `json:"rto"`
	RPO *Stats `json:"rpo,omitempty"`
	// FullStrength is the time from each round's kill to the agents'
	// group back at full strength, over the rounds that measured it.
	FullStrength *Stats `json:"fullStrength,omitempty"`
	Acknowledged int    `json:"acknowledged"`
	Lost         int    `json:"lost"`
}

// Stats is a distribution in seconds: its count, median, 95th percentile
// and maximum (nearest rank: the smallest value with at least p% of the
// values at or below it).
type Stats struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}

// NewStats is the distribution of vs.
func NewStats(vs []float64) Stats {
	if len(vs) == 0 {
		return Stats{}
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	rank := func(p float64) float64 { return s[max(0, int(math.Ceil(p/100*float64(len(s))))-1)] }
	return Stats{N: len(s), P50: rank(50), P95: rank(95), Max: s[len(s)-1]}
}

func (s *Summary) tally() {
	s.ByDrill = map[string]int{}
	var rto, rpo, full []float64
	for _, r := range s.Rounds {
		s.ByDrill[r.Drill]++
		s.Acknowledged += r.Acknowledged
		s.Lost += r.Lost
		if r.Recovered {
			s.Recovered++
			rto = append(rto, r.RTOSeconds)
		}
		if r.Recovered && r.Error == "" && len(r.Problems) == 0 {
			s.Passed++
		}
		if r.RPOSeconds != nil {
			rpo = append(rpo, *r.RPOSeconds)
		}
		if r.FullStrengthSeconds != nil {
			full = append(full, *r.FullStrengthSeconds)
		}
	}
	s.RTO = NewStats(rto)
	if len(rpo) > 0 {
		st := NewStats(rpo)
		s.RPO = &st
	}
	if len(full) > 0 {
		st := NewStats(full)
		s.FullStrength = &st
	}
}

// OK reports whether every planned round ran and passed.
func (s Summary) OK() bool {
	return s.Stopped == "" && len(s.Rounds) == s.Planned && s.Passed == s.Planned
}

// Problems are the run's failures, one line each: the failed rounds and
// why the run stopped.
func (s Summary) Problems() []string {
	var p []string
	for _, r := range s.Rounds {
		for _, q := range r.Problems {
			p = append(p, fmt.Sprintf("round %d (%s): %s", r.N, r.Drill, q))
		}
		if r.Error != "" {
			p = append(p, fmt.Sprintf("round %d (%s): %s", r.N, r.Drill, r.Error))
		}
	}
	if s.Stopped != "" {
		p = append(p, fmt.Sprintf("rounds %s (%d of %d run; replay with --seed %d)", s.Stopped, len(s.Rounds), s.Planned, s.Seed))
	}
	return p
}

// Write prints the summary for a human: the rounds run, the seed that
// replays them, the RTO and RPO distributions and the clicks.
func (s Summary) Write(w io.Writer) {
	var drills []string
	for _, d := range s.Drills {
		drills = append(drills, fmt.Sprintf("%s %d", d, s.ByDrill[d]))
	}
	fmt.Fprintf(w, "  rounds: %d of %d run, %d recovered, %d passed (%s); seed %d (replay with --seed %d)\n",
		len(s.Rounds), s.Planned, s.Recovered, s.Passed, strings.Join(drills, ", "), s.Seed, s.Seed)
	if s.RTO.N > 0 {
		fmt.Fprintf(w, "  RTO over %d recovered rounds: p50 %.3fs, p95 %.3fs, max %.3fs\n", s.RTO.N, s.RTO.P50, s.RTO.P95, s.RTO.Max)
	}
	if s.RPO != nil {
		fmt.Fprintf(w, "  RPO over %d rounds: p50 %.3fs, p95 %.3fs, max %.3fs\n", s.RPO.N, s.RPO.P50, s.RPO.P95, s.RPO.Max)
	} else {
		fmt.Fprintf(w, "  RPO: not measured (no round ran a workload through the fault); lost clicks below\n")
	}
	if s.FullStrength != nil {
		fmt.Fprintf(w, "  time to full strength (kill to the agents' group all InService) over %d rounds: p50 %.3fs, p95 %.3fs, max %.3fs\n",
			s.FullStrength.N, s.FullStrength.P50, s.FullStrength.P95, s.FullStrength.Max)
	}
	fmt.Fprintf(w, "  clicks over all rounds: %d acknowledged, %d lost\n", s.Acknowledged, s.Lost)
	if s.Stopped != "" {
		fmt.Fprintf(w, "  %s\n", s.Stopped)
	}
}
