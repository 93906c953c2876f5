package pulumimock

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// This file models what the Pulumi engine does with each registration on a
// later `pulumi up` of a stack: same, update, replace, create or delete. It
// follows pulumi/pulumi pkg/resource/deploy/step_generator.go at v3.259.0:
//   - processIgnoreChanges: each ignoreChanges path takes the old input's
//     value before anything else, so the replacement of a resource, for
//     whatever reason, is created with the old value too;
//   - the provider's diff: a changed input that ReplaceRules (replace.go)
//     marks ForceNew makes a replacement, any other change an update;
//   - applyReplaceOnChanges: a changed path under a replaceOnChanges path
//     replaces;
//   - shouldTriggerReplace: a replacementTrigger that differs from the
//     recorded one replaces (unknown counts as different, null on either
//     side means no trigger);
//   - calculateDependentReplacements: a resource replaced delete-before-
//     replace (its own option, or as such a resource's dependent) first
//     replaces every custom resource with an input whose value came from
//     it, if the provider's diff with that input unknown replaces (a
//     ForceNew input, ReplaceRule.When, replaceOnChanges): the engine
//     cannot know the value the replacement will have, even when the
//     program gives it the same one;
//   - a resource the program no longer registers is deleted;
//   - an update the provider turns into more (ReplaceRule.Versioned: a
//     launch template's new version; ReplaceRule.Refreshes: a group's
//     instance refresh) is marked so.
// A replaced resource gets new computed outputs (a new id, a new generated
// name), so what reads them changes too, as the engine's preview shows
// them unknown. Aliases and `pulumi up --replace` are not modelled.

// Step is what the engine does with one resource.
type Step string

// The engine's steps.
const (
	StepCreate  Step = "create"
	StepSame    Step = "same"
	StepUpdate  Step = "update"
	StepReplace Step = "replace"
	StepDelete  Step = "delete"
)

// Change is one resource's step on a run and the inputs that caused it.
type Change struct {
	Key  string // "type::name"
	Step Step
	// Changed are the changed input paths; Replacing those of them (or
	// "replacementTrigger") that force the replacement.
	Changed, Replacing []string
	// Refresh is set when the update replaces the resource's instances by
	// itself: an Auto Scaling group's instance refresh (ReplaceRule.Refreshes).
	Refresh bool
	// Dependent is set when the engine replaces the resource, delete
	// first, because an input came from a resource replaced delete first.
	Dependent bool
}

// NextRun returns mocks for the next `pulumi up` of the stack prev ran:
// the account's default answers, prev's stash state, and prev's resources
// as the state each registration is diffed against.
func NextRun(prev *Mocks) *Mocks {
	m := NewMocks()
	m.Stashes = maps.Clone(prev.Stashes)
	m.Generation = prev.Generation + 1
	m.Prior = map[string]Resource{}
	for _, r := range prev.Resources() {
		m.Prior[r.Key()] = r
	}
	return m
}

// Changes returns the step of every resource of this run and of the prior
// one, sorted by key: what the engine would do.
func (m *Mocks) Changes() []Change {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Change
	for _, c := range m.changes {
		out = append(out, c)
	}
	for k := range m.Prior {
		if _, ok := m.changes[k]; !ok {
			out = append(out, Change{Key: k, Step: StepDelete})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// replacementTrigger is the registration's replacementTrigger option, null
// when it has none.
func replacementTrigger(rpc *pulumirpc.RegisterResourceRequest) (resource.PropertyValue, error) {
	if rpc.GetReplacementTrigger() == nil {
		return resource.NewNullProperty(), nil
	}
	v, err := plugin.UnmarshalPropertyValue("replacementTrigger", rpc.GetReplacementTrigger(),
		plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	if err != nil || v == nil {
		return resource.NewNullProperty(), err
	}
	return *v, nil
}

// ignoreChanges is processIgnoreChanges: each path takes the old value.
func ignoreChanges(news, olds resource.PropertyMap, paths []string) resource.PropertyMap {
	if len(paths) == 0 {
		return news
	}
	out := news.Copy()
	for _, p := range paths {
		if path, err := resource.ParsePropertyPath(p); err == nil {
			path.Reset(olds, out)
		}
	}
	return out
}

// decide is the engine's step for r, registered again after old.
func (m *Mocks) decide(r Resource, old Resource, hasOld bool) (Change, error) {
	c := Change{Key: r.Key(), Step: StepCreate}
	if m.Prior == nil || !hasOld {
		return c, nil
	}
	if !r.Custom {
		c.Step = StepSame // a component has no provider and no diff
		return c, nil
	}
	rule, ok := ReplaceRules[r.Type]
	if !ok {
		return c, fmt.Errorf("%s %s: no replacement rule for this type (pulumimock/replace.go): add one from the provider's schema", r.Type, r.Name)
	}
	var changed []resource.PropertyPath
	diffPaths(nil, resource.NewObjectProperty(old.Inputs), resource.NewObjectProperty(r.Inputs), &changed)
	var topKeys []resource.PropertyKey
	for _, p := range changed {
		c.Changed = append(c.Changed, p.String())
		if k, ok := p[0].(string); ok && !slices.Contains(topKeys, resource.PropertyKey(k)) {
			topKeys = append(topKeys, resource.PropertyKey(k))
		}
	}
	replacing := map[string]bool{}
	for _, p := range changed {
		for _, f := range rule.ForceNew {
			fp, err := resource.ParsePropertyPath(f)
			if f == "*" || (err == nil && (fp.Contains(p) || p.Contains(fp))) {
				replacing[p.String()] = true
			}
		}
		for _, roc := range r.ReplaceOnChanges {
			if rp, err := resource.ParsePropertyPath(roc); err == nil && rp.Contains(p) {
				replacing[p.String()] = true
			}
		}
	}
	if rule.When != nil {
		for _, k := range rule.When(old.Inputs, r.Inputs, topKeys) {
			replacing[string(k)] = true
		}
	}
	for _, k := range m.dependentReplaceKeys(r, old, rule) {
		replacing[k] = true
		c.Dependent = true
	}
	if triggersReplace(r.ReplacementTrigger, old.ReplacementTrigger) {
		replacing["replacementTrigger"] = true
	}
	c.Replacing = slices.Sorted(maps.Keys(replacing))
	switch {
	case len(c.Replacing) > 0:
		c.Step = StepReplace
	case len(changed) > 0:
		c.Step = StepUpdate
	default:
		c.Step = StepSame
	}
	c.Refresh = c.Step == StepUpdate && rule.Refreshes != nil && rule.Refreshes(r.Inputs, changed)
	return c, nil
}

// dependentReplaceKeys are the inputs of r that make the engine replace it
// as the dependent of a delete-before-replace replacement
// (step_generator.go calculateDependentReplacements, requiresReplacement):
// each input whose property dependencies hold such a resource is taken as
// unknown and diffed.
func (m *Mocks) dependentReplaceKeys(r, old Resource, rule ReplaceRule) []string {
	m.mu.Lock()
	var keys []resource.PropertyKey
	for k, deps := range r.PropertyDependencies {
		if slices.ContainsFunc(deps, func(d string) bool { return m.deleteFirst[d] }) {
			keys = append(keys, resource.PropertyKey(k))
		}
	}
	m.mu.Unlock()
	var out []string
	for _, k := range keys {
		p := resource.PropertyPath{string(k)}
		forces := slices.ContainsFunc(append(slices.Clone(rule.ForceNew), r.ReplaceOnChanges...), func(f string) bool {
			fp, err := resource.ParsePropertyPath(f)
			return f == "*" || (err == nil && (fp.Contains(p) || p.Contains(fp)))
		})
		if !forces && rule.When != nil {
			news := r.Inputs.Copy()
			news[k] = resource.MakeComputed(resource.NewStringProperty(""))
			forces = len(rule.When(old.Inputs, news, []resource.PropertyKey{k})) > 0
		}
		if forces {
			out = append(out, string(k))
		}
	}
	slices.Sort(out)
	return out
}

// updateComputed sets the computed outputs an in-place update changes, in
// out, the outputs kept from old: a new version's number.
func updateComputed(c Change, old Resource, out resource.PropertyMap) {
	rule := ReplaceRules[old.Type]
	if c.Step != StepUpdate || len(rule.Versioned) == 0 {
		return
	}
	for _, p := range c.Changed {
		path, err := resource.ParsePropertyPath(p)
		if err != nil || !slices.Contains(rule.Versioned, fmt.Sprint(path[0])) {
			continue
		}
		if v := old.Outputs["latestVersion"]; v.IsNumber() {
			out["latestVersion"] = resource.NewNumberProperty(v.NumberValue() + 1)
		}
		return
	}
}

// diffPaths appends the paths where o and n differ: into objects, and into
// arrays of equal length, element by element, as a provider's detailed diff
// names them. Secrets compare by their values; absent equals null.
func diffPaths(prefix resource.PropertyPath, o, n resource.PropertyValue, out *[]resource.PropertyPath) {
	for o.IsSecret() {
		o = o.SecretValue().Element
	}
	for n.IsSecret() {
		n = n.SecretValue().Element
	}
	at := func(k any) resource.PropertyPath { return append(slices.Clone(prefix), k) }
	switch {
	case o.IsObject() && n.IsObject():
		oo, no := o.ObjectValue(), n.ObjectValue()
		keys := map[resource.PropertyKey]bool{}
		for k := range oo {
			keys[k] = true
		}
		for k := range no {
			keys[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			ov, ok := oo[k]
			if !ok {
				ov = resource.NewNullProperty()
			}
			nv, ok := no[k]
			if !ok {
				nv = resource.NewNullProperty()
			}
			diffPaths(at(string(k)), ov, nv, out)
		}
	case o.IsArray() && n.IsArray() && len(o.ArrayValue()) == len(n.ArrayValue()) && len(prefix) > 0:
		for i := range o.ArrayValue() {
			diffPaths(at(i), o.ArrayValue()[i], n.ArrayValue()[i], out)
		}
	case !o.DeepEquals(n) && len(prefix) > 0:
		*out = append(*out, prefix)
	}
}
