package userdata

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// fakeNode is a scratch root in which the fake docker believes a given
// Docker release is installed.
type fakeNode struct {
	t    *testing.T
	root string
}

// newFakeNode records the apt-get install of dockerPackage (for example
// "docker-ce=5:26.1.4-1~ubuntu.20.04~focal"), as a boot would have, and
// writes the schema-1 drop-in when schema1Env is set.
func newFakeNode(t *testing.T, dockerPackage string, schema1Env bool) *fakeNode {
	t.Helper()
	n := &fakeNode{t: t, root: t.TempDir()}
	n.write(dpkgStatusPath, dpkgStatus(dockerPackage))
	if schema1Env {
		n.write("etc/systemd/system/docker.service.d/marathon-ha.conf", "[Service]\nEnvironment="+facts.DockerSchema1Env+"=1\n")
	}
	return n
}

func (n *fakeNode) write(path, content string) {
	n.t.Helper()
	full := filepath.Join(n.root, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		n.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		n.t.Fatal(err)
	}
}

// docker runs the fake docker with args, as a script on the node would.
func (n *fakeNode) docker(args ...string) (string, error) {
	n.t.Helper()
	bin := filepath.Join(n.root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		n.t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		n.t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(bin, "docker")); err != nil && !os.IsExist(err) {
		n.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "docker"), args...)
	cmd.Env = []string{"MHA_ROOT=" + n.root, "MHA_CALLS=" + filepath.Join(n.root, "calls.log"), "PATH=/usr/bin:/bin"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

const docker26 = "docker-ce=" + facts.DockerCEPackageVersion

// The docker run lines of the boot before issue 9, each one a defect that
// real Docker, Mesos or the image would have refused.
var (
	oldMesosAgentRun = []string{"run", "--rm", "--name", "mesos-agent", "--net=host", "--privileged",
		"-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", "/usr/bin/docker:/usr/local/bin/docker:ro",
		"-v", "/sys:/sys", "-v", "/var/lib/mesos:/var/lib/mesos", facts.MesosAgentImage,
		"--master=zk://10.42.1.10:2181/mesos", "--ip=10.42.1.21", "--hostname=10.42.1.21", "--port=5051",
		"--containerizers=docker,mesos", "--executor_registration_timeout=5mins",
		"--resources=ports:[7000-9000]", "--attributes=zone:us-east-1a", "--work_dir=/var/lib/mesos", "--no-systemd_enable_support"}
	oldFlockerControlRun = []string{"run", "--rm", "--name", "flocker-control", "--net=host",
		"-v", "/etc/flocker:/etc/flocker", "-v", "/var/lib/flocker:/var/lib/flocker", facts.FlockerControlServiceImage,
		"--port=tcp:4523", "--agent-port=tcp:4524", "--data-path=/var/lib/flocker"}
	oldZooKeeperRun = []string{"run", "--rm", "--name", "zookeeper", "--net=host", "-e", "ZOO_MY_ID=1", "-e", "ZOO_PORT=2181",
		"-v", "/var/lib/zookeeper/data:/data", "-v", "/var/lib/zookeeper/datalog:/datalog", facts.ZooKeeperImage}
)

// editRun returns a copy of args with elements replaced (an empty
// replacement drops the element) and before inserted ahead of the image.
func editRun(args []string, image string, replace map[string]string, before ...string) []string {
	var out []string
	for _, a := range args {
		if a == image {
			out = append(out, before...)
		}
		if r, ok := replace[a]; ok {
			if r == "" {
				continue
			}
			a = r
		}
		out = append(out, a)
	}
	return out
}

// TestFakeDockerRefusesWhatDockerRefuses: each defect of issue 9 that lives
// in a docker command line, refused by the fake with its rule, and the fixed
// line accepted.
func TestFakeDockerRefusesWhatDockerRefuses(t *testing.T) {
	// The old agent line without the host's CLI mounted.
	agentNoHostCLI := func() []string {
		var out []string
		for i := 0; i < len(oldMesosAgentRun); i++ {
			if oldMesosAgentRun[i] == "-v" && oldMesosAgentRun[i+1] == "/usr/bin/docker:/usr/local/bin/docker:ro" {
				i++
				continue
			}
			out = append(out, oldMesosAgentRun[i])
		}
		return out
	}
	fixedAgent := append(editRun(agentNoHostCLI(), facts.MesosAgentImage, nil, "--pid=host"), "--docker_mesos_image="+facts.MesosExecutorImage)

	tests := []struct {
		name    string
		docker  string
		schema1 bool
		args    []string
		want    string // "" means accepted
	}{
		{"docker before it is installed", "", false, []string{"pull", facts.ZooKeeperImage}, "command not found"},
		// 3: the master installed the plugin of an empty reference.
		{"plugin install of an empty reference", docker26, false,
			[]string{"plugin", "install", "--alias", "rexray/ebs", "--grant-all-permissions", "", "EBS_REGION=us-east-1", "REXRAY_PREEMPT=false"}, "invalid reference format"},
		{"plugin install without granting", docker26, false,
			[]string{"plugin", "install", "--alias", "rexray/ebs", facts.RexRayEBSPlugin}, "denied"},
		// 4: the agent drove Docker 26 through the host's CLI, API 1.45.
		{"Mesos agent with the host's Docker 26 CLI", docker26, false, oldMesosAgentRun, "Mesos 1.4.1 needs ContainerConfig"},
		{"Mesos agent with the host's CLI held at API 1.44", docker26, false,
			append(editRun(oldMesosAgentRun, facts.MesosAgentImage, nil, "--pid=host", "-e", "DOCKER_API_VERSION=1.44"), "--docker_mesos_image="+facts.MesosExecutorImage), ""},
		{"Mesos agent with the host's CLI on Docker 25 (API 1.44)", "docker-ce=5:25.0.5-1~ubuntu.20.04~focal", false,
			append(editRun(oldMesosAgentRun, facts.MesosAgentImage, nil, "--pid=host"), "--docker_mesos_image="+facts.MesosExecutorImage), ""},
		// 6: executors died with the agent's container.
		{"Mesos agent without --docker_mesos_image", docker26, false, agentNoHostCLI(), "without --docker_mesos_image"},
		{"executors in mesos-slave's image", docker26, false,
			append(editRun(agentNoHostCLI(), facts.MesosAgentImage, nil, "--pid=host"), "--docker_mesos_image="+facts.MesosAgentImage), "has ENTRYPOINT"},
		{"executors outside the host's pid namespace", docker26, false,
			append(agentNoHostCLI(), "--docker_mesos_image="+facts.MesosExecutorImage), "--pid=host"},
		{"executors told to use API 1.45", docker26, false,
			append(slices.Clone(fixedAgent), `--executor_environment_variables={"DOCKER_API_VERSION":"1.45"}`), "the executor drives Docker"},
		{"the fixed Mesos agent", docker26, false, fixedAgent, ""},
		{"a master flag given to the agent", docker26, false, append(slices.Clone(fixedAgent), "--agent_ping_timeout=4secs"), "unknown flag --agent_ping_timeout"},
		// 5: Flocker's control image has a CMD and no ENTRYPOINT.
		{"flags after the Flocker control image", docker26, false, oldFlockerControlRun, `"--port=tcp:4523" is run as the program`},
		{"Flocker control with its program as entrypoint", docker26, false,
			editRun(oldFlockerControlRun, facts.FlockerControlServiceImage, nil, "--entrypoint", "/usr/sbin/flocker-control"), ""},
		{"a flag flocker-control does not have", docker26, false,
			append(editRun(oldFlockerControlRun, facts.FlockerControlServiceImage, nil, "--entrypoint", "/usr/sbin/flocker-control"), "--rest-api-port=4523"), "unknown flag --rest-api-port"},
		// 10: ZOO_PORT is not read by zookeeper:3.4.14.
		{"ZOO_PORT", docker26, false, oldZooKeeperRun, "does not read ZOO_PORT"},
		{"ZooKeeper without ZOO_PORT", docker26, false, editRun(oldZooKeeperRun, facts.ZooKeeperImage, map[string]string{"ZOO_PORT=2181": "ZOO_TICK_TIME=2000"}), ""},
		// 8: schema-1 images by Docker release.
		{"schema-1 pull on Docker 26 without the daemon's variable", docker26, false, []string{"pull", facts.AppImage}, facts.DockerSchema1Env},
		{"schema-1 pull on Docker 26 with it", docker26, true, []string{"pull", facts.AppImage}, ""},
		{"schema-1 pull on Docker 28.2", "docker-ce=5:28.2.2-1~ubuntu.20.04~focal", true, []string{"pull", facts.AppImage}, "removed in v28.2"},
		{"pull of an image the fake does not know", docker26, false, []string{"pull", "mesosphere/mesos-slave:1.5.0"}, "not an image in testdata/images.json"},
		// Marathon's flags.
		{"Marathon with a 1.6 flag", docker26, false,
			[]string{"run", "--rm", "--name", "marathon", "--net=host", facts.MarathonImage, "--master=zk://x:2181/mesos", "--gpu_scheduling_behavior=restricted"}, "unknown flag --gpu_scheduling_behavior"},
		{"an unknown docker run option", docker26, false, []string{"run", "--rm", "--mount", "type=bind", facts.ZooKeeperImage}, "unknown flag: --mount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := &fakeNode{t: t, root: t.TempDir()}
			if tt.docker != "" {
				n = newFakeNode(t, tt.docker, tt.schema1)
			}
			out, err := n.docker(tt.args...)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v\n%s", err, out)
			case tt.want != "" && err == nil:
				t.Errorf("accepted, want a refusal mentioning %q:\n%s", tt.want, out)
			case tt.want != "" && !strings.Contains(out, tt.want):
				t.Errorf("refusal %q does not mention %q", out, tt.want)
			}
		})
	}
}

// TestFakeDockerPlugins: Docker refuses to install a plugin twice or to
// enable an enabled one (issue 9, item 9); the fake does too, and keeps the
// state between calls.
func TestFakeDockerPlugins(t *testing.T) {
	n := newFakeNode(t, docker26, true)
	install := []string{"plugin", "install", "--disable", "--alias", "rexray/ebs", "--grant-all-permissions", facts.RexRayEBSPlugin, "EBS_REGION=us-east-1"}
	steps := []struct {
		args []string
		want string // output wanted; "!" prefix: a refusal containing the rest
	}{
		{[]string{"plugin", "inspect", "rexray/ebs"}, "!plugin rexray/ebs not found"},
		{install, ""},
		{[]string{"plugin", "inspect", "--format", "{{.Enabled}}", "rexray/ebs"}, "false"},
		{install, "!plugin rexray/ebs:latest already exists"},
		{[]string{"plugin", "enable", "rexray/ebs"}, ""},
		{[]string{"plugin", "inspect", "--format", "{{.Enabled}}", "rexray/ebs:latest"}, "true"},
		{[]string{"plugin", "enable", "rexray/ebs"}, "!plugin already enabled: plugin rexray/ebs:latest is enabled"},
	}
	for i, s := range steps {
		out, err := n.docker(s.args...)
		if want, refused := strings.CutPrefix(s.want, "!"); refused {
			if err == nil || !strings.Contains(out, want) {
				t.Fatalf("step %d %v: %v %q, want a refusal with %q", i, s.args, err, out, want)
			}
			continue
		}
		if err != nil || strings.TrimSpace(out) != s.want {
			t.Fatalf("step %d %v: %v %q, want %q", i, s.args, err, out, s.want)
		}
	}
}

// TestBootPluginRetry: a boot whose plugin install succeeded but whose enable
// failed (the plugin starts and calls EC2, which can fail while the instance
// profile propagates) must finish on the retry without a second install,
// which Docker refuses (issue 9, item 9).
func TestBootPluginRetry(t *testing.T) {
	doc, err := RenderAgent(agentInput(facts.VolumeDriverRexRay))
	if err != nil {
		t.Fatal(err)
	}
	r := boot(t, doc, "10.0.1.21", "", func(root string) {
		state := fakeState{Plugins: map[string]*fakePlugin{
			"rexray/ebs:latest": {Ref: facts.RexRayEBSPlugin, Enabled: false},
		}}
		raw, err := json.Marshal(state)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(root, "var/lib/fake-docker/state.json")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	})
	r.mustSucceed(t)
	if i := r.find("docker", "plugin", "install"); i >= 0 {
		t.Errorf("the plugin was installed a second time: %v", r.calls[i])
	}
	if i := r.find("docker", "plugin", "enable", "rexray/ebs"); i < 0 {
		t.Errorf("the installed, disabled plugin was not enabled; calls:\n%s", r.callList())
	}
}

// TestBootRefusesAnotherDockerKey: the boot installs Docker's repository only
// with the pinned key; any other key stops it before apt reads the
// repository (issue 9, item 8).
func TestBootRefusesAnotherDockerKey(t *testing.T) {
	doc, err := RenderAgent(agentInput(facts.VolumeDriverRexRay))
	if err != nil {
		t.Fatal(err)
	}
	root, cc := installNode(t, doc)
	const other = "0000111122223333444455556666777788889999"
	out, err := runScript(t, root, cc.RunCmd[0][0], "10.0.1.21", "", "FAKE_GPG_FPR="+other)
	if err == nil {
		t.Fatalf("the boot accepted a key with fingerprint %s:\n%s", other, out)
	}
	if want := facts.BootFailedPrefix + "install-packages: "; !strings.Contains(out, want) || !strings.Contains(out, other) {
		t.Errorf("output lacks %q naming the fingerprint:\n%s", want, out)
	}
	for _, c := range readCalls(t, root) {
		if c[0] == "apt-get" || c[0] == "docker" {
			t.Errorf("%v ran after the key was refused", c)
		}
	}
	if _, err := os.Stat(filepath.Join(root, facts.DockerAptKeyPath)); err == nil {
		t.Error("the refused key was installed")
	}
}
