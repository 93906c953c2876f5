package config

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRZ1bXkwOzd6tKhsYlQ0lGQ8o2T0c8V3n3mJHkCqW1D op@example"

// valid is the smallest config a stack needs.
func valid() map[string]string {
	return map[string]string{
		"aws:region":   "us-east-1",
		"publicKey":    testKey,
		"operatorCidr": "203.0.113.7/32",
	}
}

func with(kv ...string) map[string]string {
	m := valid()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestParseDefaults(t *testing.T) {
	c, err := Parse(FromMap(valid()))
	if err != nil {
		t.Fatalf("Parse(valid) = %v", err)
	}
	want := Config{
		Region: "us-east-1", MasterCount: 1, AgentCount: 2, MasterInstanceType: "m4.large", AgentInstanceType: "m4.large",
		PublicKey: testKey, OperatorCIDR: "203.0.113.7/32", AMIOwner: facts.AMIOwnerCanonical,
		AMINameFilter: facts.AMINameFilter, RootVolumeGiB: 30, VolumeDriver: facts.VolumeDriverRexRay,
		AppPort: 8500, AgentPingTimeout: facts.AgentPingTimeout, MaxAgentPingTimeouts: facts.MaxAgentPingTimeouts,
		SelfFenceAfter: facts.DefaultSelfFenceAfter,
		Images: Images{
			ZooKeeper: facts.ZooKeeperImage, MesosMaster: facts.MesosMasterImage, MesosAgent: facts.MesosAgentImage,
			MesosExecutor: facts.MesosExecutorImage,
			Marathon:      facts.MarathonImage, FlockerControl: facts.FlockerControlServiceImage,
			FlockerDatasetAgent: facts.FlockerDatasetAgentImage, FlockerDockerPlugin: facts.FlockerDockerPluginImage,
			RexRayPlugin: facts.RexRayEBSPlugin, App: facts.AppImage, AWSCLI: facts.AWSCLIImage,
		},
	}
	if c != want {
		t.Errorf("Parse(valid) =\n%+v\nwant\n%+v", c, want)
	}
}

func TestParseAcceptsOverrides(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "app.json")
	if err := os.WriteFile(manifest, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Parse(FromMap(with(
		"publicKey", "<unset>", "keyName", "my-key",
		"availabilityZone", "us-east-1c", "masterCount", "3", "agentCount", "3", "volumeDriver", "flocker",
		"agentInstanceType", "c4.xlarge", "exposeFlockerApi", "true", "amiId", "ami-0123456789abcdef0",
		"appPort", "7500", "appManifest", manifest, "agentPingTimeoutSeconds", "3", "maxAgentPingTimeouts", "4",
		"marathonImage", "mesosphere/marathon@sha256:"+strings.Repeat("a", 64),
	)))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if c.KeyName != "my-key" || c.AvailabilityZone != "us-east-1c" || c.MasterCount != 3 || c.AgentCount != 3 || c.VolumeDriver != "flocker" ||
		!c.ExposeFlockerAPI || c.AMIID != "ami-0123456789abcdef0" || c.AppPort != 7500 || c.AppManifestPath != manifest ||
		c.AgentPingTimeout != 3*time.Second || c.MaxAgentPingTimeouts != 4 || !strings.HasPrefix(c.Images.Marathon, "mesosphere/marathon@sha256:") {
		t.Errorf("overrides not applied: %+v", c)
	}
}

func TestParseRejects(t *testing.T) {
	ecdsa := "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHpf2z8Pw/D+NC6ZUTbSU2KjtLW4wZUD8O8jqs/1s8k/sTBQ9zRe3x8l0SZVtw8e1R4p0luM1lru1Xd5wsfK9Iw= op@example"
	tests := []struct {
		name   string
		config map[string]string
		want   string // substring of the error: names the key and what is allowed
	}{
		{"region unset", with("aws:region", "<unset>"), "aws:region: is not set; run `pulumi config set aws:region"},
		{"region malformed", with("aws:region", "US East"), `aws:region = "US East": is not an AWS region name`},
		{"zone of another region", with("availabilityZone", "us-west-2a"), `marathon-ha:availabilityZone = "us-west-2a": is not a zone of region us-east-1`},
		{"agent count not a number", with("agentCount", "two"), `marathon-ha:agentCount = "two": must be a whole number`},
		{"no master", with("masterCount", "0"), `marathon-ha:masterCount = "0": must be 1, 3 or 5: ZooKeeper and the Mesos masters' replicated log need a majority`},
		{"two masters", with("masterCount", "2"), `marathon-ha:masterCount = "2": must be 1, 3 or 5`},
		{"four masters", with("masterCount", "4"), `marathon-ha:masterCount = "4": must be 1, 3 or 5: ZooKeeper and the Mesos masters' replicated log need a majority of the masters, so an even count survives no more failures than the odd count below it`},
		{"seven masters", with("masterCount", "7"), `marathon-ha:masterCount = "7": must be 1, 3 or 5`},
		{"negative masters", with("masterCount", "-3"), `marathon-ha:masterCount = "-3": must be 1, 3 or 5`},
		{"master count not a number", with("masterCount", "three"), `marathon-ha:masterCount = "three": must be a whole number`},
		{"one agent", with("agentCount", "1"), `marathon-ha:agentCount = "1": must be from 2 to 10: failover needs a second agent`},
		{"too many agents", with("agentCount", "11"), `marathon-ha:agentCount = "11": must be from 2 to 10`},
		{"instance type malformed", with("masterInstanceType", "large"), `marathon-ha:masterInstanceType = "large": is not an EC2 instance type`},
		{"flocker on nitro", with("volumeDriver", "flocker", "agentInstanceType", "m5.large"), `marathon-ha:agentInstanceType = "m5.large": is a Nitro (NVMe) type`},
		{"both key settings", with("keyName", "my-key"), `marathon-ha:keyName = "my-key": and marathon-ha:publicKey are both set`},
		{"no key setting", with("publicKey", "<unset>"), "marathon-ha:keyName: set exactly one of keyName"},
		{"public key garbage", with("publicKey", "not a key"), `marathon-ha:publicKey = "not a key": is not an OpenSSH public key line`},
		{"public key type EC2 refuses", with("publicKey", ecdsa), "EC2 imports only ssh-rsa and ssh-ed25519 keys"},
		{"operator cidr missing", with("operatorCidr", "<unset>"), "marathon-ha:operatorCidr: is required"},
		{"operator cidr malformed", with("operatorCidr", "10.0.0.0/33"), `marathon-ha:operatorCidr = "10.0.0.0/33": is not a CIDR`},
		{"operator cidr world", with("operatorCidr", "0.0.0.0/0"), "would open SSH and the unauthenticated Marathon API to the whole internet"},
		{"operator cidr host bits", with("operatorCidr", "203.0.113.7/24"), "has host bits set; did you mean 203.0.113.0/24?"},
		{"operator cidr ipv6", with("operatorCidr", "2001:db8::/64"), "must be an IPv4 CIDR"},
		{"flocker api without flocker", with("exposeFlockerApi", "true"), "marathon-ha:exposeFlockerApi = \"true\": only applies with volumeDriver flocker"},
		{"flocker api not a bool", with("exposeFlockerApi", "yes please"), "must be true or false"},
		{"ami id malformed", with("amiId", "ami-xyz"), `marathon-ha:amiId = "ami-xyz": is not an AMI id`},
		{"ami owner malformed", with("amiOwner", "canonical"), `marathon-ha:amiOwner = "canonical": must be a 12-digit account id`},
		{"root volume too small", with("rootVolumeSizeGiB", "4"), `marathon-ha:rootVolumeSizeGiB = "4": must be from 8 to 1024 GiB`},
		{"driver switch confirmation naming another driver", with("confirmVolumeDriverSwitch", "flocker"), `marathon-ha:confirmVolumeDriverSwitch = "flocker": confirms a switch to flocker, but volumeDriver is rexray`},
		{"driver switch confirmation unknown", with("volumeDriver", "flocker", "confirmVolumeDriverSwitch", "portworx"), `marathon-ha:confirmVolumeDriverSwitch = "portworx": confirms a switch to portworx, but volumeDriver is flocker`},
		{"volume driver unknown", with("volumeDriver", "portworx"), `marathon-ha:volumeDriver = "portworx": must be one of flocker, rexray`},
		{"app port outside agent range", with("appPort", "31000"), `marathon-ha:appPort = "31000": must be within the ports the Mesos agents offer, 7000-9000`},
		{"app port taken by marathon", with("appPort", "8080"), `marathon-ha:appPort = "8080": is used by the cluster's own services`},
		{"manifest missing", with("appManifest", "/nonexistent/app.json"), `marathon-ha:appManifest = "/nonexistent/app.json": is not a readable file`},
		{"ping timeout zero", with("agentPingTimeoutSeconds", "0"), `marathon-ha:agentPingTimeoutSeconds = "0": must be from 1 to 60 seconds`},
		{"ping misses zero", with("maxAgentPingTimeouts", "0"), `marathon-ha:maxAgentPingTimeouts = "0": must be from 1 to 20`},
		{"detection within the ZooKeeper session (the demo's 5 s x 2)", with("agentPingTimeoutSeconds", "5", "maxAgentPingTimeouts", "2"),
			`marathon-ha:agentPingTimeoutSeconds = "5": times marathon-ha:maxAgentPingTimeouts (2) is 10s; Mesos wants more than the ZooKeeper session timeout of 10s`},
		{"self-fence zero", with("selfFenceSeconds", "0"), `marathon-ha:selfFenceSeconds = "0": must be at least 1 second`},
		{"self-fence after the masters' verdict (a lowered ping timeout)", with("agentPingTimeoutSeconds", "3"),
			`marathon-ha:selfFenceSeconds = "4": plus the self-fence's lead of 7s (probe interval 1s, probe timeout 1s, fence actions 3s, margin 2s) is 11s, ` +
				`later than the masters' earliest verdict that the agent is lost, marathon-ha:agentPingTimeoutSeconds x marathon-ha:maxAgentPingTimeouts = 3 x 3 = 9s: ` +
				`the masters would start the app elsewhere while this agent may still be writing to its volume (docs/fencing.md). ` +
				`Lower selfFenceSeconds to at most 2, or raise agentPingTimeoutSeconds or maxAgentPingTimeouts`},
		{"self-fence one second too late", with("selfFenceSeconds", "6"), `marathon-ha:selfFenceSeconds = "6": plus the self-fence's lead of 7s`},
		{"image without tag", with("zookeeperImage", "zookeeper"), `marathon-ha:zookeeperImage = "zookeeper": must be a pinned image reference`},
		{"rexray on nitro", with("agentInstanceType", "m5.large"), `marathon-ha:agentInstanceType = "m5.large": is a Nitro (NVMe) type, whose EBS volumes REX-Ray 0.11.4 finds only through a udev alias`},
		{"operator cidr a /1", with("operatorCidr", "0.0.0.0/1"), `marathon-ha:operatorCidr = "0.0.0.0/1": is broader than /16: it opens SSH and the unauthenticated Marathon API to about 2147 million addresses; ` +
			`use your own address (e.g. 203.0.113.7/32), or set marathon-ha:operatorCidrIsWide true`},
		{"operator cidr a /15", with("operatorCidr", "10.0.0.0/15"), `is broader than /16: it opens SSH and the unauthenticated Marathon API to 131072 addresses`},
		{"zookeeper 3.5", with("zookeeperImage", "zookeeper:3.5.10"), `marathon-ha:zookeeperImage = "zookeeper:3.5.10": must be a ZooKeeper 3.4.x image tagged with its version, e.g. zookeeper:3.4.14: 3.5 and newer change ZOO_SERVERS' format and start an AdminServer on port 8080, Marathon's`},
		{"zookeeper 3.40 is not 3.4", with("zookeeperImage", "zookeeper:3.40.1"), `must be a ZooKeeper 3.4.x image`},
		{"zookeeper by digest hides its version", with("zookeeperImage", "zookeeper@sha256:"+strings.Repeat("ab", 32)), `must be a ZooKeeper 3.4.x image tagged with its version`},
		{"image latest", with("appImage", "binocarlos/moby-counter:latest"), `marathon-ha:appImage = "binocarlos/moby-counter:latest": must not float`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(FromMap(tt.config))
			if err == nil {
				t.Fatalf("Parse accepted %v", tt.config)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error\n%v\ndoes not contain\n%s", err, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error %v wraps no *config.Error", err)
			}
		})
	}
}

// Every count the config accepts is one the rest of the program is built
// for: 1, 3 and 5 parse, each as itself.
// What the breadth, ZooKeeper and Nitro checks still take.
func TestParseAcceptsNarrowCIDRsAndZooKeeper34(t *testing.T) {
	for _, cfg := range []map[string]string{
		with("operatorCidr", "10.0.0.0/16"),
		with("operatorCidr", "10.0.0.0/8", "operatorCidrIsWide", "true"),
		with("zookeeperImage", "zookeeper:3.4.13"),
		with("zookeeperImage", "registry.example/mirror/zookeeper:3.4.14-alpine"),
		with("masterInstanceType", "m5.large"),
		with("agentInstanceType", "c4.large", "volumeDriver", "flocker"),
	} {
		if _, err := Parse(FromMap(cfg)); err != nil {
			t.Errorf("Parse refused %v: %v", cfg, err)
		}
	}
}

func TestParseMasterCounts(t *testing.T) {
	for _, n := range facts.MasterCounts {
		c, err := Parse(FromMap(with("masterCount", strconv.Itoa(n))))
		if err != nil || c.MasterCount != n {
			t.Errorf("masterCount %d: %+v, %v", n, c.MasterCount, err)
		}
	}
	if !slices.Equal(facts.MasterCounts, []int{1, 3, 5}) {
		t.Errorf("facts.MasterCounts = %v; the key's description and README say 1, 3 or 5", facts.MasterCounts)
	}
}

func TestParseReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Parse(FromMap(with("operatorCidr", "0.0.0.0/0", "volumeDriver", "nfs", "agentCount", "1")))
	if err == nil {
		t.Fatal("Parse accepted three bad values")
	}
	for _, key := range []string{"operatorCidr", "volumeDriver", "agentCount"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not mention %s:\n%v", key, err)
		}
	}
}

// The key model behind Pulumi.yaml: only keys with a real default are
// Defaulted, only operatorCidr is required (the CLI demands every key
// declared without a default), and the key pair is exactly-one-of.
func TestKeysPresence(t *testing.T) {
	var required, pair []string
	for _, k := range Keys {
		if (k.Presence == Defaulted) != (k.Default != "") {
			t.Errorf("%s: presence %d with default %q; only Defaulted keys have a default", k.Name, k.Presence, k.Default)
		}
		if k.DeclaresDefault() != (k.Presence != Required) {
			t.Errorf("%s: DeclaresDefault() = %v with presence %d", k.Name, k.DeclaresDefault(), k.Presence)
		}
		switch k.Presence {
		case Required:
			required = append(required, k.Name)
		case OneOfKeyPair:
			pair = append(pair, k.Name)
		}
		// The CLI checks a declared default against the type (Project.Validate).
		switch k.Type {
		case "integer":
			if _, err := strconv.Atoi(k.Default); k.Presence == Defaulted && err != nil {
				t.Errorf("%s: integer default %q", k.Name, k.Default)
			}
		case "boolean":
			if k.Default != "true" && k.Default != "false" {
				t.Errorf("%s: boolean default %q", k.Name, k.Default)
			}
		case "string":
		default:
			t.Errorf("%s: type %q", k.Name, k.Type)
		}
		if k.Type != "string" && k.Presence != Defaulted {
			t.Errorf("%s: an optional %s key would get `default: \"\"`, which is not a %s", k.Name, k.Type, k.Type)
		}
	}
	if !slices.Equal(required, []string{KeyOperatorCIDR}) {
		t.Errorf("required keys %v, want only %s", required, KeyOperatorCIDR)
	}
	if !slices.Equal(pair, []string{KeyKeyName, KeyPublicKey}) {
		t.Errorf("exactly-one-of keys %v, want %s and %s", pair, KeyKeyName, KeyPublicKey)
	}
}

// The CLI applies Pulumi.yaml's `default: ""` to the stack config, so the
// program sees "" for every optional key left unset: that must read as unset.
func TestParseEmptyDefaultsAreUnset(t *testing.T) {
	for _, base := range []map[string]string{valid(), with("publicKey", "<unset>", "keyName", "my-key")} {
		want, err := Parse(FromMap(base))
		if err != nil {
			t.Fatalf("Parse(%v) = %v", base, err)
		}
		applied := maps.Clone(base)
		for _, k := range Keys {
			if _, set := applied[k.Name]; !set && k.DeclaresDefault() && k.Default == "" {
				applied[k.Name] = ""
			}
		}
		got, err := Parse(FromMap(applied))
		if err != nil {
			t.Fatalf("Parse with the CLI's empty defaults applied (%v) = %v", applied, err)
		}
		if got != want {
			t.Errorf("empty defaults changed the config:\n%+v\nwant\n%+v", got, want)
		}
	}
}

// The self-fence may end exactly at the masters' earliest verdict: with
// the default 4 s x 3 pings, selfFenceSeconds 5 (5 + 7 = 12) is the most.
func TestParseSelfFenceAtTheLimit(t *testing.T) {
	c, err := Parse(FromMap(with("selfFenceSeconds", "5")))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if c.SelfFenceAfter != 5*time.Second {
		t.Errorf("SelfFenceAfter = %v, want 5s", c.SelfFenceAfter)
	}
}
