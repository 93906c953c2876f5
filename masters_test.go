package main

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	resconfig "github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

const tMasters = "marathon-ha:index:Masters"

// mastersOf returns the master instances of a run, in order.
func mastersOf(t *testing.T, res *pulumimock.Result) []pulumimock.Resource {
	t.Helper()
	var out []pulumimock.Resource
	for _, inst := range res.OfType(tInstance) {
		if strings.HasPrefix(inst.Parent, tMasters+"::") {
			out = append(out, inst)
		}
	}
	// Mocked registrations interleave: order by the master's number.
	slices.SortFunc(out, func(a, b pulumimock.Resource) int { return indexOf(a.Name) - indexOf(b.Name) })
	return out
}

// indexOf is the number a logical name ends with, 1 if none
// ("marathon-ha-network-master-address" is the first master's).
func indexOf(name string) int {
	if i := strings.LastIndex(name, "-"); i >= 0 {
		if n, err := strconv.Atoi(name[i+1:]); err == nil {
			return n
		}
	}
	return 1
}

// TestMasters runs the program with one and three masters and each volume
// driver: one Masters component, each master on its fixed address behind
// its own explicit reservation, replaced delete-first, and only the first,
// with Flocker, holding an instance profile.
func TestMasters(t *testing.T) {
	for _, n := range []int{1, 3} {
		for _, driver := range facts.VolumeDrivers {
			t.Run(fmt.Sprintf("%d-%s", n, driver), func(t *testing.T) {
				res := run(t, "dev", baseConfig("masterCount", strconv.Itoa(n), "volumeDriver", driver))
				ips := facts.MasterPrivateIPs(n)
				if c := count(res)[tMasters]; c != 1 {
					t.Errorf("%d Masters components, want one for the master set", c)
				}
				masters := mastersOf(t, res)
				if len(masters) != n {
					t.Fatalf("%d master instances, want %d", len(masters), n)
				}
				reservations := res.OfType(tReservation)
				slices.SortFunc(reservations, func(a, b pulumimock.Resource) int { return indexOf(a.Name) - indexOf(b.Name) })
				// Every address a master may have, from the first up: a
				// later rise of masterCount must not find one taken.
				all := facts.MasterPrivateIPs(slices.Max(facts.MasterCounts))
				if len(reservations) != len(all) {
					t.Fatalf("%d address reservations, want %d: one for each address a master may ever have", len(reservations), len(all))
				}
				_, subnet, _ := net.ParseCIDR(facts.SubnetCIDR)
				for i, r := range reservations {
					ips := all
					wantName := "marathon-ha-network-master-address"
					if i > 0 {
						wantName += "-" + strconv.Itoa(i+1)
					}
					if r.Name != wantName || r.String("cidrBlock") != ips[i]+"/32" || r.String("reservationType") != "explicit" ||
						!r.DeleteBeforeReplace || !subnet.Contains(net.ParseIP(ips[i])) {
						t.Errorf("reservation %d: %s %s %s dbr=%v, want %s of %s/32, explicit, delete first", i+1, r.Name,
							r.String("cidrBlock"), r.String("reservationType"), r.DeleteBeforeReplace, wantName, ips[i])
					}
				}
				for i, m := range masters {
					if m.Name != "marathon-ha-masters-"+strconv.Itoa(i+1) || m.String("privateIp") != ips[i] {
						t.Errorf("master %d is %s at %s, want marathon-ha-masters-%d at %s", i+1, m.Name, m.String("privateIp"), i+1, ips[i])
					}
					if !m.DeleteBeforeReplace || !slices.Contains(m.Dependencies, reservations[i].Key()) {
						t.Errorf("master %d: deleteBeforeReplace %v, deps %v: a fixed, reserved address", i+1, m.DeleteBeforeReplace, m.Dependencies)
					}
					tags, _ := m.Input("tags").(map[string]any)
					wantName := fmt.Sprintf("dev-master-%d", i+1)
					if n == 1 {
						wantName = "dev-master" // as before masters were counted
					}
					if tags["Name"] != wantName || tags[facts.TagRole] != facts.RoleMaster {
						t.Errorf("master %d tags %v", i+1, tags)
					}
					md, _ := m.Input("metadataOptions").(map[string]any)
					if md["httpTokens"] != "required" {
						t.Errorf("master %d IMDS %v: masters require tokens", i+1, md)
					}
					// Every master fences, with the fencer's role; the
					// Flocker control master's also reads its secrets.
					// (Both profiles have the masters' name prefix: the
					// policy a master waits for tells them apart.)
					wantPolicy := tPolicy + "::marathon-ha-masters-fencer-policy"
					if driver == facts.VolumeDriverFlocker && i == 0 {
						wantPolicy = tPolicy + "::marathon-ha-masters-policy"
					}
					if m.String("iamInstanceProfile") == "" || !slices.Contains(m.Dependencies, wantPolicy) {
						t.Errorf("master %d: instance profile %q, dependencies %v; want a profile and %s", i+1, m.String("iamInstanceProfile"), m.Dependencies, wantPolicy)
					}
				}
				// Everything EC2 gives an address waits for every reservation.
				for _, d := range append(res.OfType(tInstance), res.OfType(tELB)...) {
					if strings.HasPrefix(d.Parent, tMasters+"::") {
						continue
					}
					for _, r := range reservations {
						if !slices.Contains(d.Dependencies, r.Key()) {
							t.Errorf("%s does not wait for %s", d.Key(), r.Name)
						}
					}
				}
			})
		}
	}
}

// TestRulesBetweenMasters: several masters talk to each other, and only to
// each other, on ZooKeeper's peer, election and client ports, the Mesos
// master's port (the replicated log, Marathon's registration), Marathon's
// (the leader proxy) and Marathon's libprocess port; one master needs none.
func TestRulesBetweenMasters(t *testing.T) {
	between := func(res *pulumimock.Result) []string {
		var got []string
		for _, r := range res.OfType(tRule) {
			if k := ruleKey(res, r); strings.HasPrefix(k, "master ") && strings.HasSuffix(k, " from/to master") {
				got = append(got, k)
			}
		}
		slices.Sort(got)
		return got
	}
	if got := between(run(t, "dev", baseConfig())); len(got) != 0 {
		t.Errorf("one master has rules from masters: %v", got)
	}
	want := []string{
		"master ingress tcp 2181-2181 from/to master",
		"master ingress tcp 2888-2888 from/to master",
		"master ingress tcp 3888-3888 from/to master",
		"master ingress tcp 5050-5050 from/to master",
		"master ingress tcp 8080-8080 from/to master",
		"master ingress tcp 9090-9090 from/to master",
	}
	for _, n := range []string{"3", "5"} {
		res := run(t, "dev", baseConfig("masterCount", n))
		if got := between(res); !slices.Equal(got, want) {
			t.Errorf("%s masters: rules between masters\n %v\nwant %v", n, got, want)
		}
		if got := len(res.OfType(tRule)); got != 17+len(want)+1 {
			t.Errorf("%s masters: %d rules, want the 17 of one master, %d between masters and ZooKeeper's to the operator", n, got, len(want))
		}
		if got := zooKeeperRules(res); !slices.Equal(got, []string{"master ingress tcp 2181-2181 from/to 203.0.113.7/32", "master ingress tcp 2181-2181 from/to agents", "master ingress tcp 2181-2181 from/to master"}) {
			t.Errorf("%s masters: ZooKeeper's client port open to %v: want the operator's CIDR (to find its leader), the agents and the masters, nothing else", n, got)
		}
	}
	if got := zooKeeperRules(run(t, "dev", baseConfig())); !slices.Equal(got, []string{"master ingress tcp 2181-2181 from/to agents"}) {
		t.Errorf("one master: ZooKeeper's client port open to %v: want the agents only (no leader to find)", got)
	}
}

// zooKeeperRules are the rules of ZooKeeper's client port, sorted.
func zooKeeperRules(res *pulumimock.Result) []string {
	var got []string
	for _, r := range res.OfType(tRule) {
		if r.Input("fromPort") == float64(facts.ZooKeeperClientPort) || r.Input("toPort") == float64(facts.ZooKeeperClientPort) {
			got = append(got, ruleKey(res, r))
		}
	}
	slices.Sort(got)
	return got
}

// TestMastersBoot reads each master's and an agent's user data as rendered
// for the stack: the ZooKeeper ensemble, the Mesos quorum, Marathon's
// ZooKeeper and the agents' view of every master, for one and three
// masters.
func TestMastersBoot(t *testing.T) {
	for _, tt := range []struct {
		n                       int
		servers, zk, quorum, ab string
	}{
		{1, "", `--zk="zk://${PRIVATE_IP}:2181/mesos" --quorum=1`, "", "--master='zk://10.42.1.10:2181/mesos'"},
		{3, "-e 'ZOO_SERVERS=server.1=10.42.1.10:2888:3888 server.2=10.42.1.11:2888:3888 server.3=10.42.1.12:2888:3888'",
			"--zk='zk://10.42.1.10:2181,10.42.1.11:2181,10.42.1.12:2181/mesos' --quorum=2",
			"--zk='zk://10.42.1.10:2181,10.42.1.11:2181,10.42.1.12:2181/marathon'",
			"--master='zk://10.42.1.10:2181,10.42.1.11:2181,10.42.1.12:2181/mesos'"},
	} {
		t.Run(strconv.Itoa(tt.n), func(t *testing.T) {
			res := run(t, "dev", flockerConfig("masterCount", strconv.Itoa(tt.n)))
			for i, m := range mastersOf(t, res) {
				ud := userDataOf(t, m)
				for _, want := range []string{"-e ZOO_MY_ID=" + strconv.Itoa(i+1) + " \\", tt.zk, tt.servers, tt.quorum} {
					if !strings.Contains(ud, want) {
						t.Errorf("master %d user data lacks %q", i+1, want)
					}
				}
				if tt.n == 1 && strings.Contains(ud, "ZOO_SERVERS") {
					t.Errorf("one master's ZooKeeper is given ZOO_SERVERS")
				}
				if runs := strings.Contains(ud, "flocker-control.service"); runs != (i == 0) {
					t.Errorf("master %d runs the Flocker control service: %v; only the first does", i+1, runs)
				}
			}
			for _, a := range res.OfType(tInstance) {
				if strings.HasPrefix(a.Parent, tMasters+"::") {
					continue
				}
				ud := userDataOf(t, a)
				if !strings.Contains(ud, tt.ab) || !regexp.MustCompile(`hostname: 10\.42\.1\.10\n`).MatchString(ud) {
					t.Errorf("agent %s does not find every master (%s) or Flocker's control service on the first", a.Name, tt.ab)
				}
			}
			// The control service certificate names the first master.
			for _, csr := range res.OfType("tls:index/certRequest:CertRequest") {
				if ips := toStrings(csr.Input("ipAddresses")); len(ips) > 0 && !slices.Equal(ips, []string{facts.MasterPrivateIP}) {
					t.Errorf("%s names %v, want the first master only", csr.Name, ips)
				}
			}
		})
	}
}

// TestMastersOutputs: every master's addresses and URLs, the singular
// outputs the tools read being the first master's, and the deploy step
// given every Marathon and waiting for every master.
func TestMastersOutputs(t *testing.T) {
	res := run(t, "dev", baseConfig("masterCount", "3"))
	plain := map[string]any{}
	for k, v := range res.Outputs {
		plain[k] = v.Value
	}
	o, err := stackoutputs.FromMap(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.MasterPrivateIPs, facts.MasterPrivateIPs(3)) || len(o.MasterPublicIPs) != 3 || len(o.MarathonURLs) != 3 ||
		len(o.MesosURLs) != 3 || len(o.SSHMasters) != 3 {
		t.Fatalf("outputs %+v", o)
	}
	for i, ip := range o.MasterPublicIPs {
		if o.MarathonURLs[i] != "http://"+ip+":8080" || o.MesosURLs[i] != "http://"+ip+":5050" || o.SSHMasters[i] != "ssh ubuntu@"+ip {
			t.Errorf("master %d: %s %s %s, want them at %s", i+1, o.MarathonURLs[i], o.MesosURLs[i], o.SSHMasters[i], ip)
		}
	}
	if o.MarathonURL != o.MarathonURLs[0] || o.MesosURL != o.MesosURLs[0] || o.MasterPublicIP != o.MasterPublicIPs[0] ||
		o.MasterPrivateIP != facts.MasterPrivateIP || o.SSHMaster != o.SSHMasters[0] {
		t.Errorf("singular outputs %+v are not the first master's", o)
	}
	deploy, ok := res.Named(tCommand, "marathon-ha-app-deploy")
	if !ok {
		t.Fatal("no deploy command")
	}
	env, _ := deploy.Input("environment").(map[string]any)
	if env["MHA_MARATHON_URL"] != strings.Join(o.MarathonURLs, ",") {
		t.Errorf("MHA_MARATHON_URL %v, want every master's Marathon: %s", env["MHA_MARATHON_URL"], strings.Join(o.MarathonURLs, ","))
	}
	for _, m := range mastersOf(t, res) {
		if !slices.Contains(deploy.Dependencies, m.Key()) {
			t.Errorf("the deploy step does not wait for %s", m.Name)
		}
	}
}

// TestMasterCountConfigErrors: a count other than 1, 3 or 5 stops the
// program before any resource, naming the key and the allowed values.
func TestMasterCountConfigErrors(t *testing.T) {
	for _, n := range []string{"0", "2", "4", "6", "three"} {
		res, err := pulumimock.Run(program, pulumimock.NewMocks(), "dev", baseConfig("masterCount", n), false)
		if err == nil || !strings.Contains(err.Error(), `marathon-ha:masterCount = "`+n+`"`) ||
			(n != "three" && !strings.Contains(err.Error(), "must be 1, 3 or 5")) {
			t.Errorf("masterCount %s: error %v, want one naming the key and 1, 3 or 5", n, err)
		}
		for _, r := range res.Resources {
			if r.Custom && !strings.HasPrefix(r.Type, "pulumi:providers:") {
				t.Errorf("masterCount %s: %s registered before the config error", n, r.Key())
			}
		}
	}
}

// TestLargestStackFitsEC2 runs the largest cluster the config allows, five
// masters with Flocker and ten agents: every node's gzipped user data is
// within EC2's 16 KiB (userDataOf checks; pulumimock refuses more).
func TestLargestStackFitsEC2(t *testing.T) {
	res := run(t, "dev", flockerConfig("masterCount", "5", "agentCount", "10"))
	if n := len(res.OfType(tInstance)); n != 15 {
		t.Fatalf("%d instances, want 5 masters and 10 agents", n)
	}
	for _, inst := range res.OfType(tInstance) {
		userDataOf(t, inst)
	}
}

// TestHAStackIsValid: the example stack with three masters (examples/Pulumi.ha.yaml),
// plus the operator's own key and address as the quick start sets them,
// passes the Pulumi CLI's config check and makes a working three-master
// cluster.
func TestHAStackIsValid(t *testing.T) {
	proj, err := workspace.LoadProject("Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := workspace.LoadProjectStack(nil, proj, "examples/Pulumi.ha.yaml")
	if err != nil {
		t.Fatalf("Pulumi.ha.yaml: %v", err)
	}
	for k, v := range map[string]string{config.KeyPublicKey: testPublicKey, config.KeyOperatorCIDR: "203.0.113.7/32"} {
		key := resconfig.MustMakeKey(facts.Project, k)
		if _, set := ps.Config[key]; set {
			t.Errorf("Pulumi.ha.yaml sets %s: it is the operator's own and must not be committed", k)
		}
		if err := ps.Config.Set(key, resconfig.NewTypedValue(v, resconfig.TypeUnknown), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := cliValidateStackConfig("ha", proj, ps.Config); err != nil {
		t.Fatalf("validating stack config: %v", err)
	}
	m := programConfig(t, proj, ps.Config)
	c, err := config.Parse(config.FromMap(m))
	if err != nil || c.MasterCount != 3 {
		t.Fatalf("Pulumi.ha.yaml: masterCount %d, %v; want an example of 3 masters", c.MasterCount, err)
	}
	res, err := pulumimock.Run(program, pulumimock.NewMocks(), "ha", m, false)
	if err != nil {
		t.Fatalf("Pulumi.ha.yaml plus a key and a CIDR does not make a working stack: %v", err)
	}
	if n := len(mastersOf(t, res)); n != 3 {
		t.Errorf("%d masters", n)
	}
}
