package userdata

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// The patterns below are stricter than AWS or Docker require: every value
// lands in a shell script, so it must need no quoting beyond single quotes.
var (
	clusterIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	// regionPattern matches AWS region names such as us-east-1 or
	// us-gov-west-1; a zone is its region plus one letter (us-east-1a).
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	// imagePattern is a Docker reference: [registry[:port]/]repo[:tag][@digest].
	imagePattern = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)
	// parameterPattern is an SSM parameter name (AWS SSM PutParameter:
	// a-zA-Z0-9_.-/ only, fully qualified names start with "/", at most
	// maxParameterLen characters).
	parameterPattern = regexp.MustCompile(`^/[A-Za-z0-9_.\-/]+$`)
	fileNamePattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	modePattern      = regexp.MustCompile(`^0?[0-7]{3}$`)
)

// validate checks a MasterInput and names the first wrong field.
func (in MasterInput) validate() error {
	if err := validateCommon(in.ClusterID, in.Region, in.Zone, in.VolumeDriver); err != nil {
		return err
	}
	if err := validateMasters(in.Masters); err != nil {
		return err
	}
	if in.Index < 1 || in.Index > len(in.Masters) {
		return fmt.Errorf("invalid Index %d: masters are numbered from 1 to len(Masters) = %d", in.Index, len(in.Masters))
	}
	if in.AgentPingTimeout <= 0 || in.AgentPingTimeout%time.Millisecond != 0 {
		return fmt.Errorf("invalid AgentPingTimeout %v: want a positive whole number of milliseconds (Mesos default 15s, the demo 5s)", in.AgentPingTimeout)
	}
	if in.MaxAgentPingTimeouts < 1 {
		return fmt.Errorf("invalid MaxAgentPingTimeouts %d: want at least 1 (Mesos default 5, the demo 2)", in.MaxAgentPingTimeouts)
	}
	if total := in.AgentPingTimeout * time.Duration(in.MaxAgentPingTimeouts); total <= facts.ZooKeeperSessionTimeout {
		return fmt.Errorf("invalid AgentPingTimeout %v x MaxAgentPingTimeouts %d = %v: Mesos wants more than the ZooKeeper session timeout of %v (apache/mesos docs/configuration.md, agent_ping_timeout)",
			in.AgentPingTimeout, in.MaxAgentPingTimeouts, total, facts.ZooKeeperSessionTimeout)
	}
	images := []namedValue{
		{"Images.ZooKeeper", in.Images.ZooKeeper},
		{"Images.MesosMaster", in.Images.MesosMaster},
		{"Images.Marathon", in.Images.Marathon},
		{"Images.AWSCLI", in.Images.AWSCLI},
	}
	if in.RunsFlockerControl() {
		images = append(images, namedValue{"Images.FlockerControl", in.Images.FlockerControl})
	}
	if err := validateImages(images); err != nil {
		return err
	}
	if in.VolumeDriver == facts.VolumeDriverFlocker && !in.RunsFlockerControl() {
		if len(in.FlockerFiles) > 0 {
			return fmt.Errorf("invalid FlockerFiles: %d files given to master %d, which does not run the Flocker control service (master %d does)", len(in.FlockerFiles), in.Index, facts.FlockerControlMaster)
		}
		return nil
	}
	return validateFlockerFiles(in.VolumeDriver, in.FlockerFiles, masterFlockerFiles)
}

// validate checks an AgentInput and names the first wrong field.
func (in AgentInput) validate() error {
	if err := validateCommon(in.ClusterID, in.Region, in.Zone, in.VolumeDriver); err != nil {
		return err
	}
	switch {
	case in.Index < 0:
		return fmt.Errorf("invalid Index %d: agents are numbered from 1, or 0 for any agent of an Auto Scaling group", in.Index)
	case in.Index == 0 && in.VolumeDriver == facts.VolumeDriverFlocker:
		// A Flocker agent's certificates are its own (FlockerFiles).
		return fmt.Errorf("invalid Index 0 with volume driver %s: a Flocker agent is numbered from 1, for its node certificate", in.VolumeDriver)
	}
	if err := validateMasters(in.Masters); err != nil {
		return err
	}
	if in.PortRangeStart < 1 || in.PortRangeEnd > 65535 || in.PortRangeStart > in.PortRangeEnd {
		return fmt.Errorf("invalid PortRangeStart-PortRangeEnd %d-%d: want 1 <= start <= end <= 65535, e.g. %d-%d",
			in.PortRangeStart, in.PortRangeEnd, facts.AgentPortRangeStart, facts.AgentPortRangeEnd)
	}
	for _, p := range []int{facts.SSHPort, facts.MesosAgentPort} {
		if p >= in.PortRangeStart && p <= in.PortRangeEnd {
			return fmt.Errorf("invalid PortRangeStart-PortRangeEnd %d-%d: contains port %d, which the agent itself uses", in.PortRangeStart, in.PortRangeEnd, p)
		}
	}
	if in.AppPort == 0 {
		return fmt.Errorf("invalid AppPort 0: the self-fence blocks the app's port, so it must be known, e.g. %d", facts.DefaultAppPort)
	}
	if in.AppPort < in.PortRangeStart || in.AppPort > in.PortRangeEnd {
		return fmt.Errorf("invalid AppPort %d: outside PortRangeStart-PortRangeEnd %d-%d: Mesos would never offer it", in.AppPort, in.PortRangeStart, in.PortRangeEnd)
	}
	if in.SelfFenceAfter < time.Second {
		return fmt.Errorf("invalid SelfFenceAfter %v: want at least 1s (config %s, default %v)", in.SelfFenceAfter, "selfFenceSeconds", facts.DefaultSelfFenceAfter)
	}
	images := []namedValue{{"Images.MesosAgent", in.Images.MesosAgent}, {"Images.MesosExecutor", in.Images.MesosExecutor}, {"AppImage", in.AppImage}}
	switch in.VolumeDriver {
	case facts.VolumeDriverFlocker:
		images = append(images,
			namedValue{"Images.FlockerDatasetAgent", in.Images.FlockerDatasetAgent},
			namedValue{"Images.FlockerDockerPlugin", in.Images.FlockerDockerPlugin})
	case facts.VolumeDriverRexRay:
		images = append(images, namedValue{"Images.RexRayPlugin", in.Images.RexRayPlugin})
	}
	if err := validateImages(images); err != nil {
		return err
	}
	return validateFlockerFiles(in.VolumeDriver, in.FlockerFiles, agentFlockerFiles)
}

// maxParameterLen is the longest SSM parameter name (AWS SSM API reference,
// PutParameter: Name, length constraints 1-1011 for the name itself).
const maxParameterLen = 1011

type namedValue struct{ name, value string }

// validateMasters wants as many masters as a cluster may have
// (facts.MasterCounts), each a distinct private IPv4 address: every node
// reaches ZooKeeper, Mesos and Flocker there, and an address lands in
// scripts and zoo.cfg unquoted by ZooKeeper.
func validateMasters(masters []string) error {
	if !slices.Contains(facts.MasterCounts, len(masters)) {
		return fmt.Errorf("invalid Masters %q: want %v addresses (facts.MasterCounts), not %d", masters, facts.MasterCounts, len(masters))
	}
	seen := map[string]bool{}
	for i, m := range masters {
		ip, err := netip.ParseAddr(m)
		if err != nil || !ip.Is4() || ip.IsLoopback() || ip.IsUnspecified() || ip.String() != m {
			return fmt.Errorf("invalid Masters[%d] %q: want a master's private IPv4 address, e.g. 10.0.1.10 (nodes reach ZooKeeper, Mesos and Flocker there)", i, m)
		}
		if seen[m] {
			return fmt.Errorf("invalid Masters[%d] %q: listed twice", i, m)
		}
		seen[m] = true
	}
	return nil
}

func validateCommon(clusterID, region, zone, driver string) error {
	if !clusterIDPattern.MatchString(clusterID) {
		return fmt.Errorf("invalid ClusterID %q: want lowercase letters, digits and dashes, e.g. mha-1a2b3c4d", clusterID)
	}
	if !regionPattern.MatchString(region) {
		return fmt.Errorf("invalid Region %q: want an AWS region name such as us-east-1", region)
	}
	if len(zone) != len(region)+1 || !strings.HasPrefix(zone, region) || zone[len(zone)-1] < 'a' || zone[len(zone)-1] > 'z' {
		return fmt.Errorf("invalid Zone %q: want an availability zone of region %s, e.g. %sa", zone, region, region)
	}
	if !slices.Contains(facts.VolumeDrivers, driver) {
		return fmt.Errorf("invalid VolumeDriver %q: want one of %s", driver, strings.Join(facts.VolumeDrivers, ", "))
	}
	return nil
}

// validateImages wants every image pinned to a tag other than latest, or to
// a digest: a node that boots next month must run what was tested.
func validateImages(images []namedValue) error {
	for _, im := range images {
		if !imagePattern.MatchString(im.value) {
			return fmt.Errorf("invalid %s %q: want a Docker image reference such as %s", im.name, im.value, facts.ZooKeeperImage)
		}
		name, _, _ := strings.Cut(im.value, "@")
		last := name[strings.LastIndex(name, "/")+1:]
		_, tag, tagged := strings.Cut(last, ":")
		if !strings.Contains(im.value, "@sha256:") && (!tagged || tag == "latest") {
			return fmt.Errorf("invalid %s %q: pin a tag other than latest, or a digest", im.name, im.value)
		}
	}
	return nil
}

// validateFlockerFiles checks the certificates a Flocker node needs are all
// there, each under facts.FlockerCertDir, and that no key is readable by
// anyone but root.
func validateFlockerFiles(driver string, files []SecretFile, want []string) error {
	if driver != facts.VolumeDriverFlocker {
		if len(files) > 0 {
			return fmt.Errorf("invalid FlockerFiles: %d files given but VolumeDriver is %q; set them only for %q", len(files), driver, facts.VolumeDriverFlocker)
		}
		return nil
	}
	seen := map[string]bool{}
	for i, f := range files {
		field := fmt.Sprintf("FlockerFiles[%d]", i)
		if !parameterPattern.MatchString(f.Parameter) || strings.Contains(f.Parameter, "//") || len(f.Parameter) > maxParameterLen {
			return fmt.Errorf("invalid %s.Parameter %q: want a fully qualified SSM parameter name starting with \"/\", e.g. /marathon-ha/mha-1a2b3c4d/master/cluster.crt", field, f.Parameter)
		}
		dir, name := path.Split(f.Path)
		if path.Clean(dir) != facts.FlockerCertDir || !fileNamePattern.MatchString(name) {
			return fmt.Errorf("invalid %s.Path %q: want a file directly in %s, e.g. %s/cluster.crt", field, f.Path, facts.FlockerCertDir, facts.FlockerCertDir)
		}
		if seen[name] {
			return fmt.Errorf("invalid %s.Path %q: listed twice", field, f.Path)
		}
		seen[name] = true
		if !modePattern.MatchString(f.Mode) {
			return fmt.Errorf("invalid %s.Mode %q: want an octal file mode such as 0600", field, f.Mode)
		}
		mode, _ := strconv.ParseUint(f.Mode, 8, 32)
		if strings.HasSuffix(name, ".key") && mode&0o077 != 0 {
			return fmt.Errorf("invalid %s.Mode %q for private key %s: want 0600 or stricter (Flocker docs: keys 0600)", field, f.Mode, f.Path)
		}
	}
	var missing []string
	for _, name := range want {
		if !seen[name] {
			missing = append(missing, path.Join(facts.FlockerCertDir, name))
		}
	}
	if len(missing) > 0 {
		return errors.New("incomplete FlockerFiles: missing " + strings.Join(missing, ", ") + " (VolumeDriver flocker needs them all)")
	}
	return nil
}
