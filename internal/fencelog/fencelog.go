// Package fencelog reads the fences' console lines back: the lines the
// masters' fencer (userdata run-mha-fencer) and the agents' self-fence
// service print, one per step, in the format internal/facts defines:
//
//	mha-fence <RFC3339Nano> <event> instance=<id> host=<ip> [detail=<rest of line>]
//
// The units send them to the serial console (StandardOutput=journal+console),
// where journald may put its own prefix before them, and the operator tools
// read them with EC2's GetConsoleOutput (internal/ec2ops). kill-node reports
// the fence from them.
package fencelog

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Event is one fence line.
type Event struct {
	Time     time.Time
	Event    string // one of facts.FenceEvent*
	Instance string // an EC2 instance id, or facts.FenceNoInstance
	Host     string // the agent's private IPv4 address
	Detail   string // the rest of the line after "detail=", or ""
}

// String renders e exactly as the fence services print it.
func (e Event) String() string {
	s := fmt.Sprintf("%s %s %s instance=%s host=%s", facts.FenceLogPrefix, e.Time.UTC().Format(time.RFC3339Nano), e.Event, e.Instance, e.Host)
	if e.Detail != "" {
		s += " detail=" + e.Detail
	}
	return s
}

// events are the events a fence line may carry.
var events = map[string]bool{
	facts.FenceEventLost: true, facts.FenceEventFencing: true, facts.FenceEventFenced: true,
	facts.FenceEventFailed: true, facts.FenceEventSelfFenced: true,
}

// instanceID is an EC2 instance id: "i-" and 8 or 17 hexadecimal digits
// (EC2 User Guide, "Resource IDs").
var instanceID = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// ErrNoFenceLine is ParseLine's error for a line that holds no fence line.
var ErrNoFenceLine = errors.New("no " + facts.FenceLogPrefix + " line")

// marker is what a fence line starts with; what comes before it on the
// console (journald's "[uptime] identifier[pid]: ") is skipped.
const marker = facts.FenceLogPrefix + " "

// ParseLine reads one console line. It returns ErrNoFenceLine when the
// line holds no fence line, and another error, naming what is wrong, when
// it holds a malformed one.
func ParseLine(line string) (Event, error) {
	i := strings.Index(line, marker)
	if i < 0 {
		return Event{}, ErrNoFenceLine
	}
	rest := strings.TrimRight(line[i+len(marker):], "\r\n ")
	f := strings.SplitN(rest, " ", 5)
	if len(f) < 4 {
		return Event{}, fmt.Errorf("fence line %q: want <time> <event> instance=<id> host=<ip> [detail=...]", rest)
	}
	t, err := time.Parse(time.RFC3339Nano, f[0])
	if err != nil {
		return Event{}, fmt.Errorf("fence line %q: time %q is not RFC 3339", rest, f[0])
	}
	if !events[f[1]] {
		return Event{}, fmt.Errorf("fence line %q: unknown event %q", rest, f[1])
	}
	e := Event{Time: t, Event: f[1]}
	var ok bool
	if e.Instance, ok = strings.CutPrefix(f[2], "instance="); !ok || !instanceID.MatchString(e.Instance) && e.Instance != facts.FenceNoInstance {
		return Event{}, fmt.Errorf("fence line %q: %q is not instance=<i-...|%s>", rest, f[2], facts.FenceNoInstance)
	}
	if e.Host, ok = strings.CutPrefix(f[3], "host="); !ok {
		return Event{}, fmt.Errorf("fence line %q: %q is not host=<ip>", rest, f[3])
	}
	if a, err := netip.ParseAddr(e.Host); err != nil || !a.Is4() {
		return Event{}, fmt.Errorf("fence line %q: host %q is not an IPv4 address", rest, e.Host)
	}
	if len(f) == 5 {
		if e.Detail, ok = strings.CutPrefix(f[4], "detail="); !ok || e.Detail == "" {
			return Event{}, fmt.Errorf("fence line %q: %q after the host is not detail=<text>", rest, f[4])
		}
	}
	if e.Instance == facts.FenceNoInstance && e.Event != facts.FenceEventFailed {
		return Event{}, fmt.Errorf("fence line %q: only a %s line may name no instance", rest, facts.FenceEventFailed)
	}
	return e, nil
}

// Parse reads every fence line of a console output, in order. Malformed
// fence lines are left out and reported, all of them, in the error; the
// events are returned either way.
func Parse(console string) ([]Event, error) {
	var out []Event
	var errs []error
	for n, line := range strings.Split(console, "\n") {
		e, err := ParseLine(line)
		switch {
		case errors.Is(err, ErrNoFenceLine):
		case err != nil:
			errs = append(errs, fmt.Errorf("console line %d: %w", n+1, err))
		default:
			out = append(out, e)
		}
	}
	return out, errors.Join(errs...)
}
