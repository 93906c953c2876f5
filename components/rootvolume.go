package components

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// guardRootVolume records the root volume size of the stack's first
// `pulumi up` and returns it, or an error when rootVolumeSizeGiB is now
// smaller.
//
// A smaller size updates each master (and each Flocker agent) in place,
// and the provider resizes a running instance's root volume with
// ModifyVolume (terraform-provider-aws internal/service/ec2/ec2_instance.go
// at patched-v5.14.0, resourceInstanceUpdate, l.1849-1893), which cannot
// shrink a volume ("You can't decrease the size of an EBS volume", Amazon
// EBS User Guide, "Modify a volume using Amazon EBS Elastic Volumes"): the
// `up` would fail midway, after the agents' launch template already has a
// new version and their instance refresh has started. So the preview
// refuses it, as the zone move is refused (recordZone): the record is a
// Stash without a replacementTrigger, whose output is the size of the first
// `up`, and the cluster id waits for this guard, so nothing changes first.
//
// The record is the first size, not the largest: a stack grown from 30 to
// 40 GiB and then set to 35 is not refused here and still fails at AWS.
// A Stash cannot keep a running maximum: its output changes only when it is
// replaced, and the replacementTrigger that would replace it on growth must
// be known before the recorded value can be read.
func guardRootVolume(ctx *pulumi.Context, name string, cfg config.Config, parent pulumi.Resource) (pulumi.IntOutput, error) {
	st, err := pulumi.NewStash(ctx, name+"-root-volume", &pulumi.StashArgs{Input: pulumi.Int(cfg.RootVolumeGiB)}, pulumi.Parent(parent))
	if err != nil {
		return pulumi.IntOutput{}, err
	}
	return st.Output.ApplyT(func(v any) (int, error) {
		recorded, ok := asGiB(v)
		if !ok || cfg.RootVolumeGiB >= recorded {
			return cfg.RootVolumeGiB, nil
		}
		return 0, &config.Error{Key: config.KeyRootVolumeSize, Value: fmt.Sprint(cfg.RootVolumeGiB), Problem: rootVolumeShrinkRefusal(recorded)}
	}).(pulumi.IntOutput), nil
}

// asGiB reads a recorded size: a number in the state (JSON has no
// integers), or an int before it is serialised.
func asGiB(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return int(n), true
	case int:
		return n, true
	}
	return 0, false
}

// rootVolumeShrinkRefusal says why the root volumes cannot shrink, and
// what to do instead.
func rootVolumeShrinkRefusal(recorded int) string {
	return fmt.Sprintf("the nodes' root volumes were created with %[1]d GiB on this stack's first `pulumi up`, and EBS cannot shrink a volume "+
		"(ModifyVolume refuses; the `up` would fail midway at the first master). Set %[2]s:%[3]s back to %[1]d or more "+
		"(`pulumi config set %[3]s %[1]d`); for smaller volumes, create a new stack with the smaller size and `pulumi destroy` this one",
		recorded, facts.Project, config.KeyRootVolumeSize)
}
