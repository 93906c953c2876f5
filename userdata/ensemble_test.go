package userdata

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// ensembleContract is what every node of a cluster of n masters must be
// started with, written out by hand (not computed the way the renderer
// computes it) so a reader can check it against the sources in a minute:
// ZooKeeper's server lines (zookeeperAdmin.md, "server.x=[hostname]:nnnnn[:nnnnn]";
// 31z4/zookeeper-docker 3.4.14 docker-entrypoint.sh writes each word of
// ZOO_SERVERS as one), Mesos's --zk and --quorum (apache/mesos 1.4.1
// docs/high-availability.md; docs/configuration.md --quorum: a majority)
// and the agents' --master.
var ensembleContract = map[int]struct {
	servers          []string // zoo.cfg's server lines, in order
	mesosZK, quorum  string
	marathonZK       string
	agentMaster      string
	flockerControlIP string // agent.yml's control-service hostname
}{
	3: {
		servers:          []string{"server.1=10.0.1.10:2888:3888", "server.2=10.0.1.11:2888:3888", "server.3=10.0.1.12:2888:3888"},
		mesosZK:          "zk://10.0.1.10:2181,10.0.1.11:2181,10.0.1.12:2181/mesos",
		quorum:           "2",
		marathonZK:       "zk://10.0.1.10:2181,10.0.1.11:2181,10.0.1.12:2181/marathon",
		agentMaster:      "zk://10.0.1.10:2181,10.0.1.11:2181,10.0.1.12:2181/mesos",
		flockerControlIP: "10.0.1.10",
	},
	5: {
		servers: []string{"server.1=10.0.1.10:2888:3888", "server.2=10.0.1.11:2888:3888", "server.3=10.0.1.12:2888:3888",
			"server.4=10.0.1.13:2888:3888", "server.5=10.0.1.14:2888:3888"},
		mesosZK:          "zk://10.0.1.10:2181,10.0.1.11:2181,10.0.1.12:2181,10.0.1.13:2181,10.0.1.14:2181/mesos",
		quorum:           "3",
		marathonZK:       "zk://10.0.1.10:2181,10.0.1.11:2181,10.0.1.12:2181,10.0.1.13:2181,10.0.1.14:2181/marathon",
		agentMaster:      "zk://10.0.1.10:2181,10.0.1.11:2181,10.0.1.12:2181,10.0.1.13:2181,10.0.1.14:2181/mesos",
		flockerControlIP: "10.0.1.10",
	},
}

// TestBootEnsemble boots every master of a cluster of 3 and of 5 together
// against the fakes (their ZooKeepers, Mesos masters and Marathons find one
// another in the fake cluster: each is ready only once the ensemble has
// formed) and checks what each service is started with against
// ensembleContract; the fake docker runs ZooKeeper's entrypoint, so zoo.cfg
// and myid are read back as ZooKeeper would read them.
func TestBootEnsemble(t *testing.T) {
	for n, want := range ensembleContract {
		for _, driver := range facts.VolumeDrivers {
			t.Run(strconv.Itoa(n)+"-masters/"+driver, func(t *testing.T) {
				t.Parallel()
				inputs := make([]MasterInput, n)
				for i := range inputs {
					inputs[i] = haMasterInput(driver, n, i+1)
				}
				runs := bootMasters(t, t.TempDir(), inputs)
				for index := 1; index <= n; index++ {
					t.Run("master-"+strconv.Itoa(index), func(t *testing.T) {
						in, r, ip := inputs[index-1], runs[index-1], testMasterIPs[index-1]
						r.mustSucceed(t)
						r.checkCommon(t, in.FlockerFiles, in.Region)
						checkEnsembleMaster(t, r, want.servers, want.mesosZK, want.quorum, want.marathonZK, ip, index)
						flocker := r.find("docker", "run", "--rm", "--name", "flocker-control")
						if runs := driver == facts.VolumeDriverFlocker && index == 1; runs != (flocker >= 0) {
							t.Errorf("master %d of %d with %s runs the Flocker control service: %v, want %v", index, n, driver, flocker >= 0, runs)
						}
						if !strings.Contains(r.out, "master-"+strconv.Itoa(index)+" of "+testClusterID+" READY") {
							t.Errorf("boot output does not name master-%d:\n%s", index, r.out)
						}
					})
				}
			})
		}
	}
}

// checkEnsembleMaster checks what one master of an ensemble started its
// services with.
func checkEnsembleMaster(t *testing.T, r bootRun, servers []string, mesosZK, quorum, marathonZK, ip string, index int) {
	t.Helper()
	hasArgs(t, "zookeeper", r.dockerRun(t, "zookeeper"), "ZOO_MY_ID="+strconv.Itoa(index),
		"ZOO_SERVERS="+strings.Join(servers, " "))
	cfg, err := os.ReadFile(zooKeeperConfigPath(r.root, "zookeeper"))
	if err != nil {
		t.Fatalf("the entrypoint wrote no zoo.cfg: %v", err)
	}
	var got []string
	for _, l := range strings.Split(string(cfg), "\n") {
		if strings.HasPrefix(l, "server.") {
			got = append(got, l)
		}
	}
	if !slices.Equal(got, servers) {
		t.Errorf("zoo.cfg server lines\n %q\nwant %q", got, servers)
	}
	zk := facts.ZooKeeper // the ensemble's detection settings (docs/masters.md)
	for _, l := range []string{"clientPort=2181", "tickTime=" + zk.TickTimeMillis(), "initLimit=" + strconv.Itoa(zk.InitLimit),
		"syncLimit=" + strconv.Itoa(zk.SyncLimit), "dataDir=/data"} {
		if !strings.Contains(string(cfg), l+"\n") {
			t.Errorf("zoo.cfg lacks %s:\n%s", l, cfg)
		}
	}
	myid, err := os.ReadFile(filepath.Join(r.root, "var/lib/zookeeper/data/myid"))
	if err != nil || strings.TrimSpace(string(myid)) != strconv.Itoa(index) {
		t.Errorf("myid on the host's data volume = %q, %v; want %d", myid, err, index)
	}
	hasArgs(t, "mesos-master", r.dockerRun(t, "mesos-master"),
		"--zk="+mesosZK, "--quorum="+quorum, "--ip="+ip, "--hostname="+ip, "--zk_session_timeout="+zk.MesosSessionFlag())
	hasArgs(t, "marathon", r.dockerRun(t, "marathon"), "--master="+mesosZK, "--zk="+marathonZK,
		"--hostname="+ip, "--http_port=8080", "LIBPROCESS_IP="+ip, "LIBPROCESS_PORT="+strconv.Itoa(facts.MarathonLibprocessPort),
		"--zk_session_timeout="+zk.MarathonSessionMillis())
}

// TestBootAgentFindsEveryMaster: an agent of a cluster of 3 or 5 masters
// looks for the leading Mesos master in all their ZooKeepers, and Flocker's
// agents use the control service on the first master.
func TestBootAgentFindsEveryMaster(t *testing.T) {
	for n, want := range ensembleContract {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			in := haAgentInput(facts.VolumeDriverFlocker, n)
			doc, err := RenderAgent(in)
			if err != nil {
				t.Fatal(err)
			}
			r := boot(t, doc, "10.0.1.21", "", func(root string) { listenPluginSocket(t, root) })
			r.mustSucceed(t)
			hasArgs(t, "mesos-agent", r.dockerRun(t, "mesos-agent"), "--master="+want.agentMaster)
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
			if err := yaml.Unmarshal(raw, &cfg); err != nil || cfg.ControlService.Hostname != want.flockerControlIP || cfg.ControlService.Port != facts.FlockerControlAgentPort {
				t.Errorf("agent.yml control-service = %+v (%v), want %s:%d", cfg.ControlService, err, want.flockerControlIP, facts.FlockerControlAgentPort)
			}
		})
	}
}

// TestOneMasterIsStandalone: a cluster of one master runs ZooKeeper
// standalone (no ZOO_SERVERS: a single server line is ignored by ZooKeeper
// anyway) and Mesos with quorum 1, at the node's own address.
func TestOneMasterIsStandalone(t *testing.T) {
	doc, err := RenderMaster(masterInput(facts.VolumeDriverRexRay))
	if err != nil {
		t.Fatal(err)
	}
	r := boot(t, doc, testMasterIP, "", nil)
	r.mustSucceed(t)
	zk := r.dockerRun(t, "zookeeper")
	if slices.ContainsFunc(zk, func(a string) bool { return strings.HasPrefix(a, "ZOO_SERVERS=") }) {
		t.Errorf("one master sets ZOO_SERVERS: %v", zk)
	}
	cfg, err := os.ReadFile(zooKeeperConfigPath(r.root, "zookeeper"))
	if err != nil || strings.Contains(string(cfg), "server.") {
		t.Errorf("zoo.cfg of one master: %v\n%s", err, cfg)
	}
	hasArgs(t, "mesos-master", r.dockerRun(t, "mesos-master"), "--zk=zk://"+testMasterIP+":2181/mesos", "--quorum=1")
	// Standalone is one master's ZooKeeper's right mode: the check the
	// boot left in the ready marker accepted it.
	if ready, err := os.ReadFile(filepath.Join(r.root, facts.ReadyMarkerPath)); err != nil || !strings.Contains(string(ready), "ok: ZooKeeper serves as standalone") {
		t.Errorf("one master's ready marker: %v\n%s", err, ready)
	}
	if m := r.dockerRun(t, "marathon"); slices.ContainsFunc(m, func(a string) bool { return strings.HasPrefix(a, "LIBPROCESS_") }) {
		t.Errorf("one master's Marathon pins libprocess, which only a cluster of several needs: %v", m)
	}
}

// TestFakeDockerRefusesBrokenEnsembles: what ZooKeeper, Mesos and Marathon
// refuse (or silently ignore) about an ensemble, the fake refuses.
func TestFakeDockerRefusesBrokenEnsembles(t *testing.T) {
	zk := func(env ...string) []string {
		args := []string{"run", "--rm", "--name", "zookeeper", "--net=host"}
		for _, e := range env {
			args = append(args, "-e", e)
		}
		return append(args, "-v", "/var/lib/zookeeper/data:/data", facts.ZooKeeperImage)
	}
	three := "ZOO_SERVERS=server.1=10.0.1.10:2888:3888 server.2=10.0.1.11:2888:3888 server.3=10.0.1.12:2888:3888"
	mesos := func(flags ...string) []string {
		return append([]string{"run", "--rm", "--name", "mesos-master", "--net=host", facts.MesosMasterImage}, flags...)
	}
	marathon := func(flags ...string) []string {
		return append([]string{"run", "--rm", "--name", "marathon", "--net=host", facts.MarathonImage}, flags...)
	}
	tests := []struct {
		name string
		args []string
		want string // "" means accepted
	}{
		{"an ensemble of three", zk("ZOO_MY_ID=2", three), ""},
		{"standalone", zk("ZOO_MY_ID=1"), ""},
		{"one server line", zk("ZOO_MY_ID=1", "ZOO_SERVERS=server.1=10.0.1.10:2888:3888"), "only one server specified (ignoring)"},
		{"myid not in the list", zk("ZOO_MY_ID=4", three), "My id 4 not in the peer list"},
		{"ZOO_MY_ID unset: the entrypoint writes myid 1", zk(three), ""},
		{"no election port", zk("ZOO_MY_ID=1", "ZOO_SERVERS=server.1=10.0.1.10:2888 server.2=10.0.1.11:2888"), "want host:peerPort:electionPort"},
		{"servers separated by commas", zk("ZOO_MY_ID=1", "ZOO_SERVERS=server.1=10.0.1.10:2888:3888,server.2=10.0.1.11:2888:3888"), "want host:peerPort:electionPort"},
		{"a variable the entrypoint does not read", zk("ZOO_MY_ID=1", "ZOO_SERVER_ID=1"), "does not read ZOO_SERVER_ID"},
		{"Mesos ensemble", mesos("--zk=zk://10.0.1.10:2181,10.0.1.11:2181,10.0.1.12:2181/mesos", "--quorum=2"), ""},
		{"Mesos without a quorum", mesos("--zk=zk://10.0.1.10:2181,10.0.1.11:2181/mesos"), "Need to specify --quorum"},
		{"Mesos with a bare host list", mesos("--zk=10.0.1.10:2181/mesos", "--quorum=2"), "Expecting 'zk://'"},
		{"Marathon ensemble", marathon("--master=zk://10.0.1.10:2181,10.0.1.11:2181/mesos", "--zk=zk://10.0.1.10:2181,10.0.1.11:2181/marathon"), ""},
		{"Marathon with spaces in --zk", marathon("--master=zk://a:2181/mesos", "--zk=zk://10.0.1.10:2181, 10.0.1.11:2181/marathon"), "Validation failure for 'zk'"},
		{"Marathon --zk without a path", marathon("--master=zk://a:2181/mesos", "--zk=zk://10.0.1.10:2181"), "Validation failure for 'zk'"},
		{"Marathon without --master", marathon("--zk=zk://10.0.1.10:2181/marathon"), "Required option 'master'"},
		{"Marathon with libprocess pinned", append(marathon("--master=zk://a:2181/mesos")[:5:5],
			"-e", "LIBPROCESS_IP=10.0.1.10", "-e", "LIBPROCESS_PORT=9090", facts.MarathonImage, "--master=zk://a:2181/mesos"), ""},
		{"Marathon with a libprocess variable libmesos does not read", append(marathon()[:5:5],
			"-e", "LIBPROCESS_ADDRESS=10.0.1.10", facts.MarathonImage, "--master=zk://a:2181/mesos"), "does not read LIBPROCESS_ADDRESS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := newFakeNode(t, docker26, false)
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

// TestEveryMasterCountFitsEC2Limit renders every node of every cluster the
// config allows (each count of facts.MasterCounts, each master, an agent,
// both volume drivers) and encodes it for EC2: the largest, five masters'
// addresses in every ZooKeeper URL and the first master's Flocker control
// service, must stay within the gzipped 16 KiB (EncodeForEC2).
func TestEveryMasterCountFitsEC2Limit(t *testing.T) {
	largest, largestName := 0, ""
	for _, n := range facts.MasterCounts {
		for _, driver := range facts.VolumeDrivers {
			docs := map[string]func() ([]byte, error){
				"agent": func() ([]byte, error) { return RenderAgent(haAgentInput(driver, n)) },
			}
			for i := 1; i <= n; i++ {
				docs["master-"+strconv.Itoa(i)] = func() ([]byte, error) { return RenderMaster(haMasterInput(driver, n, i)) }
			}
			for name, render := range docs {
				name = strconv.Itoa(n) + "-masters/" + driver + "/" + name
				doc, err := render()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if _, err := EncodeForEC2(doc); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				if size := gzipSize(t, doc); size > largest {
					largest, largestName = size, name
				}
			}
		}
	}
	t.Logf("largest: %s, %d bytes gzipped (%.0f%% of %d)", largestName, largest, 100*float64(largest)/MaxSize, MaxSize)
	if !strings.HasPrefix(largestName, "5-masters/flocker/") {
		t.Errorf("the largest user data is %s; this test assumes five masters with Flocker", largestName)
	}
}

func gzipSize(t *testing.T, doc []byte) int {
	t.Helper()
	enc, err := EncodeForEC2(doc)
	if err != nil {
		return MaxSize + 1
	}
	return base64.StdEncoding.DecodedLen(len(enc)) - strings.Count(enc, "=")
}
