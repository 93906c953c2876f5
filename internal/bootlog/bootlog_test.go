package bootlog

import (
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		in   string
		want Line
		ok   bool
	}{
		{"marathon-ha boot master pull-images start 41s", Line{"master", "pull-images", Start, 41, ""}, true},
		{"marathon-ha boot agent-2 start-services start 120s mesos-agent", Line{"agent-2", "start-services", Start, 120, "mesos-agent"}, true},
		{"[   21.95] cloud-init[1003]: marathon-ha boot master-3 boot done 290s\r", Line{"master-3", "boot", Done, 290, ""}, true},
		{"marathon-ha boot agent-1 pull-images FAILED 163s 'docker pull x' failed 5 times", Line{"agent-1", "pull-images", Failed, 163, "'docker pull x' failed 5 times"}, true},
		{"marathon-ha: boot step pull-images", Line{}, false},
		{"marathon-ha: boot FAILED at pull-images: x", Line{}, false},
		{"marathon-ha boot master pull-images started 4s", Line{}, false},
		{"marathon-ha boot master pull-images start 4", Line{}, false},
		{"marathon-ha boot master pull-images start -4s", Line{}, false},
		{"marathon-ha boot master pull-images", Line{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseLine(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseLine(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && !strings.HasSuffix(strings.TrimRight(tt.in, "\r"), got.String()) {
			t.Errorf("%+v renders as %q, not as read from %q", got, got.String(), tt.in)
		}
	}
}

func TestBuildAndSummary(t *testing.T) {
	console := strings.Join([]string{
		"marathon-ha boot master boot start 0s",
		"marathon-ha boot master install-packages start 0s",
		"[ 3.1] cloud-init[9]: marathon-ha boot master install-packages start 0s", // cloud-init's copy
		"marathon-ha boot master install-packages done 50s",
		"marathon-ha boot master pull-images start 50s",
		"marathon-ha boot master pull:zookeeper:3.4.14 start 50s",
		"marathon-ha boot master pull:zookeeper:3.4.14 done 61s",
		"marathon-ha boot master pull:mesosphere/marathon:v1.4.9 start 61s",
	}, "\n")
	tls := Timelines(console)
	if len(tls) != 1 {
		t.Fatalf("timelines %+v", tls)
	}
	tl := tls[0]
	if len(tl.Steps) != 5 || tl.State != Running || tl.Elapsed != 61 {
		t.Fatalf("timeline %+v", tl)
	}
	if got := tl.Summary(); got != "step pull:mesosphere/marathon:v1.4.9 since 61s, 61s into the boot" {
		t.Errorf("summary %q", got)
	}
	if s := tl.Steps[1]; s.Name != "install-packages" || s.Seconds() != 50 {
		t.Errorf("install-packages %+v", s)
	}
	if s := tl.Steps[4]; s.Seconds() != -1 || s.State != Start {
		t.Errorf("running pull %+v", s)
	}
	if got := (Timeline{State: Unknown}).Summary(); got != "no boot step on the console yet" {
		t.Errorf("empty summary %q", got)
	}
}

func TestLastLines(t *testing.T) {
	got := LastLines("a\r\nb\n\n c\nd\n", 3)
	if strings.Join(got, "|") != "b| c|d" {
		t.Errorf("LastLines = %q", got)
	}
}
