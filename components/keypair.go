package components

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// KeyPairArgs selects the SSH key pair: exactly one of Name (an existing EC2
// key pair) and PublicKey (imported as a new one).
type KeyPairArgs struct {
	Name       string
	PublicKey  string
	NamePrefix pulumi.StringInput
	Tags       Tags
}

// KeyPair is the EC2 key pair the nodes accept for SSH.
type KeyPair struct {
	pulumi.ResourceState

	KeyName pulumi.StringOutput
}

// LookupKeyPairName checks that an existing key pair is in the region, so a
// typo fails in preview, before any resource exists, not at instance launch.
func LookupKeyPairName(ctx *pulumi.Context, name string) error {
	if _, err := ec2.LookupKeyPair(ctx, &ec2.LookupKeyPairArgs{KeyName: pulumi.StringRef(name)}); err != nil {
		return fmt.Errorf("looking up EC2 key pair %q (config %s:keyName): %w; create it or import one with `pulumi config set publicKey`", name, facts.Project, err)
	}
	return nil
}

// stableKeyName is the imported key pair's name: its name prefix without
// the trailing hyphen, "<stack>-<cluster id>-ssh".
func stableKeyName(prefix string) string { return strings.TrimSuffix(prefix, "-") }

// NewKeyPair imports the public key, or refers to the named key pair.
//
// An imported key pair keeps its name when publicKey is rotated, so no node
// is replaced: an instance's key_name forces a new instance, while
// public_key forces only a new key pair (terraform-provider-aws
// ec2_instance.go and ec2_key_pair.go, ForceNew). A name made from a prefix
// would be new with each key pair, and every node, masters and their
// ZooKeeper state included, would follow it. The same name cannot exist
// twice, so the old key pair is deleted before its replacement is imported
// (deleteBeforeReplace); deleting a key pair changes no running instance.
// The nodes keep the key they booted with (EC2 hands the key to a node only
// at its first boot), so rotating means adding the new key to the running
// nodes' ~/.ssh/authorized_keys with the old one; nodes launched later get
// the new key.
//
// Stacks made before this named their key pair from a prefix: ignoring
// changes to keyName and keyNamePrefix puts their recorded inputs back
// (pulumi/pulumi step_generator.go processIgnoreChanges), so the upgrade
// changes nothing there, and their key pair keeps a generated name (its
// rotation still replaces every node).
func NewKeyPair(ctx *pulumi.Context, name string, args *KeyPairArgs, opts ...pulumi.ResourceOption) (*KeyPair, error) {
	k := &KeyPair{}
	if err := ctx.RegisterComponentResource(typeToken("KeyPair"), name, k, opts...); err != nil {
		return nil, err
	}
	switch {
	case args.PublicKey != "":
		kp, err := ec2.NewKeyPair(ctx, name+"-imported", &ec2.KeyPairArgs{
			KeyName:   args.NamePrefix.ToStringOutput().ApplyT(stableKeyName).(pulumi.StringOutput),
			PublicKey: pulumi.String(args.PublicKey),
			Tags:      args.Tags.For(facts.RoleAccess, args.Tags.Stack+"-ssh"),
		}, pulumi.Parent(k), pulumi.DeleteBeforeReplace(true), pulumi.IgnoreChanges([]string{"keyName", "keyNamePrefix"}))
		if err != nil {
			return nil, err
		}
		// The nodes read the name through a stash, not from the key pair.
		// The pair is replaced delete-first, and the engine then replaces
		// first every resource with an input taken from it whose diff,
		// with that input unknown, replaces: an instance's key_name is
		// ForceNew, so every master and Flocker agent would go, though the
		// name stays (pulumi/pulumi pkg/v3.259.0 resource/deploy/
		// step_generator.go calculateDependentReplacements). A stash's diff
		// never replaces (builtins.go Diff), so the dependency stops there;
		// its trigger, the name, hands a new name on (a switch to keyName
		// replaces the stash, then the nodes, as before).
		kept, err := stashString(ctx, name+"-key-name", kp.KeyName, kp.KeyName, k)
		if err != nil {
			return nil, err
		}
		k.KeyName = kept
	case args.Name != "":
		// Checked to exist by LookupKeyPairName before any resource.
		k.KeyName = pulumi.String(args.Name).ToStringOutput()
	default:
		return nil, fmt.Errorf("key pair %s: neither a key name nor a public key given", name)
	}
	if err := ctx.RegisterResourceOutputs(k, pulumi.Map{"keyName": k.KeyName}); err != nil {
		return nil, err
	}
	return k, nil
}
