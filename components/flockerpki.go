package components

import (
	"fmt"
	"path"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi-tls/sdk/v5/go/tls"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/userdata"
)

// Flocker's certificate scheme (ClusterHQ/flocker flocker/ca/_ca.py): a CA
// whose subject OU is the cluster UUID; the control service's certificate
// has CN "control-service" and a DNS subjectAltName naming its host; node
// certificates have CN "node-<uuid>"; API clients have CN "user-<name>" and
// the clientAuth usage. Every certificate carries the cluster UUID as OU;
// keys are 4096-bit RSA and certificates last 20 years, as flocker-ca makes them.
const (
	flockerKeyBits       = 4096
	flockerValidityHours = 20 * 365 * 24
	flockerDir           = "/etc/flocker"
	// flockerPluginUser is the API user of the Docker plugin ("flocker-ca
	// create-api-certificate plugin" in the 2015 demo's generatecerts.sh).
	flockerPluginUser = "plugin"
)

// Where each Flocker file lives on a node and under which SSM parameter
// (relative to the role's prefix) it is stored. Certificates are public but
// travel the same way as keys so a node has one source for its credentials.
var (
	masterFlockerFiles = []flockerFile{
		{"cluster.crt", "0644"}, {"control-service.crt", "0644"}, {"control-service.key", "0600"},
	}
	agentFlockerFiles = []flockerFile{
		{"cluster.crt", "0644"}, {"plugin.crt", "0644"}, {"plugin.key", "0600"},
		{"node.crt", "0644"}, {"node.key", "0600"},
	}
)

type flockerFile struct{ name, mode string }

// agentParameter is the SSM name of an agent's file: node certificates are
// per agent, the rest is shared.
func agentParameter(prefix string, index int, file string) string {
	if file == "node.crt" || file == "node.key" {
		return path.Join(prefix, strconv.Itoa(index), file)
	}
	return path.Join(prefix, file)
}

// agentParameterOf is agentParameter over a prefix not yet known.
func agentParameterOf(prefix pulumi.StringInput, index int, file string) pulumi.StringOutput {
	return prefix.ToStringOutput().ApplyT(func(p string) string { return agentParameter(p, index, file) }).(pulumi.StringOutput)
}

// MasterSecretFiles lists the master's Flocker files for its user data.
func MasterSecretFiles(prefix string) []userdata.SecretFile {
	var out []userdata.SecretFile
	for _, f := range masterFlockerFiles {
		out = append(out, userdata.SecretFile{Parameter: path.Join(prefix, f.name), Path: path.Join(flockerDir, f.name), Mode: f.mode})
	}
	return out
}

// AgentSecretFiles lists agent index's Flocker files for its user data.
func AgentSecretFiles(prefix string, index int) []userdata.SecretFile {
	var out []userdata.SecretFile
	for _, f := range agentFlockerFiles {
		out = append(out, userdata.SecretFile{Parameter: agentParameter(prefix, index, f.name), Path: path.Join(flockerDir, f.name), Mode: f.mode})
	}
	return out
}

// FlockerPKIArgs configures the Flocker certificates.
type FlockerPKIArgs struct {
	ClusterName  string             // the CA's common name
	ClusterUUID  pulumi.StringInput // the CA's OU: Flocker's cluster id
	NodeUUIDs    []pulumi.StringInput
	ControlHost  string // the master's private IP
	MasterPrefix pulumi.StringInput
	AgentsPrefix pulumi.StringInput
	Tags         Tags
}

// FlockerPKI is Flocker's CA and every certificate the cluster needs, stored
// as SSM SecureStrings that only the owning role's instances can read. The
// private keys live in Pulumi state as secrets and nowhere in user data.
type FlockerPKI struct {
	pulumi.ResourceState

	// Parameters are the SSM parameters; instances wait for them.
	MasterParameters []pulumi.Resource
	AgentParameters  []pulumi.Resource
	CACertPEM        pulumi.StringOutput
}

// NewFlockerPKI creates the CA, the control service, node and plugin
// certificates and their SSM parameters.
func NewFlockerPKI(ctx *pulumi.Context, name string, args *FlockerPKIArgs, opts ...pulumi.ResourceOption) (*FlockerPKI, error) {
	p := &FlockerPKI{}
	if err := ctx.RegisterComponentResource(typeToken("FlockerPKI"), name, p, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(p)
	key := func(n string) (*tls.PrivateKey, error) {
		return tls.NewPrivateKey(ctx, name+"-"+n+"-key", &tls.PrivateKeyArgs{
			Algorithm: pulumi.String("RSA"),
			RsaBits:   pulumi.Int(flockerKeyBits),
		}, parent)
	}
	caKey, err := key("ca")
	if err != nil {
		return nil, err
	}
	ca, err := tls.NewSelfSignedCert(ctx, name+"-ca", &tls.SelfSignedCertArgs{
		PrivateKeyPem:       caKey.PrivateKeyPem,
		IsCaCertificate:     pulumi.Bool(true),
		ValidityPeriodHours: pulumi.Int(flockerValidityHours),
		AllowedUses:         pulumi.StringArray{pulumi.String("cert_signing"), pulumi.String("crl_signing")},
		Subject: &tls.SelfSignedCertSubjectArgs{
			CommonName:         pulumi.String(args.ClusterName),
			OrganizationalUnit: args.ClusterUUID,
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	p.CACertPEM = ca.CertPem

	type signed struct{ cert, key pulumi.StringOutput }
	sign := func(n string, cn pulumi.StringInput, dns, ips []string, uses ...string) (signed, error) {
		k, err := key(n)
		if err != nil {
			return signed{}, err
		}
		csr, err := tls.NewCertRequest(ctx, name+"-"+n+"-csr", &tls.CertRequestArgs{
			PrivateKeyPem: k.PrivateKeyPem,
			Subject:       &tls.CertRequestSubjectArgs{CommonName: cn, OrganizationalUnit: args.ClusterUUID},
			DnsNames:      pulumi.ToStringArray(dns),
			IpAddresses:   pulumi.ToStringArray(ips),
		}, parent)
		if err != nil {
			return signed{}, err
		}
		cert, err := tls.NewLocallySignedCert(ctx, name+"-"+n+"-cert", &tls.LocallySignedCertArgs{
			CertRequestPem:      csr.CertRequestPem,
			CaPrivateKeyPem:     caKey.PrivateKeyPem,
			CaCertPem:           ca.CertPem,
			ValidityPeriodHours: pulumi.Int(flockerValidityHours),
			AllowedUses:         pulumi.ToStringArray(uses),
		}, parent)
		if err != nil {
			return signed{}, err
		}
		return signed{cert.CertPem, k.PrivateKeyPem}, nil
	}
	// The agents reach the control service by the master's private IP, as
	// the demo did; Flocker's own clients verify the name "control-service".
	control, err := sign("control-service", pulumi.String("control-service"), []string{"control-service", args.ControlHost}, []string{args.ControlHost},
		"key_encipherment", "digital_signature", "server_auth", "client_auth")
	if err != nil {
		return nil, err
	}
	plugin, err := sign(flockerPluginUser, pulumi.String("user-"+flockerPluginUser), nil, nil, "key_encipherment", "digital_signature", "client_auth")
	if err != nil {
		return nil, err
	}

	param := func(n string, pname pulumi.StringInput, value pulumi.StringOutput, role string) (pulumi.Resource, error) {
		return ssm.NewParameter(ctx, name+"-"+n, &ssm.ParameterArgs{
			Name:        pname,
			Type:        pulumi.String("SecureString"),
			Value:       pulumi.ToSecret(value).(pulumi.StringOutput),
			Description: pulumi.String("Flocker credential of the marathon-ha " + role + " (read at boot by its instance profile)"),
			Tags:        args.Tags.For(role, args.Tags.Stack+"-flocker-"+n),
		}, parent)
	}
	values := map[string]pulumi.StringOutput{
		"cluster.crt": ca.CertPem, "control-service.crt": control.cert, "control-service.key": control.key,
		"plugin.crt": plugin.cert, "plugin.key": plugin.key,
	}
	for _, f := range masterFlockerFiles {
		r, err := param("master-"+f.name, args.MasterPrefix.ToStringOutput().ApplyT(func(prefix string) string { return path.Join(prefix, f.name) }).(pulumi.StringOutput), values[f.name], facts.RoleMaster)
		if err != nil {
			return nil, err
		}
		p.MasterParameters = append(p.MasterParameters, r)
	}
	for _, f := range []string{"cluster.crt", "plugin.crt", "plugin.key"} {
		r, err := param("agents-"+f, agentParameterOf(args.AgentsPrefix, 0, f), values[f], facts.RoleAgent)
		if err != nil {
			return nil, err
		}
		p.AgentParameters = append(p.AgentParameters, r)
	}
	for i, uuid := range args.NodeUUIDs {
		index := i + 1
		node, err := sign(fmt.Sprintf("node-%d", index), pulumi.Sprintf("node-%s", uuid), nil, nil, "key_encipherment", "digital_signature", "client_auth")
		if err != nil {
			return nil, err
		}
		for _, f := range []struct {
			rel   string
			value pulumi.StringOutput
		}{{"node.crt", node.cert}, {"node.key", node.key}} {
			r, err := param(fmt.Sprintf("agent-%d-%s", index, f.rel), agentParameterOf(args.AgentsPrefix, index, f.rel), f.value, facts.RoleAgent)
			if err != nil {
				return nil, err
			}
			p.AgentParameters = append(p.AgentParameters, r)
		}
	}
	if err := ctx.RegisterResourceOutputs(p, pulumi.Map{"caCertPem": p.CACertPEM}); err != nil {
		return nil, err
	}
	return p, nil
}
