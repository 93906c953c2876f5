// Package pulumimock runs the marathon-ha program under Pulumi's mocks and
// records what it registers, so tests can assert on the resource graph
// (types, names, properties, parents, dependencies, options) and the stack
// outputs without a cloud, a CLI or plugins.
package pulumimock

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource is one registered resource.
type Resource struct {
	Type, Name string
	Custom     bool
	Inputs     resource.PropertyMap
	// Parent is the parent's "type::name", empty for the stack.
	Parent              string
	Dependencies        []string // "type::name" of each explicit dependency
	DeleteBeforeReplace bool
	IgnoreChanges       []string
	// DeletedWith is the "type::name" of the resource whose deletion
	// deletes this one (the deletedWith option), empty if none.
	DeletedWith string
	// PropertyDependencies are, per input, the "type::name" of the
	// resources its value came from.
	PropertyDependencies map[string][]string
	// ReplaceOnChanges and ReplacementTrigger are the resource options of
	// those names (a null trigger when none).
	ReplaceOnChanges   []string
	ReplacementTrigger resource.PropertyValue
	// ID and Outputs are what the mock answered.
	ID      string
	Outputs resource.PropertyMap
}

// Key is the resource's "type::name".
func (r Resource) Key() string { return r.Type + "::" + r.Name }

// Input returns an input as a plain Go value (secrets unwrapped).
func (r Resource) Input(key string) any {
	v, ok := r.Inputs[resource.PropertyKey(key)]
	if !ok {
		return nil
	}
	return Plain(v)
}

// String returns a string input, or "" when it is unset or not a string.
func (r Resource) String(key string) string {
	s, _ := r.Input(key).(string)
	return s
}

// IsSecret reports whether an input is marked secret.
func (r Resource) IsSecret(key string) bool {
	v, ok := r.Inputs[resource.PropertyKey(key)]
	return ok && v.ContainsSecrets()
}

// Plain converts a property value to plain Go values, unwrapping secrets
// and outputs.
func Plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return Plain(v.SecretValue().Element)
	case v.IsOutput():
		return Plain(v.OutputValue().Element)
	case v.IsComputed():
		return nil
	case v.IsObject():
		m := map[string]any{}
		for k, e := range v.ObjectValue() {
			m[string(k)] = Plain(e)
		}
		return m
	case v.IsArray():
		var a []any
		for _, e := range v.ArrayValue() {
			a = append(a, Plain(e))
		}
		return a
	default:
		return v.Mappable()
	}
}

// Mocks answers Pulumi's resource and invoke calls with plausible AWS
// values, and records every registration.
type Mocks struct {
	// Zones, Offerings and Images are the tables getAvailabilityZones,
	// getInstanceTypeOfferings and getAmi answer from (invokes.go); Now is
	// the time that decides which images are deprecated.
	Zones     []Zone
	Offerings map[string][]string // zone name -> instance types offered there
	Images    []Image
	Now       time.Time
	// Stashes is the recorded state of pulumi:index:Stash resources by
	// logical name (stash.go). Pass one run's map to the next run's mocks
	// to model an update of the same stack.
	Stashes map[string]StashState
	// Account is what the preflight's data sources read (account.go).
	Account Account
	// KeyPairs are the existing key pairs getKeyPair finds.
	KeyPairs []string
	// DeployStdout is what the deploy command prints, as deploy-app would.
	DeployStdout string

	// Prior are the resources of the stack's previous run by Key(), and
	// Generation counts the runs before this one (NextRun sets both):
	// each registration is then diffed against its prior self (steps.go).
	Prior      map[string]Resource
	Generation int

	mu        sync.Mutex
	resources []Resource
	instances int
	changes   map[string]Change
	// deleteFirst are the resources this run replaces delete-before-replace,
	// by Key(): by their own option or as the dependent of one (steps.go).
	deleteFirst map[string]bool
}

// NewMocks returns mocks of an account in us-east-1 with three
// Availability Zones and two Local Zones (invokes.go).
func NewMocks() *Mocks {
	return &Mocks{
		Zones:        defaultZones(),
		Offerings:    defaultOfferings(),
		Images:       defaultImages(),
		Account:      defaultAccount(),
		Now:          time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
		DeployStdout: `{"appId":"/marathon-ha/moby-counter","version":"2026-11-24T10:00:00.000Z","taskHost":"10.42.1.101","taskId":"marathon-ha_moby-counter.1","changed":true}`,
	}
}

// Resources returns what was registered, in order.
func (m *Mocks) Resources() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Resource(nil), m.resources...)
}

// urnKey turns a URN into "type::name".
func urnKey(urn string) string {
	if urn == "" {
		return ""
	}
	parts := strings.Split(urn, "::")
	if len(parts) < 4 {
		return urn
	}
	qualified := parts[len(parts)-2]
	t := qualified[strings.LastIndex(qualified, "$")+1:]
	return t + "::" + parts[len(parts)-1]
}

// digest is a short stable hash, standing in for provider-made randomness.
func digest(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(h[:])
}

// NewResource implements pulumi.MockResourceMonitor. It refuses, as the
// AWS provider would at preview, inputs that break a rule of InputRules
// (validate.go) and any aws:* type without rules; a refused registration
// fails the run and is not recorded. With Prior set (NextRun), it also
// decides the engine's step for the resource (steps.go) and keeps the
// outputs of a resource that is not replaced.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom}
	stack := ""
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = urnKey(rpc.GetParent())
		for _, d := range rpc.GetDependencies() {
			r.Dependencies = append(r.Dependencies, urnKey(d))
		}
		r.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
		r.IgnoreChanges = rpc.GetIgnoreChanges()
		r.ReplaceOnChanges = rpc.GetReplaceOnChanges()
		r.DeletedWith = urnKey(rpc.GetDeletedWith())
		for k, deps := range rpc.GetPropertyDependencies() {
			if r.PropertyDependencies == nil {
				r.PropertyDependencies = map[string][]string{}
			}
			for _, d := range deps.GetUrns() {
				r.PropertyDependencies[k] = append(r.PropertyDependencies[k], urnKey(d))
			}
		}
		stack = rpc.GetParent()
		trigger, err := replacementTrigger(rpc)
		if err != nil {
			return "", nil, err
		}
		r.ReplacementTrigger = trigger
	}
	old, hasOld := m.Prior[r.Key()]
	if hasOld {
		args.Inputs = ignoreChanges(args.Inputs, old.Inputs, r.IgnoreChanges)
	}
	r.Inputs = args.Inputs
	if err := ValidateInputs(args.TypeToken, args.Name, args.Inputs); err != nil {
		return "", nil, err
	}
	if args.TypeToken == stashType {
		if err := checkStash(args.Inputs); err != nil {
			return "", nil, err
		}
	}
	change, err := m.decide(r, old, hasOld)
	if err != nil {
		return "", nil, err
	}

	m.mu.Lock()
	n := m.instances
	if args.TypeToken == "aws:ec2/instance:Instance" {
		m.instances++
	}
	gen := m.Generation
	m.mu.Unlock()

	out := args.Inputs.Copy()
	id := args.Name + "-id"
	if gen > 0 {
		id = fmt.Sprintf("%s-id-g%d", args.Name, gen)
	}
	set := func(k string, v any) { out[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	// The random provider's values differ per stack, as real ones would,
	// and per generation: a replaced resource gets new ones.
	seed := digest(stack, args.Name)
	if gen > 0 {
		seed = digest(stack, args.Name, strconv.Itoa(gen))
	}
	generated := fmt.Sprintf("202611240000000000000%05d", gen+1) // the provider's unique suffix
	kept := hasOld && (change.Step == StepSame || change.Step == StepUpdate)
	switch {
	case args.TypeToken == stashType:
		o, err := m.stash(args)
		if err != nil {
			return "", nil, err
		}
		out = o
		if hasOld {
			id = old.ID
		}
	case kept:
		// Same or updated: the computed outputs and the id stay.
		id = old.ID
		for k, v := range old.Outputs {
			if _, ok := out[k]; !ok {
				out[k] = v
			}
		}
		updateComputed(change, old, out)
	default:
		switch args.TypeToken {
		case "aws:ec2/instance:Instance":
			id = fmt.Sprintf("i-%017x", gen<<16+n+1)
			if ip := r.String("privateIp"); ip == "" {
				set("privateIp", fmt.Sprintf("10.42.1.%d", 101+40*gen+n))
			}
			set("publicIp", fmt.Sprintf("198.51.100.%d", 10+40*gen+n))
		case tLaunchTemplate:
			id = "lt-0" + seed[:16]
			set("latestVersion", 1)
		case tGroup:
			// name_prefix and a unique suffix, as for the key pair.
			set("name", r.String("namePrefix")+generated)
			id = r.String("namePrefix") + generated
		case "aws:elb/loadBalancer:LoadBalancer":
			set("dnsName", r.String("name")+"-1234567890.us-east-1.elb.amazonaws.com")
		case "aws:ec2/keyPair:KeyPair":
			// key_name is the given name, or the prefix and a unique suffix
			// (terraform-provider-aws ec2_key_pair.go, create.Name).
			if r.String("keyName") == "" {
				set("keyName", r.String("keyNamePrefix")+generated)
			}
		case "aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile":
			set("name", r.String("namePrefix")+generated)
			set("arn", "arn:aws:iam::123456789012:role/"+r.String("namePrefix")+generated)
		case "random:index/randomId:RandomId":
			set("hex", seed[:8])
		case "random:index/randomUuid:RandomUuid":
			set("result", fmt.Sprintf("%s-%s-4%s-8%s-%s", seed[:8], seed[8:12], seed[13:16], seed[17:20], seed[20:32]))
		case "tls:index/privateKey:PrivateKey":
			set("privateKeyPem", "-----BEGIN RSA PRIVATE KEY-----\n"+seed+"\n-----END RSA PRIVATE KEY-----\n")
		case "tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert":
			set("certPem", "-----BEGIN CERTIFICATE-----\n"+seed+"\n-----END CERTIFICATE-----\n")
		case "tls:index/certRequest:CertRequest":
			set("certRequestPem", "-----BEGIN CERTIFICATE REQUEST-----\n"+seed+"\n-----END CERTIFICATE REQUEST-----\n")
		case "command:local:Command":
			if r.String("create") != "" {
				set("stdout", m.DeployStdout)
			} else {
				set("stdout", "")
			}
		}
	}
	if args.TypeToken == stashType {
		change.Step = Step(m.Stashes[args.Name].Step)
	}
	r.ID, r.Outputs = id, out
	m.mu.Lock()
	m.resources = append(m.resources, r)
	if m.changes == nil {
		m.changes = map[string]Change{}
	}
	m.changes[r.Key()] = change
	if change.Step == StepReplace && (r.DeleteBeforeReplace || change.Dependent) {
		if m.deleteFirst == nil {
			m.deleteFirst = map[string]bool{}
		}
		m.deleteFirst[r.Key()] = true
	}
	m.mu.Unlock()
	return id, out, nil
}

// dataSources answer the data sources modelled from their tables
// (invokes.go, account.go), by invoke token.
var dataSources = map[string]func(*Mocks, resource.PropertyMap) (map[string]any, error){
	// The stack's existing nodes and who holds the masters' addresses (account_nodes.go).
	"aws:ec2/getInstances:getInstances":                         (*Mocks).getInstances,
	"aws:ec2/getInstance:getInstance":                           (*Mocks).lookupInstance,
	"aws:ec2/getSubnets:getSubnets":                             (*Mocks).getSubnets,
	"aws:ec2/getNetworkInterfaces:getNetworkInterfaces":         (*Mocks).getNetworkInterfaces,
	"aws:ec2/getNetworkInterface:getNetworkInterface":           (*Mocks).lookupNetworkInterface,
	"aws:index/getAvailabilityZones:getAvailabilityZones":       (*Mocks).availabilityZones,
	"aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": (*Mocks).instanceTypeOfferings,
	"aws:ec2/getAmi:getAmi":                                     (*Mocks).ami,
	"aws:ebs/getEncryptionByDefault:getEncryptionByDefault":     (*Mocks).encryptionByDefault,
	"aws:ebs/getDefaultKmsKey:getDefaultKmsKey":                 (*Mocks).defaultKmsKey,
	"aws:ec2/getVpcs:getVpcs":                                   (*Mocks).vpcs,
	"aws:servicequotas/getServiceQuota:getServiceQuota":         (*Mocks).serviceQuota,
	"aws:ec2/getInstanceType:getInstanceType":                   (*Mocks).instanceType,
}

// Call implements pulumi.MockResourceMonitor for the data sources used.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if answerFrom, ok := dataSources[args.Token]; ok {
		return answer(answerFrom(m, args.Args))
	}
	// The arguments these data sources take that the answers below model
	// (terraform-provider-aws sts_caller_identity_data_source.go: none;
	// partition_data_source.go: none; ec2_key_pair_data_source.go:
	// key_name, the only one the program sends).
	known := map[string][]string{"aws:index/getCallerIdentity:getCallerIdentity": nil, "aws:index/getPartition:getPartition": nil, "aws:ec2/getKeyPair:getKeyPair": {"keyName"}}
	if names, ok := known[args.Token]; ok {
		if _, err := newCallArgs(args.Token, args.Args, names...); err != nil {
			return nil, err
		}
	}
	out := map[string]any{}
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		out["accountId"] = "123456789012"
		out["arn"] = "arn:aws:iam::123456789012:user/operator"
		out["userId"] = "AIDAEXAMPLE"
		out["id"] = "123456789012"
	case "aws:index/getPartition:getPartition":
		out["partition"] = "aws"
		out["dnsSuffix"] = "amazonaws.com"
		out["id"] = "aws"
	case "aws:ec2/getKeyPair:getKeyPair":
		name, _ := args.Args["keyName"].V.(string)
		for _, k := range m.KeyPairs {
			if k == name {
				out["keyName"] = name
				out["id"] = "key-0123456789abcdef0"
				return resource.NewPropertyMapFromMap(out), nil
			}
		}
		return nil, fmt.Errorf("InvalidKeyPair.NotFound: The key pair '%s' does not exist", name)
	default:
		// Echoing the arguments back would answer a data source the mocks
		// know nothing about with the wrong shape; model it first.
		return nil, fmt.Errorf("pulumimock: data source %s is not modelled; add it to invokes.go or account.go from the provider's source", args.Token)
	}
	return resource.NewPropertyMapFromMap(out), nil
}

// answer turns a data source's result into an invoke's.
func answer(out map[string]any, err error) (resource.PropertyMap, error) {
	if err != nil {
		return nil, err
	}
	return resource.NewPropertyMapFromMap(out), nil
}
