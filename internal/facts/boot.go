package facts

import "time"

// Facts about how a node boots: the Ubuntu packages it installs, where its
// certificates live and how the operator tools learn that it is ready.
const (
	// DockerPackage and DockerPackageVersion are Docker from Ubuntu's
	// archive. 26.1.3-0ubuntu1~20.04.1 is the newest docker.io in
	// focal-updates (built 2024-10-14; `apt install docker.io` on 20.04 in
	// 2025 answers "already the newest version (26.1.3-0ubuntu1~20.04.1)").
	// Ubuntu's archive indexes only the newest version of each pocket, so
	// the older 24.0.7-0ubuntu2~20.04.1 (focal-updates in 2024) can no
	// longer be pinned. Docker 26 refuses schema-1 images such as
	// binocarlos/moby-counter:localfile unless DockerSchema1Env is set in
	// the daemon's environment; Docker 27 drops even that (moby/moby#47459,
	// docker/cli docs/deprecated.md), so never move past 26.
	DockerPackage        = "docker.io"
	DockerPackageVersion = "26.1.3-0ubuntu1~20.04.1"
	// DockerSchema1Env re-enables pulling schema-1 images in Docker 26
	// ("An environment variable (DOCKER_ENABLE_DEPRECATED_PULL_SCHEMA_1_IMAGE)
	// is added in Docker v26.0 that allows re-enabling support for these
	// image formats in the daemon", docker/cli docs/deprecated.md).
	DockerSchema1Env = "DOCKER_ENABLE_DEPRECATED_PULL_SCHEMA_1_IMAGE"

	// AWSCLIPackage and AWSCLIPackageVersion are AWS CLI v1 from Ubuntu
	// 20.04's own release pocket (aws-cli/1.18.69, botocore/1.16.19 on every
	// focal install; the release pocket never changes, so the pin always
	// resolves). botocore >= 1.13.25 speaks IMDSv2, which the master
	// requires. Nodes use it only to read the Flocker certificates from SSM.
	AWSCLIPackage        = "awscli"
	AWSCLIPackageVersion = "1.18.69-1ubuntu1"

	// FlockerCertDir holds the Flocker certificates and agent.yml; Flocker
	// reads them there and wants the directory 0700 and keys 0600
	// (ClusterHQ/flocker docs/installation/configuring-authentication.rst).
	FlockerCertDir = "/etc/flocker"
	// FlockerDataPath is where the control service persists its
	// configuration (flocker/control/script.py: --data-path default).
	FlockerDataPath = "/var/lib/flocker"

	// ReadyCheckCommand is installed on every node: it exits 0 only when the
	// node's services answer, and prints what is not ready otherwise. The
	// operator tools run it over SSH.
	ReadyCheckCommand = "/usr/local/bin/marathon-ha-ready"
	// ReadyMarkerPath is written once, when the boot finished and the
	// readiness check passed.
	ReadyMarkerPath = "/var/lib/marathon-ha/ready"
	// BootFailedPrefix starts the console line a node prints when a boot
	// step fails ("marathon-ha: boot FAILED at <step>: <reason>"), readable
	// with `aws ec2 get-console-output`.
	BootFailedPrefix = "marathon-ha: boot FAILED at "

	// BootReadyTimeout bounds how long a node's boot waits for its own
	// services to answer after starting them (Marathon's JVM and leader
	// election take a minute or two on an m4.large).
	BootReadyTimeout = 15 * time.Minute
	// ExecutorRegistrationTimeout is the agents' Mesos
	// --executor_registration_timeout, as the 2015 demo set it (5mins,
	// uploads/install.sh), so a slow image pull does not fail the task.
	ExecutorRegistrationTimeout = 5 * time.Minute
)
