package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
)

// registration is what the engine learns of a resource: its URN's parts
// and the aliases it declares.
type registration struct {
	typ, name string
	parent    resource.URN
	aliases   []*pulumirpc.Alias
}

// aliasRecorder is pulumimock's monitor, also recording each registration's
// parent and aliases, which pulumimock.Resource does not keep.
type aliasRecorder struct {
	*pulumimock.Mocks
	mu   sync.Mutex
	regs []registration
}

func (a *aliasRecorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if rpc := args.RegisterRPC; rpc != nil {
		a.mu.Lock()
		a.regs = append(a.regs, registration{args.TypeToken, args.Name, resource.URN(rpc.GetParent()), rpc.GetAliases()})
		a.mu.Unlock()
	}
	return a.Mocks.NewResource(args)
}

// urnOf is a resource's URN as the engine makes it: its type qualified by
// its parent's, except under the root stack (pulumi/pulumi
// sdk/go/common/resource/urn.go NewURN, CreateURN).
func urnOf(typ, name string, parent resource.URN) resource.URN {
	if parent != "" && parent.QualifiedType() == resource.RootStackType {
		parent = ""
	}
	return resource.CreateURN(name, typ, parent, facts.Project, "dev")
}

// engineAliases are the old URNs the engine matches a registration against,
// transcribed from pulumi/pulumi pkg/resource/deploy/step_generator.go at
// v3.259.0 (the same at the mirror's newest commit): collapseAliasToUrn
// fills an alias spec's missing name, type and parent with the resource's
// own (a parent that itself matched by alias stands for its old URN), and
// generateAliases adds, when the parent matched by alias, each alias under
// that old parent (inheritedChildAlias: a child named after its parent
// takes the parent's old name as prefix). matched maps a URN to the old URN
// it matched by alias.
func engineAliases(r registration, matched map[resource.URN]resource.URN) []resource.URN {
	collapse := func(a *pulumirpc.Alias_Spec) resource.URN {
		name, typ, parent := a.GetName(), a.GetType(), r.parent
		if name == "" {
			name = r.name
		}
		if typ == "" {
			typ = r.typ
		}
		if p := a.GetParentUrn(); p != "" {
			parent = resource.URN(p)
			if old, ok := matched[parent]; ok {
				parent = old
			}
		}
		if a.GetNoParent() || (parent != "" && parent.QualifiedType() == resource.RootStackType) {
			parent = ""
		}
		return urnOf(typ, name, parent)
	}
	inherited := func(typ, name string, parentAlias resource.URN) resource.URN {
		if after, ok := strings.CutPrefix(name, r.parent.Name()); ok {
			name = parentAlias.Name() + after
		}
		return resource.NewURN("dev", facts.Project, parentAlias.QualifiedType(), tokens.Type(typ), name)
	}
	var out []resource.URN
	for _, a := range r.aliases {
		if spec := a.GetSpec(); spec != nil {
			out = append(out, collapse(spec))
		} else {
			out = append(out, resource.URN(a.GetUrn()))
		}
	}
	if parentAlias, ok := matched[r.parent]; ok {
		own := out
		out = append(out, inherited(r.typ, r.name, parentAlias))
		for _, u := range own {
			out = append(out, inherited(string(u.Type()), u.Name(), parentAlias))
		}
	}
	return out
}

// TestUpgradeOfAOneMasterStackKeepsItsMaster: a stack made before masters
// were counted has one Master component whose instance (and, with Flocker,
// role, policy and instance profile) the engine knows by these URNs (the
// program at commit b76b782). The Masters component and its first master
// must match them, through aliases the engine resolves as it does, so that
// `pulumi up` with the default masterCount 1 replaces nothing: a new master
// would start with an empty ZooKeeper, without Marathon's app or Mesos's
// registry. (That its user data is unchanged too is
// userdata's master-*.golden, unchanged by multi-master rendering.)
func TestUpgradeOfAOneMasterStackKeepsItsMaster(t *testing.T) {
	const cluster = "marathon-ha:index:Cluster"
	old := func(typ, name string) resource.URN {
		return resource.URN("urn:pulumi:dev::marathon-ha::" + cluster + "$" + typ + "::" + name)
	}
	master := "marathon-ha:index:Master"
	want := []resource.URN{
		old(master, "marathon-ha-master"),
		old(master+"$aws:ec2/instance:Instance", "marathon-ha-master"),
		old(master+"$aws:iam/role:Role", "marathon-ha-master-role"),
		old(master+"$aws:iam/rolePolicy:RolePolicy", "marathon-ha-master-policy"),
		old(master+"$aws:iam/instanceProfile:InstanceProfile", "marathon-ha-master-profile"),
		old("marathon-ha:index:Network$aws:ec2/subnetCidrReservation:SubnetCidrReservation", "marathon-ha-network-master-address"),
	}
	rec := &aliasRecorder{Mocks: pulumimock.NewMocks()}
	cfg := map[string]string{}
	for k, v := range flockerConfig() {
		if !strings.Contains(k, ":") {
			k = facts.Project + ":" + k
		}
		cfg[k] = v
	}
	err := pulumimock.RunErr(program, rec.Mocks, pulumi.WithMocks(facts.Project, "dev", rec), func(info *pulumi.RunInfo) { info.Config = cfg })
	if err != nil {
		t.Fatal(err)
	}
	// Parents register before their children; resolve in that order.
	byURN := map[resource.URN]registration{}
	for _, r := range rec.regs {
		byURN[urnOf(r.typ, r.name, r.parent)] = r
	}
	matched := map[resource.URN]resource.URN{}
	claimed := map[resource.URN]resource.URN{}
	var resolve func(u resource.URN)
	resolve = func(u resource.URN) {
		r, ok := byURN[u]
		if !ok {
			return
		}
		if _, done := claimed[u]; done {
			return
		}
		resolve(r.parent)
		claimed[u] = u
		for _, w := range want {
			if w == u {
				return // unchanged: matched as it is
			}
		}
		for _, a := range engineAliases(r, matched) {
			for _, w := range want {
				if a == w {
					matched[u], claimed[u] = w, w
					return
				}
			}
		}
	}
	for u := range byURN {
		resolve(u)
	}
	for _, w := range want {
		found := false
		for u, got := range claimed {
			if got == w {
				found = true
				if u != w {
					t.Logf("%s\n  is now %s", w, u)
				}
			}
		}
		if !found {
			t.Errorf("no resource of a one-master stack matches %s: `pulumi up` would delete it and create another", w)
		}
	}
}
