package components

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-command/sdk/go/command/local"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AppDeploymentArgs configures the app's deployment through Marathon.
type AppDeploymentArgs struct {
	// MarathonURLs are every master's Marathon: deploy-app fails over
	// between them (internal/marathon), so the deploy and the delete at
	// destroy work while any master with the leader's proxy answers.
	MarathonURLs pulumi.StringArrayInput
	AppID        string             // must match the manifest's id
	Manifest     pulumi.StringInput // rendered Marathon app definition (internal/manifest)
	// DependsOn are the nodes: the app is posted once they exist, and
	// deleted before they are destroyed.
	DependsOn []pulumi.Resource
	// BootInstances, Region and Profile let deploy-app show each node's
	// boot step from its serial console while it waits (EC2
	// GetConsoleOutput): NODE=INSTANCE-ID,... as BootInstances formats it,
	// the region and the stack's aws:profile. Without BootInstances the
	// deploy works as before and says it cannot see the consoles.
	BootInstances pulumi.StringInput
	// AgentsOf is the cluster id whose agents deploy-app finds by tag
	// (MHA_BOOT_AGENTS_OF) when they are an Auto Scaling group's, whose
	// instance ids Pulumi does not know; nil for fixed agents.
	AgentsOf pulumi.StringInput
	Region   string
	Profile  string
	// VolumeDriver chooses the boot budget deploy-app holds each node's
	// steps against (internal/bootbudget).
	VolumeDriver string
}

// BootInstances is deploy-app's --instances: each node's name as its boot
// prints it on the console (userdata: "master" alone, else "master-<i>";
// "agent-<i>", both from 1) and its instance id.
func BootInstances(masters, agents []*ec2.Instance) pulumi.StringOutput {
	var names []string
	var ids []any
	for i, m := range masters {
		name := fmt.Sprintf("master-%d", i+1)
		if len(masters) == 1 {
			name = "master"
		}
		names, ids = append(names, name), append(ids, m.ID())
	}
	for i, a := range agents {
		names, ids = append(names, fmt.Sprintf("agent-%d", i+1)), append(ids, a.ID())
	}
	return pulumi.All(ids...).ApplyT(func(v []any) string {
		out := make([]string, len(v))
		for i, id := range v {
			out[i] = names[i] + "=" + string(id.(pulumi.ID))
		}
		return strings.Join(out, ",")
	}).(pulumi.StringOutput)
}

// AppDeployment posts the app to Marathon on create and on manifest change,
// and deletes it on destroy, through scripts/deploy-app.
type AppDeployment struct {
	pulumi.ResourceState

	AppVersion pulumi.StringOutput
	TaskHost   pulumi.StringOutput
	Command    *local.Command
}

// marathonID is what Marathon accepts as an app id (path segments of
// lower-case letters, digits, dots and hyphens); it is also shell-safe.
var marathonID = regexp.MustCompile(`^(/[a-z0-9]([a-z0-9.-]*[a-z0-9])?)+$`)

// deployResult is the JSON object scripts/deploy-app prints on success.
type deployResult struct {
	AppID    string `json:"appId"`
	Version  string `json:"version"`
	TaskHost string `json:"taskHost"`
	TaskID   string `json:"taskId"`
	Changed  bool   `json:"changed"`
}

// NewAppDeployment creates the deploy step.
func NewAppDeployment(ctx *pulumi.Context, name string, args *AppDeploymentArgs, opts ...pulumi.ResourceOption) (*AppDeployment, error) {
	if !marathonID.MatchString(args.AppID) {
		return nil, fmt.Errorf("app deployment %s: %q is not a Marathon app id such as /marathon-ha/moby-counter", name, args.AppID)
	}
	a := &AppDeployment{}
	if err := ctx.RegisterComponentResource(typeToken("AppDeployment"), name, a, opts...); err != nil {
		return nil, err
	}
	// A changed manifest (Stdin) is an update: deploy-app PUTs the new
	// definition, idempotently. Nothing forces a replacement; should one
	// happen, the default create-before-delete would run the old Delete
	// (DELETE the same app id) after the new Create and remove the app just
	// deployed (pulumi-command's replacement pitfall), so delete first.
	cmd, err := local.NewCommand(ctx, name+"-deploy", &local.CommandArgs{
		Create: pulumi.String(deployAppCommand),
		Update: pulumi.String(deployAppCommand),
		Delete: pulumi.String(deleteAppCommand + "'" + args.AppID + "'"),
		Stdin:  args.Manifest,
		// The comma-separated list deploy-app's --marathon takes; one
		// master's is just its URL, as before masters were counted.
		Environment: deployEnv(args),
	}, pulumi.Parent(a), pulumi.DependsOn(args.DependsOn), pulumi.DeleteBeforeReplace(true))
	if err != nil {
		return nil, err
	}
	a.Command = cmd
	field := func(get func(deployResult) string) pulumi.StringOutput {
		return cmd.Stdout.ApplyT(func(out string) (string, error) {
			r, err := parseDeployResult(out)
			return get(r), err
		}).(pulumi.StringOutput)
	}
	a.AppVersion = field(func(r deployResult) string { return r.Version })
	a.TaskHost = field(func(r deployResult) string { return r.TaskHost })
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{"appVersion": a.AppVersion, "taskHost": a.TaskHost}); err != nil {
		return nil, err
	}
	return a, nil
}

// deployEnv is deploy-app's environment: the Marathon URLs and, when
// given, what the boot watch needs (scripts/deploy-app/boot.go).
func deployEnv(args *AppDeploymentArgs) pulumi.StringMap {
	env := pulumi.StringMap{envMarathonURL: args.MarathonURLs.ToStringArrayOutput().ApplyT(func(urls []string) string {
		return strings.Join(urls, ",")
	}).(pulumi.StringOutput)}
	if args.BootInstances != nil {
		env["MHA_BOOT_INSTANCES"] = args.BootInstances
		if args.AgentsOf != nil {
			env["MHA_BOOT_AGENTS_OF"] = args.AgentsOf
		}
		env["MHA_REGION"] = pulumi.String(args.Region)
		if args.Profile != "" {
			env["MHA_AWS_PROFILE"] = pulumi.String(args.Profile)
		}
		if args.VolumeDriver != "" {
			env["MHA_VOLUME_DRIVER"] = pulumi.String(args.VolumeDriver)
		}
	}
	return env
}

// parseDeployResult reads deploy-app's stdout; empty (nothing run yet) is
// no result.
func parseDeployResult(out string) (deployResult, error) {
	var r deployResult
	if out == "" {
		return r, nil
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return r, fmt.Errorf("reading deploy-app's result %q: %w", out, err)
	}
	return r, nil
}
