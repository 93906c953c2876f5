package config

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumiconfig "github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Load reads the stack's config. Defaults declared in Pulumi.yaml are applied
// by the CLI; Parse applies the same defaults itself (from Keys) so that the
// Automation API and tests without Pulumi.yaml get identical values.
func Load(ctx *pulumi.Context) (Config, error) {
	project := pulumiconfig.New(ctx, "")
	aws := pulumiconfig.New(ctx, "aws")
	return Parse(func(key string) (string, bool) {
		var v string
		switch key {
		case KeyRegion:
			v = aws.Get("region")
		case KeyProfile:
			v = aws.Get("profile")
		default:
			v = project.Get(key)
		}
		return v, v != ""
	})
}
