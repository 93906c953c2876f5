package main

import (
	"fmt"
	"regexp"
	"testing"
)

// TestDeployWatchesTheBoot: deploy-app gets every node's instance id, named
// as its boot names itself on the console, and the region, so it can show
// the boot's progress while it waits for Marathon.
func TestDeployWatchesTheBoot(t *testing.T) {
	for _, tt := range []struct {
		name, driver string
		cfg          map[string]string
		want         string
	}{
		// REX-Ray's agents are the group's: deploy-app finds them by
		// the cluster's tags (MHA_BOOT_AGENTS_OF).
		{"one master", "rexray", baseConfig(), `^master=i-\S+$`},
		{"three masters", "rexray", baseConfig("masterCount", "3"), `^master-1=i-\S+,master-2=i-\S+,master-3=i-\S+$`},
		{"flocker", "flocker", baseConfig("volumeDriver", "flocker", "agentInstanceType", "m4.large"), `^master=i-\S+,agent-1=i-\S+,agent-2=i-\S+$`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, "dev", tt.cfg)
			deploy, ok := res.Named(tCommand, "marathon-ha-app-deploy")
			if !ok {
				t.Fatal("no deploy command")
			}
			env, _ := deploy.Input("environment").(map[string]any)
			if got := fmt.Sprint(env["MHA_BOOT_INSTANCES"]); !regexp.MustCompile(tt.want).MatchString(got) {
				t.Errorf("MHA_BOOT_INSTANCES %q, want %s", got, tt.want)
			}
			if of, ok := env["MHA_BOOT_AGENTS_OF"]; (tt.driver == "rexray") != ok || ok && !regexp.MustCompile(`^mha-[0-9a-f]{8}$`).MatchString(fmt.Sprint(of)) {
				t.Errorf("MHA_BOOT_AGENTS_OF %v (set: %v): want the cluster id exactly when the agents are a group", of, ok)
			}
			if env["MHA_REGION"] != "us-east-1" {
				t.Errorf("MHA_REGION %v", env["MHA_REGION"])
			}
			if env["MHA_VOLUME_DRIVER"] != tt.driver {
				t.Errorf("MHA_VOLUME_DRIVER %v, want %s: deploy-app holds the boot against its budget", env["MHA_VOLUME_DRIVER"], tt.driver)
			}
			if _, ok := env["MHA_AWS_PROFILE"]; ok {
				t.Errorf("MHA_AWS_PROFILE %v set without aws:profile", env["MHA_AWS_PROFILE"])
			}
		})
	}
}
