package apps_test

import (
	"encoding/json"
	"testing"

	"github.com/marathon-ha/marathon-ha/apps"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// TestMobyCounterAgreesWithFacts guards the values JSON cannot read from
// internal/facts: the file must spell them as facts does.
func TestMobyCounterAgreesWithFacts(t *testing.T) {
	var app struct {
		ID        string `json:"id"`
		Instances int    `json:"instances"`
		Container struct {
			Docker struct {
				Image        string `json:"image"`
				PortMappings []struct {
					ContainerPort int `json:"containerPort"`
					HostPort      int `json:"hostPort"`
				} `json:"portMappings"`
				Parameters []struct{ Key, Value string } `json:"parameters"`
			} `json:"docker"`
		} `json:"container"`
		HealthChecks []struct {
			Path string `json:"path"`
		} `json:"healthChecks"`
		Constraints [][]string `json:"constraints"`
	}
	if err := json.Unmarshal(apps.MobyCounter, &app); err != nil {
		t.Fatalf("moby-counter.json: %v", err)
	}
	d := app.Container.Docker
	checks := []struct {
		name      string
		got, want any
	}{
		{"id", app.ID, facts.AppID},
		{"instances", app.Instances, 1},
		{"image", d.Image, facts.AppImage},
		{"containerPort", d.PortMappings[0].ContainerPort, facts.AppContainerPort},
		{"hostPort", d.PortMappings[0].HostPort, facts.DefaultAppPort},
		{"health check path", app.HealthChecks[0].Path, facts.AppHealthPath},
		{"volume mount", d.Parameters[1].Value, "moby-counter:" + facts.AppDataPath},
		{"zone constraint field", app.Constraints[0][0], facts.AgentZoneAttribute},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v (internal/facts)", c.name, c.got, c.want)
		}
	}
}
