package components

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// stashString keeps input in the engine's Stash resource, replaced when
// trigger changes, and returns the stash's output: the input recorded when
// the stash was created (pulumi/pulumi pkg/resource/deploy/builtins.go).
func stashString(ctx *pulumi.Context, name string, input, trigger pulumi.StringOutput, parent pulumi.Resource) (pulumi.StringOutput, error) {
	st, err := pulumi.NewStash(ctx, name, &pulumi.StashArgs{Input: input}, pulumi.Parent(parent), pulumi.ReplacementTrigger(trigger))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return st.Output.ApplyT(func(v any) (string, error) {
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("value kept in %s is %T, not a string", name, v)
		}
		return s, nil
	}).(pulumi.StringOutput), nil
}
