// Package config turns the stack's Pulumi config into one typed, validated
// Config before any resource is registered. Every rejected value is reported
// with its key, the value and what is allowed.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Images are the container images and plugin the nodes run.
type Images struct {
	ZooKeeper, MesosMaster, MesosAgent, MesosExecutor, Marathon string
	FlockerControl, FlockerDatasetAgent, FlockerDockerPlugin    string
	RexRayPlugin, App                                           string
	AWSCLI                                                      string // the masters' fencer's EC2 client
}

// Config is the validated configuration of one stack.
type Config struct {
	Region               string
	Profile              string // aws:profile, "" when unset (the provider then uses its default chain)
	AvailabilityZone     string // empty: the region's first available zone
	MasterCount          int    // one of facts.MasterCounts
	AgentCount           int
	MasterInstanceType   string
	AgentInstanceType    string
	KeyName              string // exactly one of KeyName and PublicKey
	PublicKey            string
	OperatorCIDR         string
	WideOperatorCIDR     bool // operatorCidrIsWide: an operatorCidr broader than MinOperatorPrefixBits is meant
	ExposeFlockerAPI     bool
	AMIID                string // empty: look up by AMIOwner and AMINameFilter
	AMIOwner             string
	AMINameFilter        string
	RootVolumeGiB        int
	VolumeDriver         string
	AppPort              int
	AppManifestPath      string
	AgentPingTimeout     time.Duration
	MaxAgentPingTimeouts int
	SelfFenceAfter       time.Duration // selfFenceSeconds
	Images               Images
	// ConfirmVolumeDriverSwitch names the driver a switch of volumeDriver
	// goes to, confirming the loss of the app's data; "" when unset.
	ConfirmVolumeDriverSwitch string
}

// Getter returns a config value and whether it is set. Keys are as in Keys;
// the AWS provider's are asked for as "aws:region" and "aws:profile".
type Getter func(key string) (string, bool)

// FromMap is a Getter over a map, for tests and tools.
func FromMap(m map[string]string) Getter {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok && v != "" }
}

// Parse reads and validates every key, and reports all problems at once.
func Parse(get Getter) (Config, error) {
	p := parser{get: get}
	c := Config{
		Region:               p.str(KeyRegion),
		Profile:              p.str(KeyProfile),
		AvailabilityZone:     p.str(KeyAvailabilityZone),
		MasterCount:          p.integer(KeyMasterCount),
		AgentCount:           p.integer(KeyAgentCount),
		MasterInstanceType:   p.str(KeyMasterInstanceType),
		AgentInstanceType:    p.str(KeyAgentInstanceType),
		KeyName:              p.str(KeyKeyName),
		PublicKey:            strings.TrimSpace(p.str(KeyPublicKey)),
		OperatorCIDR:         p.str(KeyOperatorCIDR),
		WideOperatorCIDR:     p.boolean(KeyOperatorCIDRIsWide),
		ExposeFlockerAPI:     p.boolean(KeyExposeFlockerAPI),
		AMIID:                p.str(KeyAMIID),
		AMIOwner:             p.str(KeyAMIOwner),
		AMINameFilter:        p.str(KeyAMINameFilter),
		RootVolumeGiB:        p.integer(KeyRootVolumeSize),
		VolumeDriver:         p.str(KeyVolumeDriver),
		AppPort:              p.integer(KeyAppPort),
		AppManifestPath:      p.str(KeyAppManifest),
		AgentPingTimeout:     time.Duration(p.integer(KeyAgentPingTimeout)) * time.Second,
		MaxAgentPingTimeouts: p.integer(KeyMaxAgentPingTimeouts),
		SelfFenceAfter:       time.Duration(p.integer(KeySelfFence)) * time.Second,
		Images: Images{
			ZooKeeper:           p.str(KeyZooKeeperImage),
			MesosMaster:         p.str(KeyMesosMasterImage),
			MesosAgent:          p.str(KeyMesosAgentImage),
			MesosExecutor:       p.str(KeyMesosExecutorImage),
			Marathon:            p.str(KeyMarathonImage),
			FlockerControl:      p.str(KeyFlockerControlImage),
			FlockerDatasetAgent: p.str(KeyFlockerAgentImage),
			FlockerDockerPlugin: p.str(KeyFlockerPluginImage),
			RexRayPlugin:        p.str(KeyRexRayPlugin),
			App:                 p.str(KeyAppImage),
			AWSCLI:              p.str(KeyAWSCLIImage),
		},
		ConfirmVolumeDriverSwitch: p.str(KeyConfirmVolumeDriverSwitch),
	}
	if len(p.errs) == 0 {
		p.errs = append(p.errs, c.validate()...)
		p.errs = append(p.errs, c.validateDayTwo()...)
	}
	if len(p.errs) > 0 {
		return Config{}, fmt.Errorf("invalid stack config:\n  %w", joinIndented(p.errs))
	}
	return c, nil
}

// Error is one rejected config value.
type Error struct {
	Key, Value, Problem string
}

func (e *Error) Error() string {
	key := e.Key
	if !strings.Contains(key, ":") {
		key = facts.Project + ":" + key
	}
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", key, e.Problem)
	}
	return fmt.Sprintf("%s = %q: %s", key, e.Value, e.Problem)
}

func bad(key, value, format string, args ...any) error {
	return &Error{Key: key, Value: value, Problem: fmt.Sprintf(format, args...)}
}

type parser struct {
	get  Getter
	errs []error
}

func (p *parser) str(key string) string {
	if v, ok := p.get(key); ok {
		return strings.TrimSpace(v)
	}
	if key == KeyRegion || key == KeyProfile {
		return "" // the provider's keys have no project default
	}
	return DefaultOf(key)
}

func (p *parser) integer(key string) int {
	s := p.str(key)
	n, err := strconv.Atoi(s)
	if err != nil {
		p.errs = append(p.errs, bad(key, s, "must be a whole number"))
	}
	return n
}

func (p *parser) boolean(key string) bool {
	s := p.str(key)
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.errs = append(p.errs, bad(key, s, "must be true or false"))
	}
	return b
}

var (
	// regionRE matches commercial, GovCloud and China region names.
	regionRE       = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)
	instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	amiRE          = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
	accountRE      = regexp.MustCompile(`^[0-9]{12}$`)
	// imageRE wants a tag or a digest: a pinned reference.
	imageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$`)
)

func (c Config) validate() []error {
	var errs []error
	add := func(err error) { errs = append(errs, err) }

	switch {
	case c.Region == "":
		add(bad(KeyRegion, "", "is not set; run `pulumi config set aws:region us-east-1` (or your region)"))
	case !regionRE.MatchString(c.Region):
		add(bad(KeyRegion, c.Region, "is not an AWS region name such as us-east-1"))
	case c.AvailabilityZone != "" && !strings.HasPrefix(c.AvailabilityZone, c.Region) || c.AvailabilityZone != "" && len(c.AvailabilityZone) != len(c.Region)+1:
		add(bad(KeyAvailabilityZone, c.AvailabilityZone, "is not a zone of region %s (e.g. %sa); unset it to use the first available zone", c.Region, c.Region))
	}
	if !slices.Contains(facts.MasterCounts, c.MasterCount) {
		add(bad(KeyMasterCount, strconv.Itoa(c.MasterCount), "must be %s: ZooKeeper and the Mesos masters' replicated log need a majority of the masters, so an even count survives no more failures than the odd count below it", masterCounts()))
	}
	if c.AgentCount < 2 || c.AgentCount > MaxAgentCount {
		add(bad(KeyAgentCount, strconv.Itoa(c.AgentCount), "must be from 2 to %d: failover needs a second agent to move the app to", MaxAgentCount))
	}
	for key, t := range map[string]string{KeyMasterInstanceType: c.MasterInstanceType, KeyAgentInstanceType: c.AgentInstanceType} {
		if !instanceTypeRE.MatchString(t) {
			add(bad(key, t, "is not an EC2 instance type such as %s", DefaultInstanceType))
		}
	}
	if err := c.checkNitroAgents(); err != nil {
		add(err)
	}
	switch {
	case c.KeyName != "" && c.PublicKey != "":
		add(bad(KeyKeyName, c.KeyName, "and %s:%s are both set; set exactly one (`pulumi config rm` the other)", facts.Project, KeyPublicKey))
	case c.KeyName == "" && c.PublicKey == "":
		add(bad(KeyKeyName, "", "set exactly one of keyName (an existing EC2 key pair) and publicKey (e.g. `pulumi config set publicKey \"$(cat ~/.ssh/id_ed25519.pub)\"`)"))
	case c.KeyName != "" && (len(c.KeyName) > 255 || strings.TrimFunc(c.KeyName, func(r rune) bool { return r < 0x20 || r > 0x7e }) != c.KeyName):
		add(bad(KeyKeyName, c.KeyName, "must be 1 to 255 printable ASCII characters"))
	case c.PublicKey != "":
		if err := checkPublicKey(c.PublicKey); err != nil {
			add(bad(KeyPublicKey, abbreviate(c.PublicKey), "%v", err))
		}
	}
	if err := checkOperatorCIDR(c.OperatorCIDR); err != nil {
		add(bad(KeyOperatorCIDR, c.OperatorCIDR, "%v", err))
	} else if err := c.checkOperatorCIDRBreadth(); err != nil {
		add(err)
	}
	if err := checkZooKeeperImage(c.Images.ZooKeeper); err != nil {
		add(err)
	}
	if c.ExposeFlockerAPI && c.VolumeDriver != facts.VolumeDriverFlocker {
		add(bad(KeyExposeFlockerAPI, "true", "only applies with volumeDriver flocker"))
	}
	if c.AMIID != "" && !amiRE.MatchString(c.AMIID) {
		add(bad(KeyAMIID, c.AMIID, "is not an AMI id such as ami-0123456789abcdef0"))
	}
	if c.AMIID == "" && !accountRE.MatchString(c.AMIOwner) && !slices.Contains([]string{"self", "amazon", "aws-marketplace"}, c.AMIOwner) {
		add(bad(KeyAMIOwner, c.AMIOwner, "must be a 12-digit account id, self, amazon or aws-marketplace"))
	}
	if c.RootVolumeGiB < MinRootVolumeGiB || c.RootVolumeGiB > 1024 {
		add(bad(KeyRootVolumeSize, strconv.Itoa(c.RootVolumeGiB), "must be from %d to 1024 GiB", MinRootVolumeGiB))
	}
	if !slices.Contains(facts.VolumeDrivers, c.VolumeDriver) {
		add(bad(KeyVolumeDriver, c.VolumeDriver, "must be one of %s", strings.Join(facts.VolumeDrivers, ", ")))
	}
	switch {
	case c.AppPort < facts.AgentPortRangeStart || c.AppPort > facts.AgentPortRangeEnd:
		add(bad(KeyAppPort, strconv.Itoa(c.AppPort), "must be within the ports the Mesos agents offer, %d-%d", facts.AgentPortRangeStart, facts.AgentPortRangeEnd))
	case slices.Contains(facts.ReservedPorts, c.AppPort):
		add(bad(KeyAppPort, strconv.Itoa(c.AppPort), "is used by the cluster's own services (%v); pick another, e.g. %d", facts.ReservedPorts, facts.DefaultAppPort))
	}
	if c.AppManifestPath != "" {
		if st, err := os.Stat(c.AppManifestPath); err != nil || st.IsDir() {
			add(bad(KeyAppManifest, c.AppManifestPath, "is not a readable file (paths are relative to the project directory)"))
		}
	}
	if s := c.AgentPingTimeout.Seconds(); s < 1 || s > 60 {
		add(bad(KeyAgentPingTimeout, strconv.Itoa(int(s)), "must be from 1 to 60 seconds"))
	}
	if c.MaxAgentPingTimeouts < 1 || c.MaxAgentPingTimeouts > 20 {
		add(bad(KeyMaxAgentPingTimeouts, strconv.Itoa(c.MaxAgentPingTimeouts), "must be from 1 to 20"))
	}
	if total := c.AgentPingTimeout * time.Duration(c.MaxAgentPingTimeouts); total > 0 && total <= facts.ZooKeeperSessionTimeout {
		add(bad(KeyAgentPingTimeout, strconv.Itoa(int(c.AgentPingTimeout.Seconds())),
			"times %s:%s (%d) is %v; Mesos wants more than the ZooKeeper session timeout of %v (apache/mesos docs/configuration.md, agent_ping_timeout): raise either",
			facts.Project, KeyMaxAgentPingTimeouts, c.MaxAgentPingTimeouts, total, facts.ZooKeeperSessionTimeout))
	}
	if c.SelfFenceAfter < time.Second {
		add(bad(KeySelfFence, strconv.Itoa(int(c.SelfFenceAfter.Seconds())), "must be at least 1 second"))
	} else if detect := c.AgentPingTimeout * time.Duration(c.MaxAgentPingTimeouts); detect > 0 && c.SelfFenceAfter+facts.SelfFenceLead > detect {
		add(bad(KeySelfFence, strconv.Itoa(int(c.SelfFenceAfter.Seconds())),
			"plus the self-fence's lead of %v (probe interval %v, probe timeout %v, fence actions %v, margin %v) is %v, later than the masters' earliest verdict that the agent is lost, %s:%s x %s:%s = %d x %d = %v: "+
				"the masters would start the app elsewhere while this agent may still be writing to its volume (docs/fencing.md). Lower %s to at most %d, or raise %s or %s",
			facts.SelfFenceLead, facts.SelfFenceProbeInterval, facts.SelfFenceProbeTimeout, facts.SelfFenceActionBudget, facts.FenceMargin,
			c.SelfFenceAfter+facts.SelfFenceLead,
			facts.Project, KeyAgentPingTimeout, facts.Project, KeyMaxAgentPingTimeouts,
			int(c.AgentPingTimeout.Seconds()), c.MaxAgentPingTimeouts, detect,
			KeySelfFence, int((detect-facts.SelfFenceLead)/time.Second), KeyAgentPingTimeout, KeyMaxAgentPingTimeouts))
	}
	for key, ref := range map[string]string{
		KeyZooKeeperImage: c.Images.ZooKeeper, KeyMesosMasterImage: c.Images.MesosMaster,
		KeyMesosAgentImage: c.Images.MesosAgent, KeyMesosExecutorImage: c.Images.MesosExecutor, KeyMarathonImage: c.Images.Marathon,
		KeyFlockerControlImage: c.Images.FlockerControl, KeyFlockerAgentImage: c.Images.FlockerDatasetAgent,
		KeyFlockerPluginImage: c.Images.FlockerDockerPlugin, KeyRexRayPlugin: c.Images.RexRayPlugin,
		KeyAppImage: c.Images.App, KeyAWSCLIImage: c.Images.AWSCLI,
	} {
		switch {
		case !imageRE.MatchString(ref):
			add(bad(key, ref, "must be a pinned image reference, repository:tag or repository@sha256:digest"))
		case strings.HasSuffix(ref, ":latest"):
			add(bad(key, ref, "must not float: pin a version tag or a digest instead of latest"))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errs
}

func checkPublicKey(s string) error {
	pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		return errors.New("is not an OpenSSH public key line (the content of a .pub file)")
	}
	// EC2 imports RSA and ED25519 keys only (ImportKeyPair API reference).
	if t := pk.Type(); t != ssh.KeyAlgoRSA && t != ssh.KeyAlgoED25519 {
		return fmt.Errorf("is a %s key; EC2 imports only ssh-rsa and ssh-ed25519 keys", t)
	}
	return nil
}

func checkOperatorCIDR(s string) error {
	if s == "" {
		return errors.New("is required: the CIDR allowed to reach SSH and the Mesos and Marathon UIs, e.g. `pulumi config set operatorCidr \"$(curl -s https://checkip.amazonaws.com)/32\"`")
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return errors.New("is not a CIDR such as 203.0.113.7/32")
	}
	if !p.Addr().Is4() {
		return errors.New("must be an IPv4 CIDR: the cluster's VPC is IPv4 only")
	}
	if p.Masked() != p {
		return fmt.Errorf("has host bits set; did you mean %s?", p.Masked())
	}
	if p.Bits() == 0 {
		return errors.New("would open SSH and the unauthenticated Marathon API to the whole internet; use your own address, e.g. 203.0.113.7/32")
	}
	return nil
}

func abbreviate(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}

type indented []error

func (e indented) Error() string {
	parts := make([]string, len(e))
	for i, err := range e {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "\n  ")
}

func (e indented) Unwrap() []error { return e }

func joinIndented(errs []error) error { return indented(errs) }

// validateDayTwo checks the keys that confirm a change of a running stack.
func (c Config) validateDayTwo() []error {
	var errs []error
	// A confirmation names the driver switched to: one naming another
	// driver is left from an earlier switch, and must not pass for one of
	// this switch (components/driverswitch.go).
	if v := c.ConfirmVolumeDriverSwitch; v != "" && v != c.VolumeDriver {
		errs = append(errs, bad(KeyConfirmVolumeDriverSwitch, v, "confirms a switch to %s, but volumeDriver is %s: set it to %s in the same `pulumi up` that switches to it, or unset it", v, c.VolumeDriver, c.VolumeDriver))
	}
	return errs
}
