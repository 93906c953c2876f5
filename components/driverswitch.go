package components

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// guardDriverSwitch records the stack's volume driver and returns it, or
// an error when volumeDriver differs from the recorded one and the switch
// is not confirmed.
//
// A switch deletes the app's data: the old driver's volume clean-up is
// replaced, and the old one runs its delete with the old selector
// (volumecleanup.go), while the new driver starts the app on a new, empty
// volume; it also replaces every node, masters included (their user data
// names the driver). Carrying the data over would mean copying a
// filesystem between two drivers' volumes (Flocker's dataset layout against
// REX-Ray's whole-volume filesystem) before either cluster serves it; the
// program cannot do that between Pulumi steps, so it refuses unless the
// user confirms the loss.
//
// The record is a Stash: its output is the driver of the first `up` and an
// input change only updates it; its replacementTrigger is the confirmation
// ("none" when unset: a null trigger would never replace, pulumi/pulumi
// step_generator.go shouldTriggerReplace), so the run that sets or changes
// marathon-ha:confirmVolumeDriverSwitch replaces the record with the
// configured driver. The preview sees the recorded driver (the Stash's
// output is known on update), so it fails before any resource changes:
// every resource carries the cluster id, which waits for this guard.
//
// A confirmation must name the configured driver (config validation), so
// one left from an earlier switch cannot pass for a switch back. One gap
// is left: unsetting the confirmation changes the trigger too, so a run
// that unsets it and switches back in the same step is not refused; the
// Stash keeps no memory of the previous trigger that could tell the two
// apart.
func guardDriverSwitch(ctx *pulumi.Context, name string, cfg config.Config, parent pulumi.Resource) (pulumi.StringOutput, error) {
	confirmation := cfg.ConfirmVolumeDriverSwitch
	if confirmation == "" {
		confirmation = "none"
	}
	st, err := pulumi.NewStash(ctx, name+"-volume-driver", &pulumi.StashArgs{Input: pulumi.String(cfg.VolumeDriver)},
		pulumi.Parent(parent), pulumi.ReplacementTrigger(pulumi.String(confirmation)))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return st.Output.ApplyT(func(v any) (string, error) {
		recorded, _ := v.(string)
		if recorded == cfg.VolumeDriver {
			return recorded, nil
		}
		return "", &config.Error{Key: config.KeyVolumeDriver, Value: cfg.VolumeDriver, Problem: driverSwitchRefusal(recorded, cfg)}
	}).(pulumi.StringOutput), nil
}

// driverSwitchRefusal says what a switch from recorded to cfg's driver
// does, and how to confirm it.
func driverSwitchRefusal(recorded string, cfg config.Config) string {
	how := fmt.Sprintf("to go ahead, `pulumi config set %s %s` and run `pulumi up` again", config.KeyConfirmVolumeDriverSwitch, cfg.VolumeDriver)
	if cfg.ConfirmVolumeDriverSwitch == cfg.VolumeDriver {
		how = fmt.Sprintf("%s:%s was already %s before this run, and a confirmation counts on the run where it changes: `pulumi config rm %[2]s`, `pulumi up`, then set it again with the switch",
			facts.Project, config.KeyConfirmVolumeDriverSwitch, cfg.VolumeDriver)
	}
	return fmt.Sprintf("this stack's app data is on %s volumes since its first `pulumi up`; switching to %s deletes that data "+
		"(the old driver's volume clean-up runs) and replaces every node, masters included; "+
		"set %s:%s back to %s to keep it, or back the data up first; %s",
		recorded, cfg.VolumeDriver, facts.Project, config.KeyVolumeDriver, recorded, how)
}
