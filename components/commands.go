package components

import (
	"fmt"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// The operator programs that pulumi-command runs on the machine running
// `pulumi up`, from the project directory (pulumi-command runs local
// commands in the program's working directory). `go run` builds them from
// this repository, so the program and its tools are always the same version.
const deployAppCommand = "go run ./scripts/deploy-app --manifest -"

var (
	// deleteAppCommand takes the app id as its argument rather than the
	// manifest on stdin, so it needs nothing but its environment on destroy.
	// If Marathon is already gone, so is the app: it warns and succeeds.
	deleteAppCommand      = fmt.Sprintf("go run ./scripts/deploy-app --delete --skip-if-unreachable --timeout %s --app-id ", facts.AppDeleteTimeout)
	cleanupVolumesCommand = "go run ./scripts/cleanup-volumes"
)

// Environment variables of scripts/cleanup-volumes and scripts/deploy-app
// (see their usage).
const (
	envRegion             = "MHA_REGION"
	envClusterID          = "MHA_CLUSTER_ID"
	envVolumeDriver       = "MHA_VOLUME_DRIVER"
	envFlockerClusterUUID = "MHA_FLOCKER_CLUSTER_UUID"
	envVolumeName         = "MHA_VOLUME_NAME"
	envMarathonURL        = "MHA_MARATHON_URL"
)
