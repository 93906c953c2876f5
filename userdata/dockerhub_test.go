package userdata

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// hubPulls reads how many pulls the fake daemon of a booted root made from
// Docker Hub (none when it never saved its state).
func hubPulls(t *testing.T, root string) int {
	t.Helper()
	raw, err := os.ReadFile(statePathIn(root))
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	var st fakeState
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st.HubPulls
}

// TestBootPullsFitDockerHubRateLimit: every node has its own public address,
// and its boot from Canonical's image, like the image preparation, makes no
// more pulls from Docker Hub than one address may make in an hour without
// an account (facts.DockerHubAnonymousPullsPerHour). One more image on a
// role would make every first boot of it depend on the hour's other pulls.
func TestBootPullsFitDockerHubRateLimit(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		for _, tt := range []struct {
			role, ip string
			render   func() ([]byte, error)
		}{
			{"master", testMasterIP, func() ([]byte, error) { return RenderMaster(masterInput(driver)) }},
			{"agent", "10.0.1.21", func() ([]byte, error) { return RenderAgent(agentInput(driver)) }},
			{"image", "", func() ([]byte, error) { return RenderImage(imageInput(driver)) }},
		} {
			t.Run(driver+"/"+tt.role, func(t *testing.T) {
				t.Parallel()
				doc, err := tt.render()
				if err != nil {
					t.Fatal(err)
				}
				r := boot(t, doc, tt.ip, "", func(root string) {
					if driver == facts.VolumeDriverFlocker && tt.role == "agent" {
						listenPluginSocket(t, root)
					}
				})
				r.mustSucceed(t)
				n := hubPulls(t, r.root)
				if n == 0 || n > facts.DockerHubAnonymousPullsPerHour {
					t.Errorf("%d pulls from Docker Hub; want 1..%d, the hourly limit of one address", n, facts.DockerHubAnonymousPullsPerHour)
				}
				t.Logf("%d of %d pulls", n, facts.DockerHubAnonymousPullsPerHour)
			})
		}
	}
}

// TestBootStopsAtDockerHubRateLimit: when the node's address has spent
// the hour's pulls, the registry refuses each pull with toomanyrequests;
// the boot does not retry (another try seconds later is refused too, and
// only adds requests) and fails once, at pull-images, naming the limit and
// the way out.
func TestBootStopsAtDockerHubRateLimit(t *testing.T) {
	doc, err := RenderMaster(masterInput(facts.VolumeDriverRexRay))
	if err != nil {
		t.Fatal(err)
	}
	images := masterPulls(masterInput(facts.VolumeDriverRexRay).Images, false)
	for _, left := range []int{0, 2} {
		t.Run(fmt.Sprintf("%d pulls left", left), func(t *testing.T) {
			t.Parallel()
			root, cc := installNode(t, doc)
			before := fmt.Sprint(facts.DockerHubAnonymousPullsPerHour - left)
			out, err := runScript(t, root, cc.RunCmd[0][0], testMasterIP, "", "FAKE_HUB_PULLS_BEFORE="+before)
			r := bootRun{root: root, out: out, err: err, calls: readCalls(t, root), doc: cc}
			if r.err == nil {
				t.Fatalf("boot succeeded with %d pulls left for %d images:\n%s", left, len(images), out)
			}
			if n := strings.Count(out, facts.BootFailedPrefix); n != 1 {
				t.Errorf("%d FAILED lines, want 1:\n%s", n, out)
			}
			failed := out[strings.Index(out, facts.BootFailedPrefix):]
			for _, want := range []string{facts.BootFailedPrefix + "pull-images: ", "Docker Hub refused", facts.DockerHubRateLimitCode, "scripts/prepare-ami"} {
				if !strings.Contains(failed, want) {
					t.Errorf("FAILED line lacks %q:\n%s", want, failed)
				}
			}
			refused := 0
			for _, image := range images {
				pulls := 0
				for _, c := range r.calls {
					if len(c) == 3 && c[0] == "docker" && c[1] == "pull" && c[2] == image {
						pulls++
					}
				}
				if pulls != 1 {
					t.Errorf("docker pull %s called %d times, want once: a refusal by the rate limit is not retried", image, pulls)
				}
				if strings.Contains(failed, "'docker pull "+image+"'") {
					refused++
				}
			}
			if want := len(images) - left; refused != want {
				t.Errorf("the FAILED line names %d refused images, want %d:\n%s", refused, want, failed)
			}
			if got := hubPulls(t, root); got != left {
				t.Errorf("the fake counted %d pulls, want the %d the limit left", got, left)
			}
		})
	}
}

// TestRexRayPluginInstallStopsAtDockerHubRateLimit: the REX-Ray plugin
// comes from Docker Hub too, after the agent's image pulls: when they used
// the hour's last pulls, its install is refused once, not retried, and the
// boot fails at install-volume-plugin naming the limit.
func TestRexRayPluginInstallStopsAtDockerHubRateLimit(t *testing.T) {
	in := agentInput(facts.VolumeDriverRexRay)
	doc, err := RenderAgent(in)
	if err != nil {
		t.Fatal(err)
	}
	pulls := agentPulls(in.VolumeDriver, in.Images, in.AppImage)
	root, cc := installNode(t, doc)
	before := fmt.Sprint(facts.DockerHubAnonymousPullsPerHour - len(pulls))
	out, err := runScript(t, root, cc.RunCmd[0][0], "10.0.1.21", "", "FAKE_HUB_PULLS_BEFORE="+before)
	r := bootRun{root: root, out: out, err: err, calls: readCalls(t, root), doc: cc}
	if r.err == nil {
		t.Fatalf("boot succeeded with no pull left for the plugin:\n%s", out)
	}
	if n := strings.Count(out, facts.BootFailedPrefix); n != 1 {
		t.Fatalf("%d FAILED lines, want 1:\n%s", n, out)
	}
	failed := out[strings.Index(out, facts.BootFailedPrefix):]
	for _, want := range []string{facts.BootFailedPrefix + "install-volume-plugin: ", "Docker Hub refused 'docker plugin install", in.Images.RexRayPlugin, facts.DockerHubRateLimitCode, "scripts/prepare-ami"} {
		if !strings.Contains(failed, want) {
			t.Errorf("FAILED line lacks %q:\n%s", want, failed)
		}
	}
	installs := 0
	for _, c := range r.calls {
		if len(c) > 2 && c[0] == "docker" && c[1] == "plugin" && c[2] == "install" {
			installs++
		}
	}
	if installs != 1 {
		t.Errorf("docker plugin install called %d times, want once: a refusal by the rate limit is not retried", installs)
	}
}
