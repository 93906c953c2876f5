package components

import (
	"fmt"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// rootVolumeShrink refuses a rootVolumeSizeGiB below the current size of a
// root volume that `pulumi up` would resize in place.
//
// A smaller size updates each master (and each Flocker agent) in place,
// and the provider resizes a running instance's root volume with
// ModifyVolume (terraform-provider-aws internal/service/ec2/ec2_instance.go
// at patched-v5.14.0, resourceInstanceUpdate, l.1849-1893), which cannot
// shrink a volume ("You can't decrease the size of an EBS volume", Amazon
// EBS User Guide, "Modify a volume using Amazon EBS Elastic Volumes"): the
// `up` would fail midway, after the agents' launch template already has a
// new version and their instance refresh has started. So the preview
// refuses it (guardNodes, whose result the cluster id waits for, so nothing
// changes first).
//
// The sizes are the volumes' own, as EC2 reports them now
// (existingNodes): a stack grown from 30 to 40 GiB and set to 35 is
// refused, which a record of the first `up`'s size could not do. REX-Ray
// agents are not counted: they are an Auto Scaling group, and a smaller
// size only makes a new launch template version, whose instances the
// instance refresh launches with new volumes of that size
// (ec2_launch_template.go makes a version; nothing calls ModifyVolume).
// With flocker configured every instance tagged as this cluster's agent is
// counted; only a confirmed switch from REX-Ray in the same run could make
// those the group's instances, a switch that replaces every node: such a
// run is refused too if it also shrinks, which is stricter than needed.
//
// Stacks before this check recorded the first `up`'s size in a Stash
// (<cluster>-root-volume). The program no longer registers it, so the next
// `up` deletes it from the state: the builtin provider's Delete of a Stash
// does nothing outside the state (pulumi/pulumi pkg/resource/deploy
// builtins.go at v3.259.0), and nothing reads its output any more
// (TestRootVolumeStashIsDroppedHarmlessly).
func rootVolumeShrink(cfg config.Config, nodes []existingNode) error {
	var largest *existingNode
	for i, n := range nodes {
		resized := n.Role == facts.RoleMaster || n.Role == facts.RoleAgent && !InGroup(cfg.VolumeDriver)
		if resized && (largest == nil || n.RootGiB > largest.RootGiB) {
			largest = &nodes[i]
		}
	}
	if largest == nil || cfg.RootVolumeGiB >= largest.RootGiB {
		return nil
	}
	return &config.Error{Key: config.KeyRootVolumeSize, Value: fmt.Sprint(cfg.RootVolumeGiB), Problem: rootVolumeShrinkRefusal(*largest)}
}

// rootVolumeShrinkRefusal says why the root volumes cannot shrink below
// largest's, and what to do instead.
func rootVolumeShrinkRefusal(largest existingNode) string {
	return fmt.Sprintf("the root volume of %[4]s (%[5]s) is %[1]d GiB now, the largest of the nodes `pulumi up` would resize in place, and EBS cannot shrink a volume "+
		"(ModifyVolume refuses; the `up` would fail midway at the first master). Set %[2]s:%[3]s back to %[1]d or more "+
		"(`pulumi config set %[3]s %[1]d`); for smaller volumes, create a new stack with the smaller size and `pulumi destroy` this one",
		largest.RootGiB, facts.Project, config.KeyRootVolumeSize, largest.Name, largest.ID)
}
