package workload

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
)

// Run is what a writer was: its id, seed, pace and window.
type Run struct {
	Writer           uint32
	Seed             uint64
	Started, Stopped time.Time
	StoppedBy        string
	MinGap, MaxGap   time.Duration
	RequestTimeout   time.Duration
	Lead             time.Duration
	Loss             Allowance
}

// The invariants Check judges, by name.
const (
	// InvariantAcknowledged is judged: a click the app acknowledged is
	// read back, but for what the kill may lose (Allowance).
	InvariantAcknowledged = "every acknowledged click is present"
	// InvariantNoPhantom is judged: a click of this writer that it never
	// sent must not appear.
	InvariantNoPhantom = "no click that was never sent appears"
	// InvariantNoDuplicate is reported only: the writer never retries, so
	// a click read twice was stored twice.
	InvariantNoDuplicate = "no click appears twice"
	// InvariantUnknown is reported only: a click without an answer may be
	// present or absent.
	InvariantUnknown = "unanswered clicks may be present or absent"
)

// Verdict is one invariant checked against the read-back.
type Verdict struct {
	Invariant string `json:"invariant"`
	// Judged invariants fail the run when they do not hold; the others are
	// reported.
	Judged bool   `json:"judged"`
	Held   bool   `json:"held"`
	Detail string `json:"detail"`
}

// LostClick is an acknowledged click not read back, with its age at the
// kill (negative when it was acknowledged after the kill).
type LostClick struct {
	Seq              int       `json:"seq"`
	Value            string    `json:"value"`
	AnsweredAt       time.Time `json:"answeredAt"`
	AgeAtKillSeconds float64   `json:"ageAtKillSeconds"`
	// Allowed is true when the kill's Allowance covers the loss.
	Allowed bool `json:"allowed"`
}

// Duplicate is a click read back more than once.
type Duplicate struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Gap is a stretch without a good answer: from the last acknowledged click
// before it to the first after it, as times since the kill. Open means no
// good answer came after it before the writer stopped; To is then the stop
// (or the last answer, if later).
type Gap struct {
	FromSinceKillSeconds float64 `json:"fromSinceKillSeconds"`
	ToSinceKillSeconds   float64 `json:"toSinceKillSeconds"`
	Seconds              float64 `json:"seconds"`
	Open                 bool    `json:"open,omitempty"`
}

// Summary is what the writer sent and saw, what was read back and the
// verdicts: the report's "workload" section.
type Summary struct {
	Writer                string  `json:"writer"` // the id in the marks, 8 hex digits
	Seed                  uint64  `json:"seed"`
	MinGapSeconds         float64 `json:"minGapSeconds"`
	MaxGapSeconds         float64 `json:"maxGapSeconds"`
	RequestTimeoutSeconds float64 `json:"requestTimeoutSeconds"`
	LeadSeconds           float64 `json:"leadSeconds"`
	// StartedSinceKillSeconds is negative: the writer starts before the
	// kill. StoppedBy says why it stopped.
	StartedSinceKillSeconds float64 `json:"startedSinceKillSeconds"`
	StoppedSinceKillSeconds float64 `json:"stoppedSinceKillSeconds"`
	StoppedBy               string  `json:"stoppedBy"`

	Sent    int `json:"sent"`
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Unknown int `json:"unknown"`

	// Outage is the longest gap between two good answers that ends after
	// the kill, or the open stretch from the last good answer to the end
	// when that is longer (nil without a kill in the writer's window).
	// ClientRecovered says a good answer came after it, and ClientRTOSeconds
	// is then the time from the kill to that answer: the RTO as a user saw
	// it.
	Outage           *Gap    `json:"outage,omitempty"`
	ClientRecovered  bool    `json:"clientRecovered"`
	ClientRTOSeconds float64 `json:"clientRtoSeconds,omitempty"`

	// ReadBack is true when the clicks were read back after the recovery;
	// ReadError says why not.
	ReadBack  bool   `json:"readBack"`
	ReadError string `json:"readError,omitempty"`
	// Present is how many distinct sent clicks were read back.
	Present int `json:"present"`
	// Lost are the acknowledged clicks not read back. RPOSeconds is the age
	// at the kill of the oldest of them acknowledged before the outage
	// ended (0 if none): how far back the loss reaches. LossBoundSeconds
	// and LossAllowed say what the kill may lose.
	Lost             []LostClick `json:"lost"`
	RPOSeconds       float64     `json:"rpoSeconds"`
	LossBoundSeconds float64     `json:"lossBoundSeconds"`
	LossAllowed      string      `json:"lossAllowed"`
	// UnknownPresent and UnknownAbsent split the unanswered clicks;
	// FailedPresent counts refused clicks read back all the same.
	UnknownPresent int `json:"unknownPresent"`
	UnknownAbsent  int `json:"unknownAbsent"`
	FailedPresent  int `json:"failedPresent"`
	// Phantoms are clicks of this writer it never sent; Duplicates clicks
	// read back more than once; Foreign counts other writers' marks (earlier
	// runs on the same volume), which are not judged.
	Phantoms   []string    `json:"phantoms"`
	Duplicates []Duplicate `json:"duplicates"`
	Foreign    int         `json:"foreign"`

	Verdicts []Verdict `json:"verdicts"`
	// Clicks is the writer's log.
	Clicks []Click `json:"clicks"`
}

// Check measures the log of run against the kill at killedAt and, unless
// readErr is set, judges the clicks read back (read) against it.
func Check(run Run, log []Click, read []string, readErr error, killedAt time.Time) Summary {
	since := func(t time.Time) float64 { return t.Sub(killedAt).Seconds() }
	s := Summary{Writer: fmt.Sprintf("%08x", run.Writer), Seed: run.Seed,
		MinGapSeconds: run.MinGap.Seconds(), MaxGapSeconds: run.MaxGap.Seconds(),
		RequestTimeoutSeconds: run.RequestTimeout.Seconds(), LeadSeconds: run.Lead.Seconds(),
		StartedSinceKillSeconds: since(run.Started), StoppedSinceKillSeconds: since(run.Stopped), StoppedBy: run.StoppedBy,
		LossAllowed: run.Loss.Describe(), Lost: []LostClick{}, Phantoms: []string{}, Duplicates: []Duplicate{},
		Clicks: append([]Click{}, log...)}
	if run.Loss.Crash {
		s.LossBoundSeconds = run.Loss.Bound.Seconds()
	}
	s.Sent = len(log)
	for _, c := range log {
		switch c.Outcome {
		case OK:
			s.OK++
		case Failed:
			s.Failed++
		default:
			s.Unknown++
		}
	}
	outageEnd := s.measure(run, log, killedAt)
	if readErr != nil {
		s.ReadError = readErr.Error()
		for _, inv := range []string{InvariantAcknowledged, InvariantNoPhantom} {
			s.Verdicts = append(s.Verdicts, Verdict{Invariant: inv, Judged: true, Detail: "not verified: " + s.ReadError})
		}
		return s
	}
	s.ReadBack = true
	s.judge(run, log, read, killedAt, outageEnd)
	return s
}

// measure finds the outage and the RTO the client saw, and returns when the
// outage ended (the first good answer after it; the zero time if none).
func (s *Summary) measure(run Run, log []Click, killedAt time.Time) time.Time {
	since := func(t time.Time) float64 { return t.Sub(killedAt).Seconds() }
	var good []time.Time
	end := run.Stopped
	for _, c := range log {
		if c.Outcome == OK {
			good = append(good, c.AnsweredAt)
		}
		if c.AnsweredAt.After(end) {
			end = c.AnsweredAt
		}
	}
	if !run.Started.Before(killedAt) {
		return time.Time{} // no kill in the writer's window
	}
	sort.Slice(good, func(i, j int) bool { return good[i].Before(good[j]) })
	from := run.Started // without a good answer before the kill, the gap starts with the writer
	var best *Gap
	var bestEnd time.Time
	for _, t := range good {
		if t.After(killedAt) {
			g := Gap{FromSinceKillSeconds: since(from), ToSinceKillSeconds: since(t), Seconds: t.Sub(from).Seconds()}
			if best == nil || g.Seconds > best.Seconds {
				best, bestEnd = &g, t
			}
		}
		from = t
	}
	// The stretch from the last good answer to the end counts too: when it
	// is the longest, the client saw no recovery (the last good answers
	// after the kill came from the dying agent, or the app went down again).
	if tail := end.Sub(from); !from.After(killedAt) || best == nil || tail.Seconds() > best.Seconds {
		s.Outage = &Gap{FromSinceKillSeconds: since(from), ToSinceKillSeconds: since(end), Seconds: tail.Seconds(), Open: true}
		return time.Time{}
	}
	s.Outage, s.ClientRecovered, s.ClientRTOSeconds = best, true, since(bestEnd)
	return bestEnd
}

// judge checks the read-back against the log.
func (s *Summary) judge(run Run, log []Click, read []string, killedAt, outageEnd time.Time) {
	count := map[int]int{}
	for _, v := range read {
		m, ok := mobycounter.ParseMark(v)
		switch {
		case !ok:
			continue // a user's click or an older tool's
		case m.Writer != run.Writer:
			s.Foreign++
			continue
		}
		count[m.Seq]++
	}
	sent := map[int]bool{}
	for _, c := range log {
		sent[c.Seq] = true
	}
	var seqs []int
	for seq := range count {
		seqs = append(seqs, seq)
	}
	sort.Ints(seqs)
	for _, seq := range seqs {
		v := mobycounter.Mark{Writer: run.Writer, Seq: seq}.String()
		if !sent[seq] {
			s.Phantoms = append(s.Phantoms, v)
		}
		if count[seq] > 1 {
			s.Duplicates = append(s.Duplicates, Duplicate{Value: v, Count: count[seq]})
		}
	}

	var bad []LostClick
	for _, c := range log {
		present := count[c.Seq] > 0
		if present {
			s.Present++
		}
		switch {
		case c.Outcome == Unknown && present:
			s.UnknownPresent++
		case c.Outcome == Unknown:
			s.UnknownAbsent++
		case c.Outcome == Failed && present:
			s.FailedPresent++
		case c.Outcome == OK && !present:
			age := killedAt.Sub(c.AnsweredAt)
			// A crash may take what it had not written back: clicks
			// acknowledged within the bound before it, or after the
			// terminate request while the machine still ran; never a
			// click the replacement acknowledged after the outage.
			beforeOutageEnd := outageEnd.IsZero() || c.AnsweredAt.Before(outageEnd)
			l := LostClick{Seq: c.Seq, Value: c.Value, AnsweredAt: c.AnsweredAt, AgeAtKillSeconds: age.Seconds(),
				Allowed: run.Loss.Crash && age <= run.Loss.Bound && beforeOutageEnd}
			if beforeOutageEnd && age.Seconds() > s.RPOSeconds {
				s.RPOSeconds = age.Seconds()
			}
			s.Lost = append(s.Lost, l)
			if !l.Allowed {
				bad = append(bad, l)
			}
		}
	}
	s.Verdicts = append(s.Verdicts, s.acknowledgedVerdict(run, bad))
	phantom := Verdict{Invariant: InvariantNoPhantom, Judged: true, Held: len(s.Phantoms) == 0,
		Detail: fmt.Sprintf("no click of writer %s read back that it did not send", s.Writer)}
	if !phantom.Held {
		phantom.Detail = fmt.Sprintf("%d clicks of writer %s read back that it never sent: %s", len(s.Phantoms), s.Writer, short(s.Phantoms))
	}
	dup := Verdict{Invariant: InvariantNoDuplicate, Held: len(s.Duplicates) == 0, Detail: "every click read back at most once"}
	if !dup.Held {
		var d []string
		for _, x := range s.Duplicates {
			d = append(d, fmt.Sprintf("%s x%d", x.Value, x.Count))
		}
		dup.Detail = fmt.Sprintf("%d clicks read back more than once: %s", len(d), short(d))
	}
	unknown := Verdict{Invariant: InvariantUnknown, Held: true,
		Detail: fmt.Sprintf("%d unanswered: %d present, %d absent; %d refused, %d of them present all the same", s.Unknown, s.UnknownPresent, s.UnknownAbsent, s.Failed, s.FailedPresent)}
	s.Verdicts = append(s.Verdicts, phantom, dup, unknown)
}

func (s *Summary) acknowledgedVerdict(run Run, bad []LostClick) Verdict {
	v := Verdict{Invariant: InvariantAcknowledged, Judged: true, Held: len(bad) == 0}
	switch {
	case len(s.Lost) == 0:
		v.Detail = fmt.Sprintf("all %d acknowledged clicks read back", s.OK)
	case v.Held:
		v.Detail = fmt.Sprintf("%d of %d acknowledged clicks lost, acknowledged from %s to %s: RPO %.3fs within the crash-loss bound %s",
			len(s.Lost), s.OK, ageOf(s.Lost[0]), ageOf(s.Lost[len(s.Lost)-1]), s.RPOSeconds, run.Loss.Bound)
	case !run.Loss.Crash:
		v.Detail = fmt.Sprintf("%d of %d acknowledged clicks lost after a graceful kill, which flushes the page cache and may lose none (RPO %.3fs): %s",
			len(s.Lost), s.OK, s.RPOSeconds, lostValues(s.Lost))
	default:
		var late int
		for _, l := range bad {
			if l.AgeAtKillSeconds <= run.Loss.Bound.Seconds() {
				late++ // acknowledged by the replacement after the outage
			}
		}
		v.Detail = fmt.Sprintf("RPO %.3fs exceeds the crash-loss bound %s: %d of %d acknowledged clicks lost, %d of them beyond what a crash may lose (%d acknowledged by the replacement after the outage): %s",
			s.RPOSeconds, run.Loss.Bound, len(s.Lost), s.OK, len(bad), late, lostValues(bad))
		if s.RPOSeconds <= run.Loss.Bound.Seconds() {
			v.Detail = fmt.Sprintf("%d acknowledged clicks lost that the replacement acknowledged after the outage: %s", late, lostValues(bad))
		}
	}
	return v
}

// ageOf says when a click was acknowledged, against the kill.
func ageOf(l LostClick) string {
	d := time.Duration(l.AgeAtKillSeconds * float64(time.Second)).Round(time.Millisecond)
	if d < 0 {
		return (-d).String() + " after the kill"
	}
	return d.String() + " before the kill"
}

func lostValues(ls []LostClick) string {
	var v []string
	for _, l := range ls {
		v = append(v, fmt.Sprintf("%s (acknowledged %s)", l.Value, ageOf(l)))
	}
	return short(v)
}

// short lists at most a handful of values.
func short(v []string) string {
	const n = 5
	if len(v) > n {
		return strings.Join(v[:n], ", ") + fmt.Sprintf(" and %d more", len(v)-n)
	}
	return strings.Join(v, ", ")
}

// Problems are the judged invariants that did not hold, and the read-back
// that did not happen, one line each; empty means the workload passed.
func (s *Summary) Problems() []string {
	if s == nil {
		return nil
	}
	var p []string
	if !s.ReadBack {
		p = append(p, "the writer's clicks were not checked: "+s.ReadError)
	}
	for _, v := range s.Verdicts {
		if v.Judged && !v.Held && s.ReadBack {
			p = append(p, v.Invariant+": violated: "+v.Detail)
		}
	}
	return p
}
