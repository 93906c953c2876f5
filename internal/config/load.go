package config

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumiconfig "github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Load reads the stack's config. Defaults declared in Pulumi.yaml are applied
// by the CLI; Parse applies the same defaults itself (from Keys) so that the
// Automation API and tests without Pulumi.yaml get identical values. A key
// of this project that is none of Keys is refused too (UnknownKeys).
func Load(ctx *pulumi.Context) (Config, error) {
	project := pulumiconfig.New(ctx, "")
	aws := pulumiconfig.New(ctx, "aws")
	c, err := Parse(func(key string) (string, bool) {
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
	all, secret, _ := StackConfig()
	return withUnknown(c, err, UnknownKeys(all, secret))
}
