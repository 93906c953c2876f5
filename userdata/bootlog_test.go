package userdata

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// consoleTimelines parses what a stand-in boot wrote to its console.
func consoleTimelines(t *testing.T, r bootRun) (string, []bootlog.Timeline) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(r.root, "dev/console"))
	if err != nil {
		t.Fatalf("no console: %v", err)
	}
	return string(raw), bootlog.Timelines(string(raw))
}

// TestBootConsoleTimeline: a stand-in boot announces every step on the
// console in bootlog's format, each started and done in order, with one
// step per image pull and per service start (the pulls and the starts
// that follow them in any order, as they run at once), Docker's restart, the services and readiness, and
// the boot's own end.
func TestBootConsoleTimeline(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		master, agent := masterInput(driver), agentInput(driver)
		// The parts of pull-images run at once: every pull, and the start
		// of each service that needs one image alone.
		agentPulls := []string{"pull:" + agent.Images.MesosAgent, "pull:" + agent.Images.MesosExecutor, "pull:" + agent.AppImage}
		agentSteps := []string{"start-services", "start:mesos-agent", "start:" + facts.SelfFenceUnit, "start:" + facts.JournalCommitUnit, "wait-ready"}
		if driver == facts.VolumeDriverRexRay {
			agentSteps = append([]string{"install-volume-plugin"}, agentSteps...)
		} else {
			agentPulls = append(agentPulls, "pull:"+agent.Images.FlockerDatasetAgent, "start:flocker-dataset-agent",
				"pull:"+agent.Images.FlockerDockerPlugin, "start:flocker-docker-plugin")
		}
		masterPulls := []string{"pull:" + master.Images.ZooKeeper, "start:zookeeper", "pull:" + master.Images.MesosMaster, "start:mesos-master",
			"pull:" + master.Images.Marathon, "start:marathon", "pull:" + master.Images.AWSCLI, "start:" + fencerService}
		if driver == facts.VolumeDriverFlocker {
			masterPulls = append(masterPulls, "pull:"+master.Images.FlockerControl, "start:flocker-control")
		}
		for _, tt := range []struct {
			node, ip string
			render   func() ([]byte, error)
			pulls    []string
			tail     []string
		}{
			{"master", testMasterIP, func() ([]byte, error) { return RenderMaster(master) }, masterPulls, []string{"wait-ready"}},
			{"agent-1", "10.0.1.21", func() ([]byte, error) { return RenderAgent(agent) }, agentPulls, agentSteps},
		} {
			t.Run(driver+"/"+tt.node, func(t *testing.T) {
				t.Parallel()
				doc, err := tt.render()
				if err != nil {
					t.Fatal(err)
				}
				r := boot(t, doc, tt.ip, "", func(root string) {
					if driver == facts.VolumeDriverFlocker && tt.node != "master" {
						listenPluginSocket(t, root)
					}
				})
				r.mustSucceed(t)
				console, tls := consoleTimelines(t, r)
				if len(tls) != 1 || tls[0].Node != tt.node {
					t.Fatalf("console timelines %+v, want one of node %s:\n%s", tls, tt.node, console)
				}
				tl := tls[0]
				if tl.State != bootlog.Done {
					t.Errorf("boot state %q, want done:\n%s", tl.State, console)
				}
				want := []string{bootlog.Boot, "install-packages", "apt", "docker", "node-address"}
				if hasSecrets(driver) {
					want = append(want, "fetch-certificates")
				}
				want = append(want, "pull-images")
				want = append(want, tt.pulls...)
				want = append(want, tt.tail...)
				var got []string
				for _, s := range tl.Steps {
					got = append(got, s.Name)
					if s.State != bootlog.Done || s.End < s.Start {
						t.Errorf("step %s: state %s, %d..%d; want done with its end after its start", s.Name, s.State, s.Start, s.End)
					}
				}
				// The pulls run at once: they start in any order, all
				// inside pull-images and before the next step (that a
				// service starts after its own image is TestBootAgent's
				// and checkCommon's).
				if i := slices.Index(got, "pull-images"); i >= 0 && i+1+len(tt.pulls) <= len(got) {
					slices.Sort(got[i+1 : i+1+len(tt.pulls)])
					j := slices.Index(want, "pull-images")
					slices.Sort(want[j+1 : j+1+len(tt.pulls)])
				}
				if !slices.Equal(got, want) {
					t.Errorf("steps\n %v\nwant\n %v\nconsole:\n%s", got, want, console)
				}
				for _, s := range tl.Steps {
					if s.Name == "start-services" && s.Detail != "mesos-agent" {
						t.Errorf("start-services detail %q does not name the service it starts", s.Detail)
					}
				}
				// Every boot-step line is one Line.String() would print.
				for _, l := range strings.Split(console, "\n") {
					if p, ok := bootlog.ParseLine(l); ok && p.String() != l {
						t.Errorf("console line %q is not in bootlog's format (%q)", l, p.String())
					}
				}
			})
		}
	}
}

// hasSecrets: Flocker's nodes fetch their certificates from SSM.
func hasSecrets(driver string) bool { return driver == facts.VolumeDriverFlocker }

// TestBootFailureTimeline: a failed step is FAILED on the console's
// timeline, with the reason, and so is the image pull that failed.
func TestBootFailureTimeline(t *testing.T) {
	tests := []struct{ name, fail, step, part, reason string }{
		{"apt mirror down", "apt-get -o DPkg::Lock::Timeout=300 update", "install-packages", "apt", "failed 2 times"},
		{"image gone", "docker pull " + facts.MarathonImage, "pull-images", "pull:" + facts.MarathonImage, "failed 2 times"},
		{"services never answer", "curl -sS --max-time 5", "wait-ready", "", "not ready"},
	}
	doc, err := RenderMaster(masterInput(facts.VolumeDriverFlocker))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := boot(t, doc, testMasterIP, tt.fail, nil)
			if r.err == nil {
				t.Fatal("boot succeeded")
			}
			console, tls := consoleTimelines(t, r)
			if len(tls) != 1 {
				t.Fatalf("timelines %+v:\n%s", tls, console)
			}
			tl := tls[0]
			if tl.State != bootlog.Failed || tl.Failed == nil || tl.Failed.Name != tt.step || !strings.Contains(tl.Failed.Detail, tt.reason) {
				t.Fatalf("timeline state %q failed %+v, want FAILED at %s with %q:\n%s", tl.State, tl.Failed, tt.step, tt.reason, console)
			}
			if !strings.Contains(tl.Summary(), "boot FAILED at "+tt.step) {
				t.Errorf("summary %q", tl.Summary())
			}
			if tt.part != "" && !slices.ContainsFunc(tl.Steps, func(s bootlog.Step) bool { return s.Name == tt.part && s.State == bootlog.Failed }) {
				t.Errorf("no FAILED %s in %+v", tt.part, tl.Steps)
			}
			// The existing FAILED line stays, once, for the tools that grep it.
			if strings.Count(console, facts.BootFailedPrefix) != 1 {
				t.Errorf("console should hold exactly one %q line:\n%s", facts.BootFailedPrefix, console)
			}
		})
	}
}
