package facts

import "time"

// The partition drill (kill-node --mode partition, rehearsal --drills
// partition) cuts the app's agent off from the masters through the EC2 API
// only: it swaps the instance's security groups for a drill group of its
// own that admits the ELB on the app port and nothing else, and lets no
// traffic out (docs/fencing.md). The drill group carries the stack's tags
// (TagProject, TagStack, TagClusterID) and these, so that a later sweep
// finds a group a dead run left and restores the instance it holds.
const (
	// TagDrill marks a drill's resource; its value names the drill.
	TagDrill       = "marathon-ha:drill"
	DrillPartition = "partition"
	// TagDrillInstance is the instance the drill group isolates.
	TagDrillInstance = "marathon-ha:drill-instance"
	// TagDrillOriginalGroups holds the instance's own security group ids,
	// comma-separated in the order EC2 listed them, written when the group
	// is created, before the swap: what a restore puts back. EC2 allows 5
	// groups per network interface (Amazon VPC User Guide, "Amazon VPC
	// quotas") and a tag value of 256 characters (EC2 User Guide, "Tag
	// restrictions"): 5 ids of 20 characters and 4 commas fit.
	TagDrillOriginalGroups = "marathon-ha:drill-original-groups"
	// TagDrillELBGroup and TagDrillAppPort are the ELB's group and the
	// port it was let out to the drill group on: the rule a restore takes
	// back before it deletes the drill group.
	TagDrillELBGroup = "marathon-ha:drill-elb-group"
	TagDrillAppPort  = "marathon-ha:drill-app-port"
)

// PartitionRestoreTimeout bounds the restore of a partitioned instance's
// groups and the deletion of the drill group. A fenced instance holds the
// drill group until EC2 reports it terminated, which the fencer waits for
// up to FenceConfirmTimeout; a minute more covers the API calls.
const PartitionRestoreTimeout = FenceConfirmTimeout + time.Minute
