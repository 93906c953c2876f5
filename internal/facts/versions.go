package facts

// Pinned software. Every node installs exactly these; nothing floats. The
// 2015 demo's apt repositories (ClusterHQ's and Mesosphere's) are gone
// (shared notes, domain.md section 5), so the services run as the container
// images their projects published, under Docker and systemd.
const (
	// AMIOwnerCanonical is Canonical's AWS account, which publishes the
	// official Ubuntu AMIs (ubuntu.com/server/docs/cloud-images/amazon-ec2).
	AMIOwnerCanonical = "099720109477"
	// AMINameFilter selects Ubuntu 20.04 (focal), the newest Ubuntu LTS whose
	// default is cgroup v1: released Mesos does not support cgroup v2
	// (apache/mesos#556) and Ubuntu switched to v2 in 21.10 (Ubuntu 21.10
	// release notes, "cgroup v2 by default").
	AMINameFilter = "ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-*"

	// ZooKeeperImage is the official ZooKeeper image, 3.4 line as used with
	// Mesos 1.x in the community compose files (hub.docker.com/_/zookeeper).
	ZooKeeperImage = "zookeeper:3.4.14"
	// MesosMasterImage and MesosAgentImage are Mesosphere's images of Mesos
	// 1.4.1 (hub.docker.com/r/mesosphere/mesos-master, mesos-slave); 1.4 is
	// what Marathon 1.4 was built and tested against.
	MesosMasterImage = "mesosphere/mesos-master:1.4.1"
	MesosAgentImage  = "mesosphere/mesos-slave:1.4.1"
	// MesosExecutorImage is the agents' --docker_mesos_image: the agent runs
	// in a container, so it must launch each executor in a container of its
	// own, or the executors (and the app) die with the agent container on
	// any restart of its unit ("we want the executor to keep running when
	// the slave container dies", apache/mesos 1.4.1
	// src/slave/containerizer/docker.cpp:1273). Mesos 1.4.1 runs the
	// executor with the image's own ENTRYPOINT (docker.cpp:381, shell=false),
	// so it cannot be mesos-slave's image (ENTRYPOINT mesos-slave would
	// receive --container=...: mesosphere/docker-containers#80); their common
	// base mesosphere/mesos has none and holds the executor and a docker CLI
	// (mesosphere/docker-containers mesos/dockerfile-templates/mesos).
	MesosExecutorImage = "mesosphere/mesos:1.4.1"
	// MarathonImage is Marathon 1.4, the line whose app schema is in
	// shared/reference/marathon-1.4 and the first with unreachableStrategy
	// (mesosphere/marathon changelog.md, 1.4.0) (hub.docker.com/r/mesosphere/marathon).
	MarathonImage = "mesosphere/marathon:v1.4.9"

	// FlockerVersion is the last Flocker release (ClusterHQ/flocker tags,
	// 1.15.0, 2016-12); its images are ClusterHQ's "Flocker in containers"
	// (docs/supported/flockercontainers.rst).
	FlockerVersion             = "1.15.0"
	FlockerControlServiceImage = "clusterhq/flocker-control-service:" + FlockerVersion
	FlockerDatasetAgentImage   = "clusterhq/flocker-dataset-agent:" + FlockerVersion
	FlockerDockerPluginImage   = "clusterhq/flocker-dockerplugin:" + FlockerVersion
	// RexRayEBSPlugin is REX-Ray's EBS Docker managed plugin, last release
	// 0.11.4 (rexray/rexray releases, 2019-01-15; adds NVMe support).
	RexRayEBSPlugin = "rexray/ebs:0.11.4"

	// AWSCLIImage is the AWS CLI the masters' fencer (mha-fencer) calls
	// EC2 with, run as `docker run --rm --network host`: the official image
	// (hub.docker.com/r/amazon/aws-cli), ENTRYPOINT ["/usr/local/bin/aws"]
	// (aws/aws-cli docker/Dockerfile@2.27.58). 2.27.58 is the first release
	// whose botocore knows TerminateInstances' SkipOsShutdown (aws/aws-cli
	// CHANGELOG.rst 2.27.58, "Added support for skip-os-shutdown option for
	// the EC2 instance stop and terminate operations";
	// awscli/botocore/data/ec2/2016-11-15/service-2.json@2.27.58
	// TerminateInstancesRequest; 2.27.57's lacks it): an older CLI refuses
	// --skip-os-shutdown as an unknown option.
	AWSCLIImage = "amazon/aws-cli:2.27.58"

	// AppImage is the Moby Counter build the 2015 demo ran (app.json).
	AppImage = "binocarlos/moby-counter:localfile"
)

// Volume drivers the cluster can use for the app's data volume.
const (
	VolumeDriverFlocker = "flocker"
	VolumeDriverRexRay  = "rexray"
)

// VolumeDrivers lists the accepted values of the volumeDriver config key.
var VolumeDrivers = []string{VolumeDriverFlocker, VolumeDriverRexRay}

// DockerVolumeDriverName is the name Docker knows each driver by, as passed
// in `docker run --volume-driver`: Flocker's plugin socket is
// /run/docker/plugins/flocker/flocker.sock (ClusterHQ/flocker
// flocker/dockerplugin/_script.py); a managed plugin is addressed by its
// alias (docs.docker.com, "docker plugin install --alias").
var DockerVolumeDriverName = map[string]string{
	VolumeDriverFlocker: "flocker",
	VolumeDriverRexRay:  "rexray/ebs",
}
