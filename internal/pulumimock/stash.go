package pulumimock

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The engine's built-in Stash resource keeps a value in the stack's state.
// This file models it from pulumi/pulumi (first released in v3.208.0, read
// at pkg/v3.259.0; SDK go/pulumi/stash.go at v3.263.0):
//   - pkg/resource/deploy/builtins.go Check: "input" is required and is the
//     only property.
//   - builtins.go Create: output = input (previews included); Update:
//     output = the old output, input = the new input. An input change is an
//     update, never a replacement (Diff reports ChangedKeys, no ReplaceKeys).
//   - pkg/resource/deploy/step_generator.go shouldTriggerReplace: the
//     replacementTrigger option replaces the resource when it differs from
//     the recorded one; unknown counts as different; null on either side
//     means no trigger.
// `pulumi up --replace` is not modelled.

const stashType = "pulumi:index:Stash"

// StashState is a stash as the stack's state records it.
type StashState struct {
	Input, Output, Trigger resource.PropertyValue
	// Step is what the last run did: "create", "update", "same" or "replace".
	Step string
}

// checkStash is builtins.go's Check.
func checkStash(inputs resource.PropertyMap) error {
	for k := range inputs {
		if k != "input" {
			return fmt.Errorf("%s: unknown property %q", stashType, k)
		}
	}
	if _, ok := inputs["input"]; !ok {
		return fmt.Errorf(`%s: missing required property "input"`, stashType)
	}
	return nil
}

// stash answers a Stash registration from m.Stashes, the state of earlier
// runs, and records the new state there.
func (m *Mocks) stash(args pulumi.MockResourceArgs) (resource.PropertyMap, error) {
	trigger := resource.NewNullProperty()
	if rpc := args.RegisterRPC; rpc != nil {
		v, err := replacementTrigger(rpc)
		if err != nil {
			return nil, err
		}
		trigger = v
	}
	in := args.Inputs["input"]
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Stashes == nil {
		m.Stashes = map[string]StashState{}
	}
	old, ok := m.Stashes[args.Name]
	next := StashState{Input: in, Output: in, Trigger: trigger, Step: "create"}
	switch {
	case !ok:
	case triggersReplace(trigger, old.Trigger):
		next.Step = "replace"
	case in.DeepEquals(old.Input):
		next.Output, next.Step = old.Output, "same"
	default:
		next.Output, next.Step = old.Output, "update"
	}
	m.Stashes[args.Name] = next
	return resource.PropertyMap{"input": next.Input, "output": next.Output}, nil
}

// triggersReplace is step_generator.go's shouldTriggerReplace.
func triggersReplace(next, old resource.PropertyValue) bool {
	unwrap := func(v resource.PropertyValue) resource.PropertyValue {
		for v.IsSecret() {
			v = v.SecretValue().Element
		}
		return v
	}
	next, old = unwrap(next), unwrap(old)
	if next.ContainsUnknowns() || old.ContainsUnknowns() {
		return true
	}
	if next.IsNull() || old.IsNull() {
		return false
	}
	return !next.DeepEquals(old)
}
