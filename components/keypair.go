package components

import (
	"fmt"

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

// NewKeyPair imports the public key, or refers to the named key pair.
func NewKeyPair(ctx *pulumi.Context, name string, args *KeyPairArgs, opts ...pulumi.ResourceOption) (*KeyPair, error) {
	k := &KeyPair{}
	if err := ctx.RegisterComponentResource(typeToken("KeyPair"), name, k, opts...); err != nil {
		return nil, err
	}
	switch {
	case args.PublicKey != "":
		kp, err := ec2.NewKeyPair(ctx, name+"-imported", &ec2.KeyPairArgs{
			KeyNamePrefix: args.NamePrefix,
			PublicKey:     pulumi.String(args.PublicKey),
			Tags:          args.Tags.For(facts.RoleAccess, args.Tags.Stack+"-ssh"),
		}, pulumi.Parent(k))
		if err != nil {
			return nil, err
		}
		k.KeyName = kp.KeyName
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
