package stackoutputs_test

import (
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// What `pulumi stack output --json --show-secrets` prints for a stack.
const stackOutputJSON = `{
  "appId": "/marathon-ha/moby-counter",
  "appUrl": "http://mha-1a2b3c4d-elb-123.us-east-1.elb.amazonaws.com",
  "agentInstanceIds": ["i-0aaa", "i-0bbb"],
  "agentPrivateIps": ["10.42.1.101", "10.42.1.102"],
  "clusterId": "mha-1a2b3c4d",
  "failoverSettings": {"agentPingTimeoutSeconds": 5, "maxAgentPingTimeouts": 2, "elbIntervalSeconds": 5,
    "elbTimeoutSeconds": 2, "elbHealthyThreshold": 2, "elbUnhealthyThreshold": 2},
  "marathonUrl": "http://198.51.100.7:8080",
  "region": "us-east-1",
  "stack": "dev",
  "sshAgents": ["ssh ubuntu@198.51.100.8"]
}`

func TestDecode(t *testing.T) {
	o, err := stackoutputs.Decode(strings.NewReader(stackOutputJSON))
	if err != nil {
		t.Fatal(err)
	}
	if o.ClusterID != "mha-1a2b3c4d" || o.Stack != "dev" || o.MarathonURL != "http://198.51.100.7:8080" ||
		len(o.AgentPrivateIPs) != 2 || o.AgentPrivateIPs[1] != "10.42.1.102" || len(o.SSHAgents) != 1 {
		t.Errorf("decoded %+v", o)
	}
	if o.Failover.AgentPingTimeout().Seconds() != 5 || o.Failover.ELBInterval().Seconds() != 5 || o.Failover.ELBHealthyThreshold != 2 {
		t.Errorf("failover settings %+v", o.Failover)
	}
}

func TestFromMapNamesMissingOutputs(t *testing.T) {
	_, err := stackoutputs.FromMap(map[string]any{stackoutputs.AppURL: "http://elb", stackoutputs.Region: "us-east-1"})
	if err == nil {
		t.Fatal("outputs without marathonUrl, clusterId, ... accepted")
	}
	for _, want := range []string{stackoutputs.MarathonURL, stackoutputs.ClusterID, stackoutputs.Stack, stackoutputs.Failover, "pulumi up"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if _, err := stackoutputs.Decode(strings.NewReader("error: no stack selected")); err == nil {
		t.Error("non-JSON accepted")
	}
}

func TestFailoverSettingsMapRoundTrip(t *testing.T) {
	want := stackoutputs.FailoverSettings{AgentPingTimeoutSeconds: 3, MaxAgentPingTimeouts: 4, ELBIntervalSeconds: 6,
		ELBTimeoutSeconds: 2, ELBHealthyThreshold: 3, ELBUnhealthyThreshold: 5}
	m := map[string]any{stackoutputs.MarathonURL: "u", stackoutputs.AppURL: "u", stackoutputs.Region: "r",
		stackoutputs.ClusterID: "c", stackoutputs.Stack: "s", stackoutputs.AppID: "a", stackoutputs.Failover: want.Map()}
	o, err := stackoutputs.FromMap(m)
	if err != nil {
		t.Fatal(err)
	}
	if o.Failover != want {
		t.Errorf("round trip gave %+v, want %+v", o.Failover, want)
	}
}

// A stack made before masters were counted exports only the singular
// master outputs: they are its one master, so every tool sees lists.
func TestDecodeFillsEveryMasterFromAnOldStack(t *testing.T) {
	old := strings.Replace(stackOutputJSON, `"marathonUrl": "http://198.51.100.7:8080",`,
		`"marathonUrl": "http://198.51.100.7:8080", "mesosUrl": "http://198.51.100.7:5050", "masterPublicIp": "198.51.100.7",
  "masterPrivateIp": "10.42.1.10", "sshMaster": "ssh ubuntu@198.51.100.7",`, 1)
	o, err := stackoutputs.Decode(strings.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]string{"marathonUrls": o.MarathonURLs, "mesosUrls": o.MesosURLs,
		"masterPublicIps": o.MasterPublicIPs, "masterPrivateIps": o.MasterPrivateIPs, "sshMasters": o.SSHMasters} {
		if len(got) != 1 {
			t.Errorf("%s = %v, want the one master", name, got)
		}
	}
	if o.MarathonURLs[0] != o.MarathonURL || o.MasterPrivateIPs[0] != "10.42.1.10" || o.SSHMasters[0] != o.SSHMaster {
		t.Errorf("decoded %+v", o)
	}
}

// A stack of three masters lists them all; the singular outputs stay the
// first's.
func TestDecodeEveryMaster(t *testing.T) {
	three := strings.Replace(stackOutputJSON, `"marathonUrl": "http://198.51.100.7:8080",`,
		`"marathonUrl": "http://198.51.100.7:8080",
  "marathonUrls": ["http://198.51.100.7:8080", "http://198.51.100.8:8080", "http://198.51.100.9:8080"],
  "masterPrivateIps": ["10.42.1.10", "10.42.1.11", "10.42.1.12"],`, 1)
	o, err := stackoutputs.Decode(strings.NewReader(three))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.MarathonURLs) != 3 || o.MarathonURLs[2] != "http://198.51.100.9:8080" || len(o.MasterPrivateIPs) != 3 || o.MarathonURL != o.MarathonURLs[0] {
		t.Errorf("decoded %+v", o)
	}
}
