package components

import (
	"github.com/pulumi/pulumi-command/sdk/go/command/local"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Environment variables of scripts/cleanup-volumes added for the account
// check (see its usage), and the SDK's own, which the command also sets.
const (
	envAccountID  = "MHA_ACCOUNT_ID"
	envAWSProfile = "MHA_AWS_PROFILE"
	envSDKRegion  = "AWS_REGION"
	envSDKProfile = "AWS_PROFILE"
)

// volumeCleanupArgs is what the clean-up deletes by and with whose credentials.
type volumeCleanupArgs struct {
	Region, Account, Profile string // aws:region, the stack's account, aws:profile
	Driver                   string
	ClusterID                pulumi.StringInput
	FlockerClusterUUID       pulumi.StringInput // flocker: the tag value of its volumes
	VolumeName               pulumi.StringInput // rexray: the tag value of its volume
}

// selector is the tag key and value the driver's volumes are found by
// (ec2ops.VolumeSelector).
func (a volumeCleanupArgs) selector() (string, pulumi.StringInput) {
	if a.Driver == facts.VolumeDriverFlocker {
		return facts.TagFlockerClusterID, a.FlockerClusterUUID
	}
	return facts.TagName, a.VolumeName
}

// newVolumeCleanup registers the command that deletes the cluster's
// run-time EBS volumes when Pulumi deletes it.
//
// Its delete runs with the environment stored in the state (pulumi-command
// v1.2.1 provider/pkg/provider/local/commandController.go, Delete: run with
// the state's BaseInputs). A changed `environment` is an update, and an
// update without `update` or `create` command only stores the new inputs
// (same file, Update); only `triggers` replaces (provider/pkg/provider/
// common/inputs.go: `provider:"replaceOnChanges"` on Triggers alone). So
// with the selector in the environment only, switching volumeDriver would
// overwrite what the old volume must be deleted by, and leak it.
//
// The triggers hold exactly what says which volumes are deleted: region,
// account, driver, cluster id and the driver's tag key and value. When any
// changes, Pulumi replaces the command, create before delete
// (deleteBeforeReplace false, set so no default can flip it): the new one
// is created (it runs nothing), and the old one is deleted at the end of
// the update, running the clean-up with the OLD environment. Deletions run
// in reverse dependency order over the old state (pulumi/pulumi
// pkg/resource/deploy/step_generator.go, ScheduleDeletes: a resource is
// deleted only after every condemned resource depending on it), and every
// old agent depends on the old clean-up, so the old agents, replaced along
// with the driver (their user data changes), are terminated first and the
// old volume is detached when the old clean-up looks for it.
//
// Nothing else may go into the triggers: a replacement with an unchanged
// selector would run the delete against the live cluster's own volume. The
// profile is how credentials are found, not what is deleted, so it is only
// in the environment.
func newVolumeCleanup(ctx *pulumi.Context, name string, a volumeCleanupArgs, opts ...pulumi.ResourceOption) (*local.Command, error) {
	uuid := a.FlockerClusterUUID
	if uuid == nil {
		uuid = pulumi.String("")
	}
	a.FlockerClusterUUID = uuid
	tagKey, tagValue := a.selector()
	env := pulumi.StringMap{
		envRegion:             pulumi.String(a.Region),
		envSDKRegion:          pulumi.String(a.Region),
		envAccountID:          pulumi.String(a.Account),
		envClusterID:          a.ClusterID,
		envVolumeDriver:       pulumi.String(a.Driver),
		envFlockerClusterUUID: uuid,
		envVolumeName:         a.VolumeName,
	}
	if a.Profile != "" {
		env[envAWSProfile] = pulumi.String(a.Profile)
		env[envSDKProfile] = pulumi.String(a.Profile)
	}
	return local.NewCommand(ctx, name, &local.CommandArgs{
		Delete:      pulumi.String(cleanupVolumesCommand),
		Environment: env,
		Triggers: pulumi.Array{pulumi.String(a.Region), pulumi.String(a.Account), pulumi.String(a.Driver),
			a.ClusterID, pulumi.String(tagKey), tagValue},
	}, append(opts, pulumi.DeleteBeforeReplace(false))...)
}
