package fencelog

import (
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

func TestParseLine(t *testing.T) {
	at := time.Date(2026, 12, 6, 21, 0, 1, 123456789, time.UTC)
	for _, tt := range []struct {
		line string
		want Event
	}{
		{"mha-fence 2026-12-06T21:00:01.123456789Z lost instance=i-0123456789abcdef0 host=10.0.2.11",
			Event{at, facts.FenceEventLost, "i-0123456789abcdef0", "10.0.2.11", ""}},
		// What date +%N prints: nine digits, trailing zeros kept.
		{"mha-fence 2026-12-06T21:00:01.100000000Z fencing instance=i-0123abcd host=10.0.2.11",
			Event{time.Date(2026, 12, 6, 21, 0, 1, 100000000, time.UTC), facts.FenceEventFencing, "i-0123abcd", "10.0.2.11", ""}},
		// journald's prefix on the console, and a detail with spaces and "=".
		{"[   42.123456] run-mha-fencer[812]: mha-fence 2026-12-06T21:00:01.123456789Z failed instance=i-0123456789abcdef0 host=10.0.2.11 detail=TerminateInstances: An error occurred (UnauthorizedOperation) a=b\r",
			Event{at, facts.FenceEventFailed, "i-0123456789abcdef0", "10.0.2.11", "TerminateInstances: An error occurred (UnauthorizedOperation) a=b"}},
		{"mha-fence 2026-12-06T21:00:01.123456789Z failed instance=none host=10.0.2.99 detail=no instance tagged",
			Event{at, facts.FenceEventFailed, facts.FenceNoInstance, "10.0.2.99", "no instance tagged"}},
		{"mha-fence 2026-12-06T21:00:01.123456789Z self-fenced instance=i-0123456789abcdef0 host=10.0.2.11",
			Event{at, facts.FenceEventSelfFenced, "i-0123456789abcdef0", "10.0.2.11", ""}},
	} {
		got, err := ParseLine(tt.line)
		if err != nil || !got.Time.Equal(tt.want.Time) || got.Event != tt.want.Event || got.Instance != tt.want.Instance || got.Host != tt.want.Host || got.Detail != tt.want.Detail {
			t.Errorf("ParseLine(%q) = %+v, %v; want %+v", tt.line, got, err, tt.want)
		}
		// String renders the line as the services print it.
		again, err := ParseLine(got.String())
		if err != nil || again != got {
			t.Errorf("ParseLine(%q) = %+v, %v; want %+v back", got.String(), again, err, got)
		}
	}
}

func TestParseLineRefusesMalformedLines(t *testing.T) {
	const ok = "mha-fence 2026-12-06T21:00:01Z fenced instance=i-0123456789abcdef0 host=10.0.2.11"
	if _, err := ParseLine(ok); err != nil {
		t.Fatalf("the reference line: %v", err)
	}
	for _, tt := range []struct{ line, why string }{
		{"mha-fence 2026-12-06 fenced instance=i-0123456789abcdef0 host=10.0.2.11", "not RFC 3339"},
		{"mha-fence 2026-12-06T21:00:01Z unfenced instance=i-0123456789abcdef0 host=10.0.2.11", "unknown event"},
		{"mha-fence 2026-12-06T21:00:01Z fenced instance= host=10.0.2.11", "not instance="},
		{"mha-fence 2026-12-06T21:00:01Z fenced instance=vol-0123456789abcdef0 host=10.0.2.11", "not instance="},
		{"mha-fence 2026-12-06T21:00:01Z fenced id=i-0123456789abcdef0 host=10.0.2.11", "not instance="},
		{"mha-fence 2026-12-06T21:00:01Z fenced instance=i-0123456789abcdef0 ip=10.0.2.11", "not host="},
		{"mha-fence 2026-12-06T21:00:01Z fenced instance=i-0123456789abcdef0 host=ip-10-0-2-11", "not an IPv4"},
		{"mha-fence 2026-12-06T21:00:01Z fenced instance=i-0123456789abcdef0 host=fe80::1", "not an IPv4"},
		{"mha-fence 2026-12-06T21:00:01Z fenced instance=i-0123456789abcdef0 host=10.0.2.11 because", "not detail="},
		{"mha-fence 2026-12-06T21:00:01Z fenced instance=i-0123456789abcdef0 host=10.0.2.11 detail=", "not detail="},
		{"mha-fence 2026-12-06T21:00:01Z fenced instance=i-0123456789abcdef0", "want <time>"},
		{"mha-fence 2026-12-06T21:00:01Z fenced instance=none host=10.0.2.11", "only a failed line"},
	} {
		if _, err := ParseLine(tt.line); err == nil || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("ParseLine(%q) = %v, want an error saying %q", tt.line, err, tt.why)
		}
	}
	for _, line := range []string{"", "marathon-ha boot master boot start 0s", "mha-fencer[812]: started", "mha-fence"} {
		if _, err := ParseLine(line); err != ErrNoFenceLine {
			t.Errorf("ParseLine(%q) = %v, want ErrNoFenceLine", line, err)
		}
	}
}

func TestParse(t *testing.T) {
	console := strings.Join([]string{
		"marathon-ha boot master boot done 120s",
		"[  300.1] run-mha-fencer[812]: mha-fence 2026-12-06T21:00:01.5Z lost instance=i-0123456789abcdef0 host=10.0.2.11",
		"mha-fence 2026-12-06T21:00:02Z fencing instance=i-0123456789abcdef0",
		"mha-fence 2026-12-06T21:00:02.5Z fencing instance=i-0123456789abcdef0 host=10.0.2.11",
		"mha-fence 2026-12-06T21:00:09Z fenced instance=i-0123456789abcdef0 host=10.0.2.11",
	}, "\n")
	events, err := Parse(console)
	var got []string
	for _, e := range events {
		got = append(got, e.Event)
	}
	if strings.Join(got, " ") != "lost fencing fenced" {
		t.Errorf("events %v, want lost fencing fenced", got)
	}
	if err == nil || !strings.Contains(err.Error(), "console line 3") || strings.Contains(err.Error(), "console line 4") {
		t.Errorf("error %v, want the malformed line 3 named, and only it", err)
	}
	if events, err := Parse("nothing here\n"); len(events) != 0 || err != nil {
		t.Errorf("Parse of a console without fence lines = %v, %v", events, err)
	}
}
