package userdata

import (
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

func TestRenderMasterRejects(t *testing.T) {
	tests := []struct {
		name   string
		driver string
		edit   func(*MasterInput)
		want   string // the error names the field, and the fix where there is one
	}{
		{"no cluster id", facts.VolumeDriverRexRay, func(in *MasterInput) { in.ClusterID = "" }, "ClusterID"},
		{"cluster id with a quote", facts.VolumeDriverRexRay, func(in *MasterInput) { in.ClusterID = "mha'x" }, "ClusterID"},
		{"region typo", facts.VolumeDriverRexRay, func(in *MasterInput) { in.Region = "us-east1" }, "Region"},
		{"zone of another region", facts.VolumeDriverRexRay, func(in *MasterInput) { in.Zone = "eu-west-1a" }, "Zone"},
		{"zone without letter", facts.VolumeDriverRexRay, func(in *MasterInput) { in.Zone = "us-east-1" }, "Zone"},
		{"unknown volume driver", facts.VolumeDriverRexRay, func(in *MasterInput) { in.VolumeDriver = "portworx" }, "VolumeDriver \"portworx\": want one of flocker, rexray"},
		{"zero ping timeout", facts.VolumeDriverRexRay, func(in *MasterInput) { in.AgentPingTimeout = 0 }, "AgentPingTimeout"},
		{"sub-millisecond ping timeout", facts.VolumeDriverRexRay, func(in *MasterInput) { in.AgentPingTimeout = 1500 * time.Microsecond }, "AgentPingTimeout"},
		{"zero ping misses", facts.VolumeDriverRexRay, func(in *MasterInput) { in.MaxAgentPingTimeouts = 0 }, "MaxAgentPingTimeouts"},
		{"detection within the ZooKeeper session (the demo's 5 s x 2)", facts.VolumeDriverRexRay, func(in *MasterInput) {
			in.AgentPingTimeout, in.MaxAgentPingTimeouts = 5*time.Second, 2
		}, "= 10s: Mesos wants more than the ZooKeeper session timeout of 10s"},
		{"no zookeeper image", facts.VolumeDriverRexRay, func(in *MasterInput) { in.Images.ZooKeeper = "" }, "Images.ZooKeeper"},
		{"unpinned image", facts.VolumeDriverRexRay, func(in *MasterInput) { in.Images.Marathon = "mesosphere/marathon" }, "Images.Marathon \"mesosphere/marathon\": pin a tag"},
		{"latest image", facts.VolumeDriverRexRay, func(in *MasterInput) { in.Images.MesosMaster = "mesosphere/mesos-master:latest" }, "Images.MesosMaster"},
		{"image with shell", facts.VolumeDriverRexRay, func(in *MasterInput) { in.Images.ZooKeeper = "zookeeper:3.4;reboot" }, "Images.ZooKeeper"},
		{"flocker without control image", facts.VolumeDriverFlocker, func(in *MasterInput) { in.Images.FlockerControl = "" }, "Images.FlockerControl"},
		{"flocker files for rexray", facts.VolumeDriverRexRay, func(in *MasterInput) { in.FlockerFiles = secretFiles("master", "cluster.crt") }, "set them only for \"flocker\""},
		{"flocker key missing", facts.VolumeDriverFlocker, func(in *MasterInput) { in.FlockerFiles = in.FlockerFiles[:2] }, "missing /etc/flocker/control-service.key"},
		{"parameter not absolute", facts.VolumeDriverFlocker, func(in *MasterInput) { in.FlockerFiles[0].Parameter = "marathon-ha/cluster.crt" }, "FlockerFiles[0].Parameter"},
		{"parameter with space", facts.VolumeDriverFlocker, func(in *MasterInput) { in.FlockerFiles[0].Parameter = "/marathon-ha/a b" }, "FlockerFiles[0].Parameter"},
		{"path outside /etc/flocker", facts.VolumeDriverFlocker, func(in *MasterInput) { in.FlockerFiles[1].Path = "/etc/ssl/control-service.crt" }, "FlockerFiles[1].Path"},
		{"relative path", facts.VolumeDriverFlocker, func(in *MasterInput) { in.FlockerFiles[1].Path = "control-service.crt" }, "FlockerFiles[1].Path"},
		{"path escaping", facts.VolumeDriverFlocker, func(in *MasterInput) { in.FlockerFiles[1].Path = "/etc/flocker/../passwd" }, "FlockerFiles[1].Path"},
		{"duplicate path", facts.VolumeDriverFlocker, func(in *MasterInput) { in.FlockerFiles[1].Path = in.FlockerFiles[0].Path }, "listed twice"},
		{"mode not octal", facts.VolumeDriverFlocker, func(in *MasterInput) { in.FlockerFiles[0].Mode = "0699" }, "FlockerFiles[0].Mode \"0699\": want an octal file mode"},
		{"mode symbolic", facts.VolumeDriverFlocker, func(in *MasterInput) { in.FlockerFiles[0].Mode = "rw-------" }, "FlockerFiles[0].Mode"},
		{"world-readable key", facts.VolumeDriverFlocker, func(in *MasterInput) { in.FlockerFiles[2].Mode = "0644" }, "private key /etc/flocker/control-service.key"},
		{"no masters", facts.VolumeDriverRexRay, func(in *MasterInput) { in.Masters = nil }, "invalid Masters []"},
		{"four masters", facts.VolumeDriverRexRay, func(in *MasterInput) { in.Masters = append(testMasterIPs[:3:3], "10.0.1.13") }, "not 4"},
		{"index zero", facts.VolumeDriverRexRay, func(in *MasterInput) { in.Index = 0 }, "Index 0: masters are numbered from 1 to len(Masters) = 1"},
		{"index past the masters", facts.VolumeDriverRexRay, func(in *MasterInput) { in.Index, in.Masters = 4, testMasterIPs[:3] }, "Index 4"},
		{"master ip v6", facts.VolumeDriverRexRay, func(in *MasterInput) { in.Masters = []string{"fd00::1"} }, "Masters[0]"},
		{"flocker files on a master without the control service", facts.VolumeDriverFlocker, func(in *MasterInput) {
			in.Index, in.Masters = 2, testMasterIPs[:3]
		}, "3 files given to master 2, which does not run the Flocker control service (master 1 does)"},
		{"flocker control master without its image", facts.VolumeDriverFlocker, func(in *MasterInput) {
			in.Masters, in.Images.FlockerControl = testMasterIPs[:3], ""
		}, "Images.FlockerControl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := masterInput(tt.driver)
			tt.edit(&in)
			out, err := RenderMaster(in)
			if err == nil {
				t.Fatalf("rendered %d bytes, want an error naming %q", len(out), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "rendering master user data: ") {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRenderAgentRejects(t *testing.T) {
	tests := []struct {
		name   string
		driver string
		edit   func(*AgentInput)
		want   string
	}{
		{"negative index", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Index = -1 }, "Index -1"},
		{"flocker agent without a number: its certificate is its own", facts.VolumeDriverFlocker, func(in *AgentInput) { in.Index = 0 }, "Index 0 with volume driver flocker"},
		{"no master", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Masters = nil }, "Masters []: want [1 3 5] addresses"},
		{"two masters", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Masters = testMasterIPs[:2] }, "not 2"},
		{"master ip missing", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Masters = []string{""} }, "Masters[0] \"\""},
		{"master ip does not parse", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Masters = []string{"10.0.1"} }, "Masters[0] \"10.0.1\""},
		{"master ip is a name", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Masters = []string{"master.local"} }, "Masters[0]"},
		{"master ip loopback", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Masters = []string{"127.0.0.1"} }, "Masters[0]"},
		{"master ip v6", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Masters = []string{"fd00::1"} }, "Masters[0]"},
		{"master ip not canonical", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Masters = []string{"10.0.1.010"} }, "Masters[0]"},
		{"third master bad", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Masters = []string{testMasterIP, "10.0.1.11", "10.0.1.x"} }, "Masters[2] \"10.0.1.x\""},
		{"master twice", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Masters = []string{testMasterIP, "10.0.1.11", testMasterIP} }, "Masters[2] \"10.0.1.10\": listed twice"},
		{"port range inverted", facts.VolumeDriverRexRay, func(in *AgentInput) { in.PortRangeStart, in.PortRangeEnd = 9000, 7000 }, "PortRangeStart-PortRangeEnd 9000-7000"},
		{"port range too high", facts.VolumeDriverRexRay, func(in *AgentInput) { in.PortRangeEnd = 70000 }, "PortRangeStart-PortRangeEnd"},
		{"port range zero", facts.VolumeDriverRexRay, func(in *AgentInput) { in.PortRangeStart = 0 }, "PortRangeStart-PortRangeEnd"},
		{"port range over the agent port", facts.VolumeDriverRexRay, func(in *AgentInput) { in.PortRangeStart = 5000 }, "contains port 5051"},
		{"app port outside range", facts.VolumeDriverRexRay, func(in *AgentInput) { in.AppPort = 31000 }, "AppPort 31000"},
		{"no app port: nothing for the self-fence to block", facts.VolumeDriverRexRay, func(in *AgentInput) { in.AppPort = 0 }, "AppPort 0"},
		{"no self-fence time", facts.VolumeDriverRexRay, func(in *AgentInput) { in.SelfFenceAfter = 0 }, "SelfFenceAfter 0s: want at least 1s"},
		{"self-fence under a second", facts.VolumeDriverRexRay, func(in *AgentInput) { in.SelfFenceAfter = 999 * time.Millisecond }, "SelfFenceAfter 999ms"},
		{"no app image", facts.VolumeDriverRexRay, func(in *AgentInput) { in.AppImage = "" }, "AppImage"},
		{"no agent image", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Images.MesosAgent = "" }, "Images.MesosAgent"},
		{"rexray without plugin", facts.VolumeDriverRexRay, func(in *AgentInput) { in.Images.RexRayPlugin = "" }, "Images.RexRayPlugin"},
		{"flocker without dataset agent", facts.VolumeDriverFlocker, func(in *AgentInput) { in.Images.FlockerDatasetAgent = "" }, "Images.FlockerDatasetAgent"},
		{"flocker without plugin", facts.VolumeDriverFlocker, func(in *AgentInput) { in.Images.FlockerDockerPlugin = "x:latest" }, "Images.FlockerDockerPlugin"},
		{"flocker without node key", facts.VolumeDriverFlocker, func(in *AgentInput) { in.FlockerFiles = in.FlockerFiles[:2] }, "missing /etc/flocker/node.key, /etc/flocker/plugin.crt, /etc/flocker/plugin.key"},
		{"flocker with master files", facts.VolumeDriverFlocker, func(in *AgentInput) {
			in.FlockerFiles = secretFiles("agent-1", masterFlockerFiles...)
		}, "missing /etc/flocker/node.crt"},
		{"unknown driver", facts.VolumeDriverRexRay, func(in *AgentInput) { in.VolumeDriver = "" }, "VolumeDriver \"\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := agentInput(tt.driver)
			tt.edit(&in)
			out, err := RenderAgent(in)
			if err == nil {
				t.Fatalf("rendered %d bytes, want an error naming %q", len(out), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "rendering agent user data: ") {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestRenderAccepts covers inputs that look odd but are right.
func TestRenderAccepts(t *testing.T) {
	master := masterInput(facts.VolumeDriverRexRay)
	master.Region, master.Zone = "us-gov-west-1", "us-gov-west-1b"
	master.Images.Marathon = "registry.example.com:5000/mesosphere/marathon@sha256:" + strings.Repeat("ab", 32)
	master.AgentPingTimeout = 2500 * time.Millisecond
	master.MaxAgentPingTimeouts = 5   // 12.5 s, over the 10 s ZooKeeper session
	master.Images.FlockerControl = "" // unused with rexray
	out, err := RenderMaster(master)
	if err != nil {
		t.Fatalf("RenderMaster: %v", err)
	}
	if !strings.Contains(string(out), "--agent_ping_timeout=2500ms") {
		t.Error("a 2.5 s ping timeout is not passed as 2500ms")
	}
	agent := agentInput(facts.VolumeDriverRexRay)
	agent.Index = 10
	agent.Images.FlockerDatasetAgent = "" // unused with rexray
	out, err = RenderAgent(agent)
	if err != nil {
		t.Fatalf("RenderAgent: %v", err)
	}
	if !strings.Contains(string(out), "agent-10 of "+testClusterID) {
		t.Error("agent 10 is not named agent-10")
	}
}

func TestMesosDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Second:         "5secs",
		15 * time.Second:        "15secs",
		5 * time.Minute:         "5mins",
		90 * time.Second:        "90secs",
		1500 * time.Millisecond: "1500ms",
	} {
		if got := mesosDuration(d); got != want {
			t.Errorf("mesosDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain":       "'plain'",
		"it's":        `'it'\''s'`,
		"$HOME `x`":   "'$HOME `x`'",
		"":            "''",
		"a\nb":        "'a\nb'",
		"ports:[1-2]": "'ports:[1-2]'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// An agent of the REX-Ray Auto Scaling group (Index 0) renders one user
// data for every agent: named "agent", with no number and no address of
// its own.
func TestRenderGroupAgent(t *testing.T) {
	in := agentInput(facts.VolumeDriverRexRay)
	in.Index = 0
	out, err := RenderAgent(in)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(out)
	if !strings.Contains(doc, "MHA_NODE='agent'\n") || strings.Contains(doc, "agent-0") || strings.Contains(doc, "agent-1") {
		t.Errorf("the group's user data should name its node \"agent\", never a number:\n%s", doc)
	}
}
