package workload

import "fmt"

// Lines are the summary for a human, one fact a line: what was sent, the
// outage and RTO the client saw, what was read back and the RPO, then each
// invariant's verdict.
func (s *Summary) Lines() []string {
	if s == nil {
		return nil
	}
	l := []string{fmt.Sprintf("writer %s (seed %d): %d clicks, one every %gs to %gs, from %+.2fs to %+.2fs since the kill (stopped: %s): %d acknowledged, %d refused, %d unanswered",
		s.Writer, s.Seed, s.Sent, s.MinGapSeconds, s.MaxGapSeconds, s.StartedSinceKillSeconds, s.StoppedSinceKillSeconds, s.StoppedBy, s.OK, s.Failed, s.Unknown)}
	switch o := s.Outage; {
	case o == nil:
		l = append(l, "outage: none measured (the kill is not inside the writer's window)")
	case o.Open:
		l = append(l, fmt.Sprintf("outage: no click acknowledged after the kill; the last at %+.2fs, %.2fs before the writer stopped", o.FromSinceKillSeconds, o.Seconds))
	default:
		l = append(l, fmt.Sprintf("outage: %.2fs without an acknowledged click (%+.2fs to %+.2fs since the kill); RTO as the client saw it %.2fs",
			o.Seconds, o.FromSinceKillSeconds, o.ToSinceKillSeconds, s.ClientRTOSeconds))
	}
	if !s.ReadBack {
		l = append(l, "read back: no, "+s.ReadError)
	} else {
		l = append(l, fmt.Sprintf("read back: %d of %d sent clicks present, %d acknowledged lost; RPO %.3fs (%s)",
			s.Present, s.Sent, len(s.Lost), s.RPOSeconds, s.LossAllowed))
	}
	for _, v := range s.Verdicts {
		state := "held"
		switch {
		case !s.ReadBack:
			state = "unverified"
		case !v.Held && v.Judged:
			state = "VIOLATED"
		case !v.Held:
			state = "reported"
		}
		l = append(l, fmt.Sprintf("  %s: %s (%s)", state, v.Invariant, v.Detail))
	}
	return l
}
