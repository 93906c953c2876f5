package facts

import "time"

// Facts about the EBS volumes the volume drivers create at run time, which
// the program does not own and `pulumi destroy` must find and delete
// (scripts/cleanup-volumes).
const (
	// TagFlockerClusterID is the tag Flocker's EBS backend puts on every
	// volume it creates, valued with the Flocker cluster's UUID; Flocker
	// also sets Name=flocker-<dataset id>, flocker-dataset-id and
	// flocker-metadata-version (ClusterHQ/flocker
	// flocker/node/agents/ebs.py: CLUSTER_ID_LABEL, create_volume).
	TagFlockerClusterID = "flocker-cluster-id"
	// TagName is EC2's Name tag. REX-Ray's EBS driver tags the volume it
	// creates Name=<docker volume name> (or "<ebs.tag>/<name>" when its
	// ebs.tag option is set, which this cluster leaves unset) and finds it
	// again by tag:Name (rexray/rexray v0.11.4, which holds libStorage:
	// libstorage/drivers/storage/ebs/storage/ebs_storage.go: createTags,
	// getVolume).
	TagName = "Name"
	// FlockerClusterUUIDResource ends the name of the random UUID resource
	// that is a Flocker cluster's UUID, the value of its volumes'
	// TagFlockerClusterID (components.NewCluster); the teardown reads it
	// from the state to sweep a volume the destroy left.
	FlockerClusterUUIDResource = "-flocker-cluster-uuid"

	// VolumeCleanupWait bounds how long the volume clean-up waits for the
	// driver's volumes to detach from terminating agents. A default
	// TerminateInstances first attempts a graceful OS shutdown, and an
	// instance can hang in shutting-down (EC2 User Guide, "Methods for
	// terminating an instance", which offers --force for that case); a
	// volume stays in-use until its instance is terminated. Ten minutes
	// covers a slow shutdown and the detach that follows, and still ends a
	// stuck `pulumi destroy` with a list of what is left instead of hanging.
	VolumeCleanupWait = 10 * time.Minute
)
