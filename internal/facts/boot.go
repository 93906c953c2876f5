package facts

import "time"

// Facts about how a node boots: the Ubuntu packages it installs, where its
// certificates live and how the operator tools learn that it is ready.
const (
	// DockerAptRepository is Docker's own apt repository for Ubuntu 20.04,
	// which keeps every release it published (docs.docker.com
	// engine/install/ubuntu.md, "Install a specific version": `apt list
	// --all-versions docker-ce`; docker/docker-install install.sh --version
	// picks one with apt-cache madison). Ubuntu's archive indexes only the
	// newest docker.io of a pocket, so an exact docker.io pin breaks at the
	// next upload, even a security rebuild. Focal reached end of life in
	// Docker's packaging in 2025-05 (docker/docker-ce-packaging a69db2e),
	// after 26.1.4 was published for it.
	DockerAptRepository = "https://download.docker.com/linux/ubuntu"
	DockerAptSuite      = "focal"
	DockerAptComponent  = "stable"
	// DockerAptKeyURL serves the repository's signing key, and
	// DockerAptKeyFingerprint is the only key the boot accepts from it:
	// "Docker Release (CE deb) <docker@docker.com>", 4096R/0EBFCD88,
	// created 2017-02-22 (docs.docker.com install/linux/docker-ce/ubuntu,
	// "Verify that you now have the key with the fingerprint 9DC8 5822 9FC7
	// DD38 854A E2D8 8D81 803C 0EBF CD88"). The key file path is the one
	// docker/docker-install install.sh uses.
	DockerAptKeyURL         = DockerAptRepository + "/gpg"
	DockerAptKeyFingerprint = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"
	DockerAptKeyPath        = "/etc/apt/keyrings/docker.asc"

	// DockerVersion is the Docker release every node runs, and the package
	// versions that install it from DockerAptRepository (version string
	// "5:26.1.4-1~ubuntu.20.04~focal": docker/docker-ce-packaging
	// deb/build-deb, EPOCH 5 and ${DEB_VERSION}-1~${DISTRO}.${VERSION_ID}~${SUITE};
	// containerd.io 1.6.33-1 is the containerd published for focal beside
	// it). 26.1 is the newest line that both still pulls schema-1 images
	// such as binocarlos/moby-counter:localfile when DockerSchema1Env is set
	// on the daemon (support removed in v28.2, docker/cli docs/deprecated.md)
	// and still accepts the API 1.29 client inside the Mesos images
	// (MinSupportedAPIVersion 1.24, moby/moby api/common.go at v26.1.4).
	DockerVersion            = "26.1.4"
	DockerCEPackageVersion   = "5:" + DockerVersion + "-1~ubuntu.20.04~focal"
	ContainerdPackageVersion = "1.6.33-1"
	// DockerSchema1Env re-enables pulling schema-1 images in Docker 26
	// ("An environment variable (DOCKER_ENABLE_DEPRECATED_PULL_SCHEMA_1_IMAGE)
	// is added in Docker v26.0 that allows re-enabling support for these
	// image formats in the daemon", docker/cli docs/deprecated.md; read by
	// dockerd only: moby/moby distribution/pull_v2.go at v26.1.4).
	DockerSchema1Env = "DOCKER_ENABLE_DEPRECATED_PULL_SCHEMA_1_IMAGE"

	// AWSCLIPackage and AWSCLIPackageVersion are AWS CLI v1 from Ubuntu
	// 20.04's own release pocket (aws-cli/1.18.69, botocore/1.16.19 on every
	// focal install; the release pocket never changes, so the pin always
	// resolves). botocore >= 1.13.25 speaks IMDSv2, which the master
	// requires. Nodes use it only to read the Flocker certificates from SSM.
	AWSCLIPackage        = "awscli"
	AWSCLIPackageVersion = "1.18.69-1ubuntu1"

	// PigzPackage and PigzPackageVersion are pigz from Ubuntu 20.04's
	// archive (universe, which Ubuntu's cloud images enable; 2.4-1 as
	// focal-based Dockerfiles pin it, not verifiable here). dockerd
	// decompresses image layers with unpigz when it is on PATH and with
	// Go's compress/gzip otherwise (moby/moby pkg/archive/archive.go at
	// v26.1.4, gzDecompress); docker-ce only Recommends pigz
	// (docker/docker-ce-packaging deb/common/control), which
	// --no-install-recommends leaves out. A layer is extracted only after
	// its parent (moby/moby distribution/xfer/download.go), so extraction
	// is on the pull's critical path.
	PigzPackage        = "pigz"
	PigzPackageVersion = "2.4-1"

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
	// BootStallWarning is how long deploy-app lets a running boot's
	// console stay the same before it says the boot may be hung: longer
	// than any silent stretch of a boot that works (a large image's pull;
	// wait-ready says what it waits for every minute), well inside the
	// deploy's AppDeployTimeout.
	BootStallWarning = 10 * time.Minute
	// ExecutorRegistrationTimeout is the agents' Mesos
	// --executor_registration_timeout, as the 2015 demo set it (5mins,
	// uploads/install.sh), so a slow image pull does not fail the task.
	ExecutorRegistrationTimeout = 5 * time.Minute
)

// AptPackage is a Debian package pinned to one version.
type AptPackage struct{ Name, Version string }

// Pin is the package as apt-get install takes it, name=version.
func (p AptPackage) Pin() string { return p.Name + "=" + p.Version }

// DockerPackages install DockerVersion from DockerAptRepository; the boot
// installs and holds exactly these.
var DockerPackages = []AptPackage{
	{"docker-ce", DockerCEPackageVersion},
	{"docker-ce-cli", DockerCEPackageVersion},
	{"containerd.io", ContainerdPackageVersion},
}
