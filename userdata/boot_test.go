package userdata

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// fakeScript stands in for every external program the boot calls. It records
// each call as one line, program and arguments separated by tabs, fails on
// purpose when "$name $*" starts with FAKE_FAIL, and answers the few calls
// whose output the boot reads. Its systemctl "starts" a unit by running the
// unit's ExecStart script, so the docker run behind it is recorded too.
const fakeScript = `#!/bin/bash
set -u
name=${0##*/}
line=$name
for a in "$@"; do line+=$'\t'"$a"; done
printf '%s\n' "$line" >>"$MHA_CALLS"
if [ -n "${FAKE_FAIL:-}" ] && [[ "$name $*" == "$FAKE_FAIL"* ]]; then
  echo "fake $name: failing on purpose" >&2
  exit 3
fi
# dpkg_entry NAME prints "Status<TAB>Version" of a package from dpkg's
# status file (its stanzas of Package, Status and Version; the last stanza
# of a package wins, as a later install or hold replaces the entry), and
# fails for a package never seen.
dpkg_entry() {
  awk -v want="$1" 'BEGIN { RS = ""; FS = "\n" }
    { p = ""; st = ""; v = ""
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^Package: /) p = substr($i, 10)
        if ($i ~ /^Status: /) st = substr($i, 9)
        if ($i ~ /^Version: /) v = substr($i, 10)
      }
      if (p == want) { out = st "\t" v; found = 1 } }
    END { if (!found) exit 1; printf "%s", out }' "$MHA_ROOT/var/lib/dpkg/status" 2>/dev/null
}
# fake_now prints the fake clock, $MHA_ROOT/proc/uptime, in seconds.
fake_now() { read -r up _ <"$MHA_ROOT/proc/uptime"; printf '%s' "${up%.*}"; }
case $name in
curl)
  case "$*" in
  *latest/api/token*) printf 'FAKE-TOKEN' ;;
  *latest/meta-data/local-ipv4*) printf '%s' "$FAKE_PRIVATE_IP" ;;
  */v2/leader*)
    # The fencer's tests write the leader's answer; otherwise Marathon
    # answers as the fake cluster's (fakecluster_test.go).
    if [ -r "$MHA_ROOT/fake-marathon/leader.json" ]; then cat "$MHA_ROOT/fake-marathon/leader.json"; exit 0; fi
    exec "${0%/*}/fake-cluster" curl "$@" ;;
  */v2/tasks*)
    # GET /v2/tasks has a JSON and a text/plain method (TasksResource.scala
    # indexJson, indexTxt); without Accept: application/json the fake
    # answers the text one (stricter than leaving it to JAX-RS).
    if [[ " $* " != *" Accept: application/json "* ]]; then
      printf '/moby-counter\t10000\t10.0.2.11:8500\n'
    elif [ -r "$MHA_ROOT/fake-marathon/tasks.json" ]; then
      cat "$MHA_ROOT/fake-marathon/tasks.json"
    else
      printf '{"tasks":[]}'
    fi ;;
  *latest/meta-data/instance-id*) printf '%s' "$FAKE_INSTANCE_ID" ;;
  *" -w "*/health)
    # The self-fence's probe: a master answers when the last line of
    # $MHA_ROOT/fake-masters ("<from second> <ip>...") whose second has
    # come lists it. One that does not answer is a timeout: curl prints
    # the write-out (000) and exits 28 (curl(1), EXIT CODES).
    url=${*: -1}; ip=${url#http://}; ip=${ip%%:*}; now=$(fake_now); up=
    while read -r from ips; do [ "$from" -gt "$now" ] || up=" $ips "; done <"$MHA_ROOT/fake-masters" 2>/dev/null
    if [[ $up == *" $ip "* ]]; then printf '200\n'; else printf '000\n'; exit 28; fi ;;
  *:5050/*|*:8080/ping)
    # The masters' readiness probes: the fake cluster answers them.
    exec "${0%/*}/fake-cluster" curl "$@" ;;
  esac
  # -o FILE writes the download there.
  prev=
  for a in "$@"; do
    if [ "$prev" = -o ]; then printf 'fake download of %s\n' "${@: -1}" >"$a"; fi
    prev=$a
  done ;;
gpg) printf 'pub:-:4096:1:8D81803C0EBFCD88:1487788586:::-:::scESA::::::23::0:\nfpr:::::::::%s:\n' "$FAKE_GPG_FPR" ;;
aws) printf 'fake value of %s\n' "$*" ;;
apt-get)
  # install records each name=version in dpkg's status file, which
  # dpkg-query (below) and the fake docker (installedDocker) read. Like apt,
  # it refuses to change a held package's version unless told it may
  # (apt-get(8), --allow-change-held-packages): with -y, apt exits 100.
  if [ "${*: -1}" != update ]; then
    allow_held=false
    for a in "$@"; do [ "$a" != --allow-change-held-packages ] || allow_held=true; done
    for a in "$@"; do
      case $a in -*|install|*Timeout*) ;; *=*)
        if cur=$(dpkg_entry "${a%%=*}") && [[ $cur == "hold ok installed"$'\t'* ]] && [ "${cur#*$'\t'}" != "${a#*=}" ] && ! $allow_held; then
          echo "E: Held packages were changed and -y was used without --allow-change-held-packages." >&2
          exit 100
        fi ;;
      esac
    done
    for a in "$@"; do
      case $a in -*|install|*Timeout*) ;; *=*)
        mkdir -p "$MHA_ROOT/var/lib/dpkg"
        printf 'Package: %s\nStatus: install ok installed\nVersion: %s\n\n' "${a%%=*}" "${a#*=}" >>"$MHA_ROOT/var/lib/dpkg/status" ;;
      esac
    done
  fi ;;
apt-mark)
  # hold sets each installed package's selection to hold, which dpkg's
  # status then shows as "hold ok installed" (dpkg-query(1), Status).
  if [ "${1:-}" = hold ]; then
    for p in "${@:2}"; do
      cur=$(dpkg_entry "$p") || { echo "E: Unable to locate package $p" >&2; exit 100; }
      printf 'Package: %s\nStatus: hold ok installed\nVersion: %s\n\n' "$p" "${cur#*$'\t'}" >>"$MHA_ROOT/var/lib/dpkg/status"
    done
  fi ;;
dpkg-query)
  # The one form the boot uses, dpkg-query -W -f=FORMAT NAME (dpkg-query(1)):
  # FORMAT's fields and \t escape; a package never seen exits 1.
  if [ $# -ne 3 ] || [ "$1" != -W ] || [ "$2" != '-f=${Status}\t${Version}' ]; then
    echo "fake dpkg-query: no model of: $*" >&2; exit 2
  fi
  rec=$(dpkg_entry "$3") || { echo "dpkg-query: no packages found matching $3" >&2; exit 1; }
  printf '%s' "$rec" ;;
sleep)
  # FAKE_SLEEP sleeps that long for real (nodes booted together, waiting
  # for one another); with a fake clock (the self-fence's tests), sleeping
  # moves it on.
  if [ -n "${FAKE_SLEEP:-}" ]; then /bin/sleep "$FAKE_SLEEP"; fi
  if [ -f "$MHA_ROOT/proc/uptime" ]; then
    up=$(awk -v d="$1" '{ printf "%.2f %s", $1 + d, $2 }' "$MHA_ROOT/proc/uptime")
    printf '%s\n' "$up" >"$MHA_ROOT/proc/uptime"
  fi ;;
nc)
  # A port probe (-z) finds the port open; a four-letter word goes to
  # ZooKeeper, which the fake cluster models (fakecluster_test.go).
  case " $* " in *" -z "*) ;; *) exec "${0%/*}/fake-cluster" nc "$@" ;; esac ;;
systemctl)
  if [ "${1:-}" = enable ] && [ "${2:-}" = --now ]; then
    for unit in "${@:3}"; do
      exec_start=$(sed -n 's/^ExecStart=//p' "$MHA_ROOT/etc/systemd/system/$unit")
      [ -n "$exec_start" ] || { echo "fake systemctl: no ExecStart in $unit" >&2; exit 5; }
      "$MHA_ROOT$exec_start" || exit
    done
  fi ;;
esac
exit 0
`

// fakes are the programs the boot and readiness scripts may call that must
// not touch the machine running the tests. docker is not among them: it is
// this test binary (fakedocker_test.go).
var fakes = []string{"apt-get", "apt-mark", "aws", "curl", "dpkg-query", "gpg", "iptables", "logger", "mount", "nc", "sleep", "sync", "sysctl", "systemctl", "tune2fs", "umount"}

// bootRun is one boot of a rendered node in a scratch root.
type bootRun struct {
	root   string
	out    string // stdout and stderr of the boot
	err    error
	calls  [][]string
	doc    cloudConfig
	fakeIP string
}

// installNode writes the user data's files under a scratch root, as
// cloud-init's write_files would.
func installNode(t *testing.T, doc []byte) (string, cloudConfig) {
	t.Helper()
	root := t.TempDir()
	return root, installInto(t, root, doc)
}

// installInto writes the user data's files under root, which may hold a
// node already (an image prepared there).
func installInto(t *testing.T, root string, doc []byte) cloudConfig {
	t.Helper()
	cc := parse(t, doc)
	for _, f := range cc.WriteFiles {
		mode := parseMode(t, f.Permissions)
		path := filepath.Join(root, f.Path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(f.Content), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	return cc
}

func parseMode(t *testing.T, octal string) os.FileMode {
	t.Helper()
	m, err := strconv.ParseUint(octal, 8, 32)
	if err != nil {
		t.Fatalf("file mode %q: %v", octal, err)
	}
	return os.FileMode(m)
}

// runScript runs one installed script with the fakes first on PATH; env
// adds to or overrides the fakes' environment (FAKE_GPG_FPR is the
// fingerprint the fake gpg reports for any key).
func runScript(t *testing.T, root, script, fakeIP, fail string, env ...string) (string, error) {
	t.Helper()
	bin := filepath.Join(root, "..", filepath.Base(root)+"-fakes")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range fakes {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(fakeScript), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"docker", "fake-cluster"} {
		if err := os.Symlink(self, filepath.Join(bin, name)); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	// The clock the self-fence reads (/proc/uptime), unless the test set one.
	if uptime := filepath.Join(root, "proc/uptime"); !exists(t, uptime) {
		if err := os.MkdirAll(filepath.Dir(uptime), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(uptime, []byte("100.00 50.00\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(filepath.Join(root, script))
	cmd.Env = []string{
		"PATH=" + bin + ":/usr/bin:/bin",
		"HOME=" + root,
		"LC_ALL=C",
		"MHA_ROOT=" + root,
		"MHA_CALLS=" + filepath.Join(root, "calls.log"),
		"MHA_RETRY_ATTEMPTS=2",
		"MHA_READY_ATTEMPTS=2",
		// The fencer (run-mha-fencer), started by the fake systemctl in the
		// foreground, polls once and exits.
		"MHA_FENCER_POLLS=1",
		"FAKE_PRIVATE_IP=" + fakeIP,
		"FAKE_INSTANCE_ID=" + testInstanceID,
		// The boot starts the agent's self-fence, which the fake systemctl
		// runs in the foreground: one round (its masters never answer
		// here, so it does not arm).
		"MHA_SELF_FENCE_ROUNDS=1",
		"MHA_JOURNAL_COMMIT_ROUNDS=1",
		"FAKE_FAIL=" + fail,
		"FAKE_GPG_FPR=" + facts.DockerAptKeyFingerprint,
	}
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

// exists reports whether path exists.
func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

// boot installs a node's user data in a scratch root and runs its runcmd.
func boot(t *testing.T, doc []byte, fakeIP, fail string, prepare func(root string)) bootRun {
	t.Helper()
	root, cc := installNode(t, doc)
	if prepare != nil {
		prepare(root)
	}
	if len(cc.RunCmd) != 1 || len(cc.RunCmd[0]) != 1 {
		t.Fatalf("runcmd %v: want the boot script alone", cc.RunCmd)
	}
	out, err := runScript(t, root, cc.RunCmd[0][0], fakeIP, fail)
	return bootRun{root: root, out: out, err: err, calls: readCalls(t, root), doc: cc, fakeIP: fakeIP}
}

func readCalls(t *testing.T, root string) [][]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "calls.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var calls [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if l != "" {
			calls = append(calls, strings.Split(l, "\t"))
		}
	}
	return calls
}

// find returns the index of the first call that starts with prefix, or -1.
func (r bootRun) find(prefix ...string) int {
	for i, c := range r.calls {
		if len(c) >= len(prefix) && slices.Equal(c[:len(prefix)], prefix) {
			return i
		}
	}
	return -1
}

// dockerRun returns the arguments of the docker run of container name.
func (r bootRun) dockerRun(t *testing.T, name string) []string {
	t.Helper()
	i := r.find("docker", "run", "--rm", "--name", name)
	if i < 0 {
		t.Fatalf("no docker run of %s; calls:\n%s", name, r.callList())
	}
	return r.calls[i]
}

func (r bootRun) callList() string {
	var b strings.Builder
	for _, c := range r.calls {
		b.WriteString(strings.Join(c, " ") + "\n")
	}
	return b.String()
}

func (r bootRun) mustSucceed(t *testing.T) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("boot failed: %v\n%s\ncalls:\n%s", r.err, r.out, r.callList())
	}
}

func hasArgs(t *testing.T, what string, args []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(args, w) {
			t.Errorf("%s lacks %q: %v", what, w, args)
		}
	}
}

func TestBootMaster(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			in := masterInput(driver)
			doc, err := RenderMaster(in)
			if err != nil {
				t.Fatal(err)
			}
			r := boot(t, doc, testMasterIP, "", nil)
			r.mustSucceed(t)
			r.checkCommon(t, in.FlockerFiles, in.Region)

			zk := "zk://" + testMasterIP + ":2181"
			hasArgs(t, "zookeeper", r.dockerRun(t, "zookeeper"), "--net=host", "ZOO_MY_ID=1", in.Images.ZooKeeper)
			hasArgs(t, "mesos-master", r.dockerRun(t, "mesos-master"), in.Images.MesosMaster,
				"--zk="+zk+"/mesos", "--quorum=1", "--ip="+testMasterIP, "--hostname="+testMasterIP, "--port=5050",
				"--agent_ping_timeout="+mesosDuration(facts.AgentPingTimeout),
				"--max_agent_ping_timeouts="+strconv.Itoa(facts.MaxAgentPingTimeouts))
			// The master runs no volume driver: nothing to install there.
			if i := r.find("docker", "plugin"); i >= 0 {
				t.Errorf("the master calls %v", r.calls[i])
			}
			hasArgs(t, "marathon", r.dockerRun(t, "marathon"), in.Images.Marathon,
				"--master="+zk+"/mesos", "--zk="+zk+"/marathon", "--hostname="+testMasterIP, "--http_port=8080")
			flocker := r.find("docker", "run", "--rm", "--name", "flocker-control")
			if driver == facts.VolumeDriverFlocker {
				hasArgs(t, "flocker-control", r.calls[flocker], in.Images.FlockerControl,
					"/var/lib/flocker:/var/lib/flocker", "--entrypoint", "/usr/sbin/flocker-control", "--port=tcp:4523", "--agent-port=tcp:4524")
			} else if flocker >= 0 {
				t.Errorf("volume driver %s runs the Flocker control service", driver)
			}
		})
	}
}

func TestBootAgent(t *testing.T) {
	const agentIP = "10.0.1.21"
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			in := agentInput(driver)
			doc, err := RenderAgent(in)
			if err != nil {
				t.Fatal(err)
			}
			r := boot(t, doc, agentIP, "", func(root string) {
				if driver == facts.VolumeDriverFlocker {
					listenPluginSocket(t, root)
				}
			})
			r.mustSucceed(t)
			r.checkCommon(t, in.FlockerFiles, in.Region)

			agent := r.dockerRun(t, "mesos-agent")
			hasArgs(t, "mesos-agent", agent, in.Images.MesosAgent,
				"--master=zk://"+testMasterIP+":2181/mesos", "--ip="+agentIP, "--hostname="+agentIP,
				"--containerizers=docker,mesos", "--resources=ports:[7000-9000]", "--attributes=zone:us-east-1a",
				"--executor_registration_timeout=5mins", "/var/run/docker.sock:/var/run/docker.sock",
				"--pid=host", "--docker_mesos_image="+in.Images.MesosExecutor)
			startAgent := r.find("docker", "run", "--rm", "--name", "mesos-agent")
			// The writeback timers are set before the agent can start the
			// app, and the self-fence starts with the agent.
			if i := r.find("sysctl", "-p", r.root+writebackSysctl); i < 0 || i > startAgent {
				t.Errorf("the writeback timers are not applied before the agent starts; calls:\n%s", r.callList())
			}
			if i := r.find("systemctl", "enable", "--now", facts.SelfFenceUnit+".service"); i < startAgent {
				t.Errorf("the self-fence is not started after the agent; calls:\n%s", r.callList())
			}
			for _, image := range []string{facts.AppImage, in.Images.MesosExecutor} {
				if pull := r.find("docker", "pull", image); pull < 0 || pull > startAgent {
					t.Errorf("%s is not pulled before the agent starts; calls:\n%s", image, r.callList())
				}
			}
			plugin := r.find("docker", "plugin", "install")
			switch driver {
			case facts.VolumeDriverRexRay:
				if plugin < 0 || plugin > startAgent {
					t.Fatalf("rexray/ebs is not installed before the agent starts; calls:\n%s", r.callList())
				}
				want := []string{"docker", "plugin", "install", "--disable", "--alias", "rexray/ebs", "--grant-all-permissions",
					in.Images.RexRayPlugin, "EBS_REGION=us-east-1", "REXRAY_PREEMPT=false"}
				if !slices.Equal(r.calls[plugin], want) {
					t.Errorf("plugin install = %v\nwant %v (instance-profile credentials: no keys; no preempt: docs/fencing.md)", r.calls[plugin], want)
				}
				if enable := r.find("docker", "plugin", "enable", "rexray/ebs"); enable < plugin || enable > startAgent {
					t.Errorf("rexray/ebs is not enabled after its install and before the agent starts; calls:\n%s", r.callList())
				}
			case facts.VolumeDriverFlocker:
				if plugin >= 0 {
					t.Errorf("flocker agent installs a managed plugin: %v", r.calls[plugin])
				}
				// The agent starts after Flocker's plugin, which serves
				// the app's volume.
				if p := r.find("docker", "run", "--rm", "--name", "flocker-docker-plugin"); p < 0 || p > startAgent {
					t.Errorf("flocker-docker-plugin does not start before the agent; calls:\n%s", r.callList())
				}
				hasArgs(t, "flocker-dataset-agent", r.dockerRun(t, "flocker-dataset-agent"), in.Images.FlockerDatasetAgent,
					"--privileged", "/etc/flocker:/etc/flocker", "/dev:/dev")
				hasArgs(t, "flocker-docker-plugin", r.dockerRun(t, "flocker-docker-plugin"), in.Images.FlockerDockerPlugin,
					"/run/docker:/run/docker")
				var cfg struct {
					ControlService struct {
						Hostname string `yaml:"hostname"`
						Port     int    `yaml:"port"`
					} `yaml:"control-service"`
				}
				raw, err := os.ReadFile(filepath.Join(r.root, "etc/flocker/agent.yml"))
				if err != nil {
					t.Fatal(err)
				}
				if err := yaml.Unmarshal(raw, &cfg); err != nil || cfg.ControlService.Hostname != testMasterIP || cfg.ControlService.Port != 4524 {
					t.Errorf("agent.yml control-service = %+v (%v), want %s:4524", cfg.ControlService, err, testMasterIP)
				}
			}
		})
	}
}

// checkCommon checks what every node's boot does, whatever its role.
func (r bootRun) checkCommon(t *testing.T, secrets []SecretFile, region string) {
	t.Helper()
	install := r.find("apt-get", "-o", "DPkg::Lock::Timeout=300", "install")
	if install < 0 {
		t.Fatalf("no apt-get install; calls:\n%s", r.callList())
	}
	hasArgs(t, "apt-get install", r.calls[install], "docker-ce=5:26.1.4-1~ubuntu.20.04~focal",
		"docker-ce-cli=5:26.1.4-1~ubuntu.20.04~focal", "containerd.io=1.6.33-1",
		// dockerd unpacks layers with unpigz if present, far faster than Go's gzip.
		"pigz=2.4-1")
	if hold := r.find("apt-mark", "hold"); hold < install {
		t.Errorf("Docker's packages are not held after the install; calls:\n%s", r.callList())
	} else {
		hasArgs(t, "apt-mark hold", r.calls[hold], "docker-ce", "docker-ce-cli", "containerd.io")
	}
	// Docker's repository is set up, its key checked, before apt reads it.
	update := r.find("apt-get", "-o", "DPkg::Lock::Timeout=300", "update")
	if key := r.find("gpg", "--show-keys"); key < 0 || key > update {
		t.Errorf("Docker's apt key is not checked before apt-get update; calls:\n%s", r.callList())
	}
	source, err := os.ReadFile(filepath.Join(r.root, "etc/apt/sources.list.d/docker.list"))
	if want := "deb [arch=amd64 signed-by=" + facts.DockerAptKeyPath + "] " + facts.DockerAptRepository + " focal stable\n"; err != nil || string(source) != want {
		t.Errorf("docker.list = %q, %v; want %q", source, err, want)
	}
	if _, err := os.Stat(filepath.Join(r.root, facts.DockerAptKeyPath)); err != nil {
		t.Errorf("Docker's apt key is not installed: %v", err)
	}
	if got := slices.Contains(r.calls[install], "awscli="+facts.AWSCLIPackageVersion); got != (len(secrets) > 0) {
		t.Errorf("awscli installed = %v, want it only to fetch certificates", got)
	}
	dropIn, err := os.ReadFile(filepath.Join(r.root, dockerDrop))
	if err != nil || !strings.Contains(string(dropIn), "Environment="+facts.DockerSchema1Env+"=1") {
		t.Errorf("docker drop-in %s: %q, %v", dockerDrop, dropIn, err)
	}
	if i := r.find("curl", "-fsS", "--max-time", "5", "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 300"); i < 0 {
		t.Errorf("no IMDSv2 token request; calls:\n%s", r.callList())
	}
	if i := r.find("curl", "-fsS", "--max-time", "5", "-H", "X-aws-ec2-metadata-token: FAKE-TOKEN"); i < 0 {
		t.Errorf("the metadata read does not send the IMDSv2 token; calls:\n%s", r.callList())
	}
	// An agent also records its instance id, which its self-fence names.
	wantEnv := "PRIVATE_IP=" + r.fakeIP + "\n"
	if exists(t, filepath.Join(r.root, selfFenceScript)) {
		wantEnv += "INSTANCE_ID=" + testInstanceID + "\n"
	}
	env, err := os.ReadFile(filepath.Join(r.root, nodeEnv))
	if err != nil || string(env) != wantEnv {
		t.Errorf("%s = %q, %v; want %q", nodeEnv, env, err, wantEnv)
	}

	// Secrets: fetched from SSM with decryption, written with their mode
	// under a 0700 directory.
	fetched := 0
	for _, c := range r.calls {
		if len(c) > 2 && c[0] == "aws" {
			fetched++
			if c[1] != "ssm" || c[2] != "get-parameter" || !slices.Contains(c, "--with-decryption") || !slices.Contains(c, region) {
				t.Errorf("unexpected aws call %v", c)
			}
		}
	}
	if fetched != len(secrets) {
		t.Errorf("%d SSM reads, want %d", fetched, len(secrets))
	}
	for _, s := range secrets {
		st, err := os.Stat(filepath.Join(r.root, s.Path))
		if err != nil {
			t.Errorf("secret %s not written: %v", s.Path, err)
			continue
		}
		if got := st.Mode().Perm(); got != parseMode(t, s.Mode) {
			t.Errorf("%s has mode %v, want %s", s.Path, got, s.Mode)
		}
		content, _ := os.ReadFile(filepath.Join(r.root, s.Path))
		if !strings.Contains(string(content), s.Parameter) {
			t.Errorf("%s holds %q, not the value of %s", s.Path, content, s.Parameter)
		}
	}
	if len(secrets) > 0 {
		st, err := os.Stat(filepath.Join(r.root, facts.FlockerCertDir))
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, %v; want 0700", facts.FlockerCertDir, st.Mode().Perm(), err)
		}
	}

	// Each service's container runs after the pull of its image (the
	// image a docker run names is one the boot pulled, and pulled first).
	pulled := map[string]int{}
	for i, c := range r.calls {
		if len(c) == 3 && c[0] == "docker" && c[1] == "pull" {
			if _, ok := pulled[c[2]]; !ok {
				pulled[c[2]] = i
			}
		}
	}
	runs := 0
	for i, c := range r.calls {
		if len(c) < 2 || c[0] != "docker" || c[1] != "run" {
			continue
		}
		runs++
		found := false
		for _, a := range c[2:] {
			if p, ok := pulled[a]; ok {
				found = true
				if p > i {
					t.Errorf("%v runs before the pull of %s; calls:\n%s", c, a, r.callList())
				}
			}
		}
		if !found {
			t.Errorf("%v runs an image the boot did not pull; calls:\n%s", c, r.callList())
		}
	}
	if runs == 0 {
		t.Fatalf("no service started; calls:\n%s", r.callList())
	}

	// Readiness: the marker, and the READY line.
	if _, err := os.Stat(filepath.Join(r.root, facts.ReadyMarkerPath)); err != nil {
		t.Errorf("no ready marker: %v", err)
	}
	if !strings.Contains(r.out, "READY") || strings.Contains(r.out, "FAILED") {
		t.Errorf("boot output:\n%s", r.out)
	}
}

// listenPluginSocket stands in for Flocker's plugin socket, which the plugin
// container would create.
func listenPluginSocket(t *testing.T, root string) {
	t.Helper()
	path := filepath.Join(root, flockerPluginSocket)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("socket %s: %v", path, err)
	}
	t.Cleanup(func() { l.Close() })
}

// TestBootFailure: a failing step stops the boot with the FAILED line on the
// console and starts nothing after it.
func TestBootFailure(t *testing.T) {
	tests := []struct {
		name, fail, step, reason string
	}{
		{"apt mirror down", "apt-get -o DPkg::Lock::Timeout=300 update", "install-packages", "failed 2 times"},
		{"hold refused", "apt-mark hold", "install-packages", "exited 3"},
		{"no metadata service", "curl -fsS --max-time 5 -X PUT", "node-address", "'mha_read_private_ip' failed 2 times"},
		{"SSM denied", "aws ssm get-parameter", "fetch-certificates", "/marathon-ha/mha-1a2b3c4d/master/cluster.crt"},
		{"image gone", "docker pull " + facts.MarathonImage, "pull-images", "'docker pull " + facts.MarathonImage + "' failed 2 times"},
		// The pulls run at once: all of them failing still print one
		// FAILED line, which names every image.
		{"Docker Hub down", "docker pull ", "pull-images", "'docker pull " + facts.ZooKeeperImage + "' failed 2 times; 'docker pull " + facts.MesosMasterImage + "' failed 2 times"},
		// A service started right after its pull fails the same step.
		{"Marathon's unit refused", "systemctl enable --now marathon.service", "pull-images", "'systemctl enable --now marathon.service' exited 3"},
		{"services never answer", "curl -sS --max-time 5", "wait-ready", "not ready: Mesos has a leader (/redirect on 5050) (fake curl: failing on purpose)"},
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
				t.Fatalf("boot succeeded although %q failed:\n%s", tt.fail, r.out)
			}
			want := facts.BootFailedPrefix + tt.step + ": "
			console, _ := os.ReadFile(filepath.Join(r.root, "dev/console"))
			for what, text := range map[string]string{"output": r.out, "console": string(console)} {
				if strings.Count(text, facts.BootFailedPrefix) != 1 {
					t.Errorf("%s should hold exactly one FAILED line:\n%s", what, text)
				}
				i := strings.Index(text, want)
				if i < 0 || !strings.Contains(text[i:], tt.reason) {
					t.Errorf("%s lacks %q ... %q:\n%s", what, want, tt.reason, text)
				}
			}
			if _, err := os.Stat(filepath.Join(r.root, facts.ReadyMarkerPath)); err == nil {
				t.Error("a failed boot left the ready marker")
			}
			if strings.Contains(r.out, "READY") {
				t.Errorf("a failed boot printed READY:\n%s", r.out)
			}
		})
	}
}

// TestReadyCheck runs the installed check before the boot wrote node.env,
// on a booted master whose services answer, and with one down.
func TestReadyCheck(t *testing.T) {
	doc, err := RenderMaster(masterInput(facts.VolumeDriverFlocker))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := installNode(t, doc)
	if out, err := runScript(t, root, facts.ReadyCheckCommand, testMasterIP, ""); err == nil || !strings.Contains(out, "not written yet") {
		t.Errorf("before the boot wrote node.env: %v\n%s", err, out)
	}
	r := boot(t, doc, testMasterIP, "", nil)
	r.mustSucceed(t)
	out, err := runScript(t, r.root, facts.ReadyCheckCommand, testMasterIP, "")
	if err != nil || strings.Count(out, "ok: ") != 7 {
		t.Errorf("all services up: %v\n%s", err, out)
	}
	out, err = runScript(t, r.root, facts.ReadyCheckCommand, testMasterIP, "systemctl is-active --quiet "+fencerService+".service")
	if err == nil || !strings.Contains(out, "not ready: "+fencerService+" running") || strings.Count(out, "ok: ") != 6 {
		t.Errorf("fencer down: %v\n%s", err, out)
	}
	// Marathon's container is gone: nothing answers on its port.
	if err := os.Remove(filepath.Join(r.root, "var/lib/fake-cluster", testMasterIP, "marathon.json")); err != nil {
		t.Fatal(err)
	}
	out, err = runScript(t, r.root, facts.ReadyCheckCommand, testMasterIP, "")
	if want := "not ready: Marathon has a leader (/v2/leader on 8080) (curl: (7) Failed to connect to " + testMasterIP + " port 8080: Connection refused)"; err == nil || !strings.Contains(out, want) || strings.Count(out, "ok: ") != 6 {
		t.Errorf("Marathon down: %v, want %q\n%s", err, want, out)
	}
}

// Every node's Docker unit runs the metadata block after each start, and the
// block inserts its rule once: containers on any Docker bridge cannot reach
// the instance role's credentials.
func TestBlockMetadataForContainers(t *testing.T) {
	rule := []string{"--destination", facts.InstanceMetadataAddress + "/32", "--jump", "DROP"}
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			root, cc := installNode(t, mustRender(t, v))
			if dropin := cc.file(t, dockerDrop); !strings.Contains(dropin, "\nExecStartPost="+blockMetadata+"\n") {
				t.Fatalf("Docker's drop-in does not run %s after start:\n%s", blockMetadata, dropin)
			}

			// The rule is missing (the check fails): it is inserted first in DOCKER-USER.
			if out, err := runScript(t, root, blockMetadata, "10.42.1.21", "iptables --wait --check"); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			calls := readCalls(t, root)
			want := [][]string{
				append([]string{"iptables", "--wait", "--check", "DOCKER-USER"}, rule...),
				append([]string{"iptables", "--wait", "--insert", "DOCKER-USER", "1"}, rule...),
			}
			if len(calls) != 2 || !slices.Equal(calls[0], want[0]) || !slices.Equal(calls[1], want[1]) {
				t.Fatalf("calls %q, want %q", calls, want)
			}
			// Containers reach the metadata service through forwarded
			// packets from whichever bridge their network has: the
			// default docker0, a user-defined network's br-<id>, a bridge
			// named by com.docker.network.bridge.name, swarm's
			// docker_gwbridge. The inserted rule must drop every one.
			for _, bridge := range []string{"docker0", "br-3f2a9c1d7e6b", "appnet0", "docker_gwbridge"} {
				if !iptablesRuleDrops(calls[1][5:], bridge, facts.InstanceMetadataAddress) {
					t.Errorf("rule %q lets a container on %s reach %s", calls[1][5:], bridge, facts.InstanceMetadataAddress)
				}
			}

			// Present already (Docker restarted): nothing is added.
			if err := os.Remove(filepath.Join(root, "calls.log")); err != nil {
				t.Fatal(err)
			}
			if out, err := runScript(t, root, blockMetadata, "10.42.1.21", ""); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if calls := readCalls(t, root); len(calls) != 1 || calls[0][2] != "--check" {
				t.Errorf("with the rule in place: calls %q, want the check alone", calls)
			}

			// An insert that fails fails the script, and with it Docker's start.
			if err := os.Remove(filepath.Join(root, "calls.log")); err != nil {
				t.Fatal(err)
			}
			if _, err := runScript(t, root, blockMetadata, "10.42.1.21", "iptables --wait"); err == nil {
				t.Error("a failing iptables insert did not fail the script")
			}
		})
	}
}

// iptablesRuleDrops reports whether a DOCKER-USER rule of --in-interface,
// --destination and --jump drops a forwarded packet from a bridge to an
// address. An interface name ending in "+" matches every name with that
// prefix (iptables(8), "-i, --in-interface"); without the option every
// interface matches. Any other option is refused: the test cannot judge it.
func iptablesRuleDrops(rule []string, bridge, dest string) bool {
	matches := true
	jump := ""
	for i := 0; i+1 < len(rule); i += 2 {
		switch v := rule[i+1]; rule[i] {
		case "--in-interface":
			if p, wild := strings.CutSuffix(v, "+"); wild {
				matches = matches && strings.HasPrefix(bridge, p)
			} else {
				matches = matches && bridge == v
			}
		case "--destination":
			matches = matches && v == dest+"/32"
		case "--jump":
			jump = v
		default:
			return false
		}
	}
	return matches && jump == "DROP" && len(rule)%2 == 0
}

// TestBootPullsOverlap: the boot pulls a node's images at once. Each fake
// pull takes pullTime and logs its interval; every interval holds one
// common instant, so no pull waited for another (one after the other they
// would take len(pulls)*pullTime).
func TestBootPullsOverlap(t *testing.T) {
	// Long enough that five jobs, each starting the fake docker twice
	// before its pull, all start within it on a loaded machine.
	const pullTime = 800 * time.Millisecond
	in := masterInput(facts.VolumeDriverFlocker)
	doc, err := RenderMaster(in)
	if err != nil {
		t.Fatal(err)
	}
	root, cc := installNode(t, doc)
	if out, err := runScript(t, root, cc.RunCmd[0][0], testMasterIP, "", "FAKE_PULL_TIME="+pullTime.String()); err != nil {
		t.Fatalf("boot: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(root, "var/lib/fake-docker/pulls.log"))
	if err != nil {
		t.Fatal(err)
	}
	var images []string
	var lastStart, firstEnd int64
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var image string
		var start, end int64
		if _, err := fmt.Sscanf(l, "%s %d %d", &image, &start, &end); err != nil {
			t.Fatalf("pulls.log line %q: %v", l, err)
		}
		if end-start < int64(pullTime) {
			t.Errorf("pull of %s took %v, want at least %v", image, time.Duration(end-start), pullTime)
		}
		images = append(images, image)
		if lastStart == 0 || start > lastStart {
			lastStart = start
		}
		if firstEnd == 0 || end < firstEnd {
			firstEnd = end
		}
	}
	want := []string{in.Images.ZooKeeper, in.Images.MesosMaster, in.Images.Marathon, in.Images.AWSCLI, in.Images.FlockerControl}
	slices.Sort(images)
	slices.Sort(want)
	if !slices.Equal(images, want) {
		t.Fatalf("pulled %v, want %v", images, want)
	}
	if lastStart >= firstEnd {
		t.Errorf("the pulls do not overlap: the last started %v after the first ended\n%s", time.Duration(lastStart-firstEnd), raw)
	}
}

// TestBootOnAPreparedAMI: the boot does only what the AMI lacks. An AMI
// that has every package at its pinned version and every image needs no
// apt step, no Docker repository and no download: the services start and
// the node is ready all the same. One that has Docker but not awscli (a
// Flocker node) fetches awscli alone, without Docker's repository; one
// whose Docker is another version gets the pinned one.
func TestBootOnAPreparedAMI(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		doc, err := RenderAgent(agentInput(driver))
		if err != nil {
			t.Fatal(err)
		}
		n := newNode(facts.RoleAgent, "agent-1", "", "", "", driver, agentInput(driver).FlockerFiles)
		every := append(slices.Clone(n.DockerPins), n.ArchivePins...)
		images := agentImages(t, doc)

		t.Run(driver+"/everything", func(t *testing.T) {
			t.Parallel()
			r := boot(t, doc, "10.42.1.21", "", func(root string) {
				prepareAMI(t, root, every, images)
				if driver == facts.VolumeDriverFlocker {
					listenPluginSocket(t, root)
				}
			})
			r.mustSucceed(t)
			for _, c := range [][]string{{"apt-get"}, {"curl", "-fsSL"}, {"docker", "pull"}} {
				if i := r.find(c...); i >= 0 {
					t.Errorf("%v called on an AMI that has everything; calls:\n%s", r.calls[i], r.callList())
				}
			}
			if r.find("apt-mark", "hold") < 0 {
				t.Errorf("the AMI's packages are not held; calls:\n%s", r.callList())
			}
			for _, image := range images {
				if !strings.Contains(r.out, "pull:"+image+" done ") || !strings.Contains(r.out, " present") {
					t.Errorf("the console does not say %s was present:\n%s", image, r.out)
				}
			}
			if !strings.Contains(r.out, "no apt step") {
				t.Errorf("the boot does not say it skipped apt:\n%s", r.out)
			}
		})

		t.Run(driver+"/docker-only", func(t *testing.T) {
			t.Parallel()
			r := boot(t, doc, "10.42.1.21", "", func(root string) {
				prepareAMI(t, root, n.DockerPins, nil)
				if driver == facts.VolumeDriverFlocker {
					listenPluginSocket(t, root)
				}
			})
			r.mustSucceed(t)
			install := r.find("apt-get", "-o", "DPkg::Lock::Timeout=300", "install")
			if len(n.ArchivePins) == 0 {
				if install >= 0 || r.find("apt-get") >= 0 {
					t.Errorf("apt called with every package present; calls:\n%s", r.callList())
				}
			} else if install < 0 || !slices.Equal(r.calls[install][len(r.calls[install])-len(n.ArchivePins):], n.ArchivePins) ||
				slices.ContainsFunc(r.calls[install], func(a string) bool { return strings.HasPrefix(a, "docker-ce") }) {
				t.Errorf("want an install of %v alone; calls:\n%s", n.ArchivePins, r.callList())
			}
			if r.find("curl", "-fsSL") >= 0 || r.find("gpg") >= 0 {
				t.Errorf("Docker's repository set up though Docker is installed; calls:\n%s", r.callList())
			}
			if r.find("docker", "pull") < 0 {
				t.Errorf("no image pulled on an AMI without images; calls:\n%s", r.callList())
			}
		})

		t.Run(driver+"/other-docker", func(t *testing.T) {
			t.Parallel()
			r := boot(t, doc, "10.42.1.21", "", func(root string) {
				prepareAMI(t, root, []string{"docker-ce=5:24.0.7-1~ubuntu.20.04~focal"}, nil)
				// ... and held there, as apt-mark hold leaves it.
				holdInAMI(t, root, "docker-ce", "5:24.0.7-1~ubuntu.20.04~focal")
				if driver == facts.VolumeDriverFlocker {
					listenPluginSocket(t, root)
				}
			})
			r.mustSucceed(t)
			install := r.find("apt-get", "-o", "DPkg::Lock::Timeout=300", "install")
			if install < 0 {
				t.Fatalf("Docker 24 not replaced by the pinned one; calls:\n%s", r.callList())
			}
			hasArgs(t, "apt-get install", r.calls[install], n.DockerPins...)
		})
	}
}

// prepareAMI makes the scratch root an AMI with the pins installed (dpkg's
// status file) and the images held by Docker (the fake daemon's state).
func prepareAMI(t *testing.T, root string, pins, images []string) {
	t.Helper()
	write := func(path, content string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(dpkgStatusPath, dpkgStatus(pins...))
	if images != nil {
		write("var/lib/fake-docker/state.json", fmt.Sprintf(`{"pulled": [%s]}`, quoteAll(images)))
	}
}

// holdInAMI marks a package of the AMI's dpkg status held.
func holdInAMI(t *testing.T, root, name, version string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(root, dpkgStatusPath), os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "Package: %s\nStatus: hold ok installed\nVersion: %s\n\n", name, version); err != nil {
		t.Fatal(err)
	}
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// agentImages are the images the agent's boot pulls (mha_pull_all's
// arguments without their services).
func agentImages(t *testing.T, doc []byte) []string {
	t.Helper()
	boot := parse(t, doc).file(t, bootScript)
	i := strings.Index(boot, "\nmha_pull_all ")
	if i < 0 {
		t.Fatalf("no mha_pull_all in the boot script:\n%s", boot)
	}
	line, _, _ := strings.Cut(boot[i+1:], "\n")
	var images []string
	for _, a := range strings.Fields(line)[1:] {
		image, _, _ := strings.Cut(strings.Trim(a, "'"), "=")
		images = append(images, image)
	}
	return images
}

// TestBootFromAPreparedImage: the image preparation (RenderImage) run on a
// stand-in of Canonical's AMI installs the pinned packages and pulls every
// image, starts nothing and configures nothing of a node, and leaves the
// marker power_state waits for. A master and an agent then booted from that
// image fetch no package and pull no image, and are ready.
func TestBootFromAPreparedImage(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			in := imageInput(driver)
			doc, err := RenderImage(in)
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			// The instance's own machine id, which must not reach the image.
			if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "etc/machine-id"), []byte("0123456789abcdef0123456789abcdef\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			cc := installInto(t, root, doc)
			out, err := runScript(t, root, cc.RunCmd[0][0], "", "")
			image := bootRun{root: root, out: out, err: err, calls: readCalls(t, root), doc: cc}
			image.mustSucceed(t)
			install := image.find("apt-get", "-o", "DPkg::Lock::Timeout=300", "install")
			if install < 0 {
				t.Fatalf("no apt-get install; calls:\n%s", image.callList())
			}
			n := newNode("image", "image", "", "", "", driver, nil)
			pins := append(slices.Clone(n.DockerPins), n.ArchivePins...)
			if driver == facts.VolumeDriverFlocker {
				pins = append(pins, facts.AWSCLIPackage+"="+facts.AWSCLIPackageVersion)
			}
			hasArgs(t, "apt-get install", image.calls[install], pins...)
			for _, im := range in.Images {
				if image.find("docker", "pull", im) < 0 {
					t.Errorf("%s not pulled into the image; calls:\n%s", im, image.callList())
				}
			}
			for _, c := range [][]string{{"systemctl", "enable", "--now"}, {"docker", "run"}, {"docker", "plugin"}, {"curl", "-fsS"}, {"aws"}} {
				if i := image.find(c...); i >= 0 {
					t.Errorf("the image preparation ran %v: nothing of a node belongs in the image", image.calls[i])
				}
			}
			if _, err := os.Stat(filepath.Join(root, imageDoneFile)); err != nil {
				t.Errorf("no marker for power_state: %v", err)
			}
			if st, err := os.Stat(filepath.Join(root, "etc/machine-id")); err != nil || st.Size() != 0 {
				t.Errorf("/etc/machine-id is not left empty for the next boot to fill: %v", err)
			}
			if !strings.Contains(out, "image for the "+driver+" driver prepared") {
				t.Errorf("output lacks the prepared line:\n%s", out)
			}

			// A new instance: /run is empty again, the calls are the boot's.
			if err := os.RemoveAll(filepath.Join(root, "run")); err != nil {
				t.Fatal(err)
			}
			for _, node := range []struct {
				name, ip string
				render   func() ([]byte, error)
			}{
				{"master", testMasterIP, func() ([]byte, error) { return RenderMaster(masterInput(driver)) }},
				{"agent", "10.42.1.21", func() ([]byte, error) { return RenderAgent(agentInput(driver)) }},
			} {
				doc, err := node.render()
				if err != nil {
					t.Fatal(err)
				}
				nodeRoot := t.TempDir()
				if err := os.CopyFS(nodeRoot, os.DirFS(root)); err != nil {
					t.Fatal(err)
				}
				if err := os.Remove(filepath.Join(nodeRoot, "calls.log")); err != nil {
					t.Fatal(err)
				}
				cc := installInto(t, nodeRoot, doc)
				if driver == facts.VolumeDriverFlocker && node.name == "agent" {
					listenPluginSocket(t, nodeRoot)
				}
				out, err := runScript(t, nodeRoot, cc.RunCmd[0][0], node.ip, "")
				r := bootRun{root: nodeRoot, out: out, err: err, calls: readCalls(t, nodeRoot), doc: cc, fakeIP: node.ip}
				r.mustSucceed(t)
				for _, c := range [][]string{{"apt-get"}, {"docker", "pull"}, {"curl", "-fsSL"}} {
					if i := r.find(c...); i >= 0 {
						t.Errorf("%s booted from the image ran %v; calls:\n%s", node.name, r.calls[i], r.callList())
					}
				}
				if !strings.Contains(out, "READY") {
					t.Errorf("%s not ready:\n%s", node.name, out)
				}
			}
		})
	}
}

// TestBootStartsEachServiceAfterItsOwnPull: while ZooKeeper's image, the
// first in the list, is still downloading, the Mesos master and Marathon,
// whose images are in, are already started (pulls one after the other, or
// services started after every pull, would start neither); ZooKeeper
// starts once its own pull ends.
func TestBootStartsEachServiceAfterItsOwnPull(t *testing.T) {
	doc, err := RenderMaster(masterInput(facts.VolumeDriverRexRay))
	if err != nil {
		t.Fatal(err)
	}
	root, cc := installNode(t, doc)
	gate := filepath.Join(root, "..", filepath.Base(root)+"-zookeeper-pulled")
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		out, err := runScript(t, root, cc.RunCmd[0][0], testMasterIP, "", "FAKE_PULL_BLOCK="+facts.ZooKeeperImage+"="+gate)
		done <- result{out, err}
	}()
	// Whatever happens, the held pull is let go and the boot ends before
	// its scratch root is removed.
	t.Cleanup(func() {
		_ = os.WriteFile(gate, nil, 0o644)
		wg.Wait()
	})
	started := func(name string) bool {
		return slices.ContainsFunc(readCalls(t, root), func(c []string) bool {
			return len(c) > 4 && c[0] == "docker" && c[1] == "run" && c[4] == name
		})
	}
	deadline := time.Now().Add(30 * time.Second)
	for !(started("mesos-master") && started("marathon")) {
		if time.Now().After(deadline) {
			t.Fatalf("the Mesos master and Marathon did not start while ZooKeeper's image was downloading; calls:\n%s", bootRun{calls: readCalls(t, root)}.callList())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if started("zookeeper") {
		t.Error("ZooKeeper started before its image was pulled")
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("boot: %v\n%s", r.err, r.out)
	}
	if !started("zookeeper") {
		t.Error("ZooKeeper did not start after its pull")
	}
}

// TestWaitReadySaysWhatItWaitsFor: a long wait-ready says, once a minute
// of checks, what is not ready yet, so its console changes well inside
// deploy-app's stall warning and tells why the node is not ready.
func TestWaitReadySaysWhatItWaitsFor(t *testing.T) {
	if readyLogEvery >= facts.BootStallWarning || readyLogEvery%readyDelay != 0 {
		t.Fatalf("wait-ready logs every %s (checks every %s): want a whole number of checks, under the stall warning %s", readyLogEvery, readyDelay, facts.BootStallWarning)
	}
	doc, err := RenderMaster(masterInput(facts.VolumeDriverRexRay))
	if err != nil {
		t.Fatal(err)
	}
	every := int(readyLogEvery / readyDelay)
	root, cc := installNode(t, doc)
	out, err := runScript(t, root, cc.RunCmd[0][0], testMasterIP, "curl -sS --max-time 5", fmt.Sprintf("MHA_READY_ATTEMPTS=%d", every+1))
	if err == nil {
		t.Fatalf("boot succeeded with services that never answer:\n%s", out)
	}
	want := fmt.Sprintf("marathon-ha: not ready after %d checks: ", every)
	if strings.Count(out, want) != 1 || !strings.Contains(out, "not ready: Mesos has a leader (/redirect on 5050)") {
		t.Errorf("output should say once %q with what is not ready:\n%s", want, out)
	}
	console, _ := os.ReadFile(filepath.Join(root, "dev/console"))
	if !strings.Contains(string(console), want) {
		t.Errorf("the console does not say what wait-ready waits for:\n%s", console)
	}
}
