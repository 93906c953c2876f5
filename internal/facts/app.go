package facts

import "time"

// Facts about the app that the manifest, the agents' flags and the deploy
// tool must agree on.
const (
	// AppDataPath is where Moby Counter keeps its state, the mount point of
	// the data volume (binocarlos/moby-counter localfile index.js: datafile
	// default "/data/file.json"; the 2015 demo's app.json mounted
	// "marathondemo:/data").
	AppDataPath = "/data"

	// AgentZoneAttribute is the Mesos agent attribute that carries the
	// agent's availability zone: agents start with
	// --attributes=zone:<az> (apache/mesos docs/attributes-resources.md) and
	// the app's constraint ["zone","CLUSTER","<az>"] keeps it in the zone of
	// its EBS volume (mesosphere/marathon docs/docs/constraints.md, CLUSTER
	// operator; EBS volumes attach only within their zone).
	AgentZoneAttribute = "zone"

	// AppDeployTimeout bounds scripts/deploy-app: Marathon's API only appears
	// after the master has booted, pulled its images and elected a leader,
	// and a task may take up to Marathon's --task_launch_timeout (default
	// 300000 ms, mesosphere/marathon docs/docs/command-line-flags.md) to
	// start, while the agent pulls the app image and attaches the volume.
	AppDeployTimeout = 20 * time.Minute
	// AppDeleteTimeout bounds the delete on `pulumi destroy`: Marathon is up
	// then (the master is destroyed after the app), and a delete deployment
	// only stops one task, which Marathon kills within its
	// --task_launch_timeout. A master that does not answer within it is
	// taken as gone, so destroy is not held up for AppDeployTimeout.
	AppDeleteTimeout = 5 * time.Minute
)
