package main

import (
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
)

// TestSelfFenceFromConfig: selfFenceSeconds reaches every agent's
// self-fence (in the centiseconds its clock counts), and no master runs
// one; a value the masters' detection would overtake stops the program
// before any resource, naming the keys.
func TestSelfFenceFromConfig(t *testing.T) {
	res := run(t, "dev", baseConfig("selfFenceSeconds", "3"))
	agents := 0
	for _, inst := range append(res.OfType(tInstance), res.OfType(tLaunchTemplate)...) {
		ud := userDataOf(t, inst)
		if inst.String("privateIp") == facts.MasterPrivateIP {
			if strings.Contains(ud, facts.SelfFenceUnit) {
				t.Errorf("master %s runs the self-fence", inst.Name)
			}
			continue
		}
		agents++
		if !strings.Contains(ud, "\n      AFTER=300\n") || !strings.Contains(ud, "systemctl enable --now \"$1.service\"") || !strings.Contains(ud, "mha_start_service '"+facts.SelfFenceUnit+"'") {
			t.Errorf("agent %s: the self-fence does not start with selfFenceSeconds 3 (AFTER=300)", inst.Name)
		}
	}
	if agents == 0 {
		t.Fatal("no agent")
	}

	_, err := pulumimock.Run(program, pulumimock.NewMocks(), "dev", baseConfig("agentPingTimeoutSeconds", "3"), false)
	if err == nil || !strings.Contains(err.Error(), "selfFenceSeconds") || !strings.Contains(err.Error(), "agentPingTimeoutSeconds x") {
		t.Errorf("a 3 s ping timeout (9 s detection) with the default self-fence: %v, want the refusal naming the keys", err)
	}
}
