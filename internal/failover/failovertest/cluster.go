// Package failovertest is a whole marathon-ha cluster made of in-process
// stand-ins, for tests of the failover tools (kill-node, the rehearsal) and
// of the fencing design: Marathon with Mesos agents (marathontest), the EC2
// API with one tagged instance per agent (ec2test), Moby Counter
// (mobycountertest) on the app's EBS volume, and a classic ELB with health
// checks in front of the agents.
//
// The stand-ins are glued as the real cluster is. The app's EBS volume is an
// ec2test volume attached to the agent that runs the app; an app server
// writes into its own instance's page cache, which reaches the volume only
// through the attachment it was mounted on (volume.go): a server whose
// volume was force-detached acknowledges clicks that are lost. Every
// agent's instance is registered with the ELB. When EC2 terminates an
// agent's instance:
//   - with SkipOsShutdown (a crash), its Mesos agent dies at once
//     (Marathon's task becomes unreachable once Mesos has counted its missed
//     pings, Options.DetectionDelay after the first one, and is relaunched
//     on another agent) and its app server crashes: unwritten clicks are
//     lost;
//   - by default (graceful), the instance stays shutting-down for
//     Options.OSShutdown while its app keeps serving; then the app stops,
//     its clicks are flushed, the Mesos agent stops (detection starts
//     there), and EC2 terminates the instance and detaches its volume
//     cleanly.
//
// SetPartitioned cuts an agent off from the masters while the ELB still
// reaches it; Options.Fencing adds the self-fence, the fencer and REX-Ray
// without preempt (fencing.go). Record is the stand-ins' own account of
// what happened, and Record.Overlaps says whether two app servers ever
// served at once (record.go).
//
// Marathon lists the unreachable task beside its replacement until its
// expunge job runs (by default 5 minutes after the cluster started). When a
// task of the app is staged or runs on another agent, the volume driver
// there moves the volume as the real one does (Options.VolumeDriver):
// REX-Ray with preempt force-detaches it from the old instance at once
// (without preempt, under Fencing, the mount fails until EC2 released it);
// Flocker waits until the old instance no longer runs and detaches it
// without force, which completes only when the instance has stopped. The
// app server starts once Marathon runs the task and the volume is attached
// there, and the ELB's health checks bring that instance into service.
package failovertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/marathon-ha/marathon-ha/apps"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter/mobycountertest"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// FlockerClusterUUID is the Flocker cluster id the stand-in's Flocker volume
// is tagged with (facts.TagFlockerClusterID).
const FlockerClusterUUID = "3f1c7c2e-7d2a-4c55-9a53-0f5c2b1d9e41"

// The stack identity the cluster's instances are tagged with.
const (
	Stack     = "failover-test"
	ClusterID = "c0ffee12"
)

// Defaults of Options: sub-second, so a whole failover takes a fraction of
// a second, but far enough apart that the steps happen in order.
const (
	DefaultDetectionDelay  = 60 * time.Millisecond
	DefaultStagingDuration = 20 * time.Millisecond
	DefaultHealthInterval  = 5 * time.Millisecond
	DefaultShutdownDelay   = 10 * time.Millisecond
	DefaultOSShutdown      = 150 * time.Millisecond
	DefaultStartTimeout    = 10 * time.Second
)

// VolumeID is the id of the app's EBS volume in the stand-in.
const VolumeID = "vol-0a9e0000000000001"

// harnessPoll is how often the harness looks at Marathon's model to start
// the app where Mesos runs it.
const harnessPoll = time.Millisecond

// Options shape the cluster. Zero values take the defaults above.
type Options struct {
	Agents          int           // default 2
	DetectionDelay  time.Duration // Mesos loss detection (small in tests)
	StagingDuration time.Duration // volume move + container start
	Buffered        bool          // app writes stay in page cache until Sync: a crash loses them
	NeverRelaunch   bool          // no live agent takes the task: the app never comes back
	UntaggedAgents  bool          // the agents' instances lack the stack's tags

	// Masters is the number of masters (default 1): see masters.go.
	Masters         int
	UntaggedMasters bool // the masters' instances lack the stack's tags
	// SessionTimeout is the ZooKeeper session timeout after which a lost
	// leader is replaced (default DefaultSessionTimeout), Reregistration
	// how long the agents then take to re-register with a new Mesos leader
	// (default DefaultReregistration).
	SessionTimeout, Reregistration time.Duration
	// MarathonLeader, MesosLeader and ZooKeeperLeader are the masters
	// (1-based) whose Marathon, Mesos master and ZooKeeper lead at the
	// start (default 1 each): the three elect apart (masters.go).
	MarathonLeader, MesosLeader, ZooKeeperLeader int
	// SyncTimeout is how long ZooKeeper's followers wait for a silent
	// leader (syncLimit x tickTime), ZooKeeperElection how long they then
	// take to elect and sync a new one, MarathonElection how long a
	// Marathon takes from a free latch to a registered leader; zero: the
	// cluster's (facts.ZooKeeper, facts.ZooKeeperElectionEstimate) scaled,
	// and DefaultMarathonElection.
	SyncTimeout, ZooKeeperElection, MarathonElection time.Duration

	// VolumeDriver moves the app's volume: facts.VolumeDriverRexRay
	// (default) or facts.VolumeDriverFlocker; it is the stack output
	// volumeDriver.
	VolumeDriver string
	// Writeback, when set, writes buffered clicks back to the volume the
	// way the kernel does, so that a click is on disk at most Writeback
	// after it was acknowledged (facts.PageCacheFlushWait on a node: the
	// flusher wakes every 1/7 of it and writes data older than 6/7 of it,
	// as 5 s and 30 s make 35 s). It implies Buffered.
	Writeback time.Duration

	// ExpungeInitialDelay and ExpungeInterval schedule Marathon's job that
	// expunges unreachable tasks; zero is Marathon 1.4.9's default (5
	// minutes after the cluster started, then every 30 s: see
	// marathontest.DefaultExpungeInitialDelay), so a test's unreachable
	// task stays listed unless it shortens them.
	ExpungeInitialDelay, ExpungeInterval time.Duration

	// HealthInterval is the ELB's health-check interval; the thresholds
	// are the cluster's (facts.ELBHealthyThreshold, ELBUnhealthyThreshold).
	HealthInterval time.Duration
	// ShutdownDelay is how long a terminated instance stays shutting-down
	// once its OS is down (at once after a crash).
	ShutdownDelay time.Duration
	// OSShutdown is how long a graceful (default) termination shuts the OS
	// down while the app keeps serving (default DefaultOSShutdown).
	OSShutdown time.Duration
	// AttachDelay and DetachDelay are how long EC2 takes to attach and
	// detach the volume (default 0).
	AttachDelay, DetachDelay time.Duration
	// TerminateLatency delays EC2's answer to TerminateInstances after the
	// termination took effect (default 0).
	TerminateLatency time.Duration
	// StartTimeout bounds Start's wait for the app to be served.
	StartTimeout time.Duration

	// UnhealthyReplacements makes the next tasks Marathon launches after
	// Start fail its health checks from UnhealthyAfter past their start,
	// while the ELB's still pass (health.go).
	UnhealthyReplacements int
	UnhealthyAfter        time.Duration

	// AgentWriteback writes the page cache back with the agents' own
	// timers (facts.AgentDirtyExpire, facts.AgentDirtyWriteback) scaled to
	// the cluster's time (Scaled). It takes precedence over Writeback.
	AgentWriteback bool

	// Fencing runs the fencing design (docs/fencing.md): each agent fences
	// itself after SelfFenceAfter without the masters, one fencer
	// terminates (SkipOsShutdown) the instance of any host with a
	// TASK_UNREACHABLE task, and REX-Ray runs without preempt. Off, the
	// cluster runs as before the design: REX-Ray preempts, and nothing
	// stops a cut-off agent's app (the hazard fencing removes); the tests
	// written before it keep their meaning.
	Fencing bool
	// SelfFenceAfter is the agents' selfFenceSeconds in the cluster's
	// time (default facts.DefaultSelfFenceAfter scaled). Start refuses one
	// that, with the scaled facts.SelfFenceLead, exceeds DetectionDelay.
	SelfFenceAfter time.Duration

	// ReconciliationInitialDelay and ReconciliationInterval schedule
	// Marathon's task reconciliation (zero: Marathon 1.4.9's defaults,
	// 15 s and 600 s): a healed agent's task is seen running again then.
	ReconciliationInitialDelay, ReconciliationInterval time.Duration

	// AgentGroup makes the agents an Auto Scaling group's, as the REX-Ray
	// stack's are (replace.go): a lost agent is replaced GroupReplaceDelay
	// after it left running, InService GroupLaunchDelay later (defaults
	// DefaultGroupReplaceDelay, DefaultGroupLaunchDelay).
	AgentGroup                          bool
	GroupReplaceDelay, GroupLaunchDelay time.Duration
}

func (o *Options) defaults() {
	if o.Agents <= 0 {
		o.Agents = 2
	}
	if o.DetectionDelay <= 0 {
		o.DetectionDelay = DefaultDetectionDelay
	}
	if o.StagingDuration <= 0 {
		o.StagingDuration = DefaultStagingDuration
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = DefaultHealthInterval
	}
	if o.ShutdownDelay <= 0 {
		o.ShutdownDelay = DefaultShutdownDelay
	}
	if o.OSShutdown <= 0 {
		o.OSShutdown = DefaultOSShutdown
	}
	if o.VolumeDriver == "" {
		o.VolumeDriver = facts.VolumeDriverRexRay
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.Masters <= 0 {
		o.Masters = 1
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = DefaultSessionTimeout
	}
	if o.Reregistration <= 0 {
		o.Reregistration = DefaultReregistration
	}
	for _, l := range []*int{&o.MarathonLeader, &o.MesosLeader, &o.ZooKeeperLeader} {
		if *l <= 0 || *l > o.Masters {
			*l = 1
		}
	}
	if o.SyncTimeout <= 0 {
		o.SyncTimeout = o.scaled(facts.ZooKeeper.SyncTimeout())
	}
	if o.ZooKeeperElection <= 0 {
		o.ZooKeeperElection = o.scaled(facts.ZooKeeperElectionEstimate)
	}
	if o.MarathonElection <= 0 {
		o.MarathonElection = DefaultMarathonElection
	}
	if o.SelfFenceAfter <= 0 {
		o.SelfFenceAfter = o.scaled(facts.DefaultSelfFenceAfter)
	}
}

// Agent is one agent of the cluster: its EC2 instance and Mesos host.
type Agent struct {
	InstanceID string
	Host       string // private IP, the Mesos agent's --hostname
}

// Cluster is a running stand-in cluster. Its methods are safe for
// concurrent use.
type Cluster struct {
	opts     Options
	dataDir  string
	agents   []Agent
	masters  []*master
	mt       *marathontest.Server
	ec2      *ec2test.Server
	asg      *ec2test.AutoScaling // Options.AgentGroup (replace.go)
	elb      *mobycountertest.ELB
	marathon *marathon.Client
	app      *mobycounter.Client
	outputs  stackoutputs.Outputs

	mu           sync.Mutex
	registered   map[string]bool                    // hosts known to Mesos
	active       map[string]bool                    // hosts registered with the current Mesos leader
	mesosLeader  int                                // index of the leading Mesos master, -1 while none
	zkLeader     int                                // index of the leading ZooKeeper, -1 while none
	abdicated    int                                // the master whose Marathon abdicated last (1-based)
	masterEvents []MasterEvent                      // what the masters did (masters.go)
	tmu          sync.Mutex                         // guards masterTimers
	masterTimers []*time.Timer                      // the masters' failover steps (masters.go after)
	dead         map[string]bool                    // hosts whose instance was terminated
	servers      map[string]*mobycountertest.Server // app servers by host
	serverID     map[string]int                     // their ids in the record
	mounts       map[string]*mount                  // their mounts of the volume
	mesosStopped map[string]bool                    // hosts whose Mesos agent stopped (KillAgent called)
	cut          map[string]bool                    // hosts cut off from the masters
	cutSeq       map[string]int                     // how often each host's cut changed
	fenced       map[string]bool                    // hosts that fenced themselves
	selfFences   map[string]selfFenceDue            // each host's last scheduled self-fence (fencing.go)
	selfFenceMu  sync.Mutex                         // one self-fence runs at a time, to its end (fencing.go)
	fenceLate    time.Duration                      // SelfFenceLateness
	backend      string                             // host the app last started on
	driverLog    []string                           // what the volume driver did
	timers       []*time.Timer                      // graceful shutdowns under way
	replaced     map[string]bool                    // lost hosts ReplaceLostAgents replaced (replace.go)
	homeGroups   map[string][]string                // each agent's security groups at launch (partition.go)
	replacements int
	harnessErr   error

	vol       *volume
	rec       *recorder
	startedAt time.Time
	seen      seen // what the harness has recorded (harness goroutine only)

	stop chan struct{}
	done sync.WaitGroup
}

// Start builds the cluster, deploys the app through Marathon and returns
// once the app answers through the ELB.
func Start(opts Options) (*Cluster, error) {
	opts.defaults()
	dir, err := os.MkdirTemp("", "failovertest-volume-")
	if err != nil {
		return nil, fmt.Errorf("creating the shared data directory: %w", err)
	}
	c := &Cluster{opts: opts, dataDir: dir, registered: map[string]bool{}, active: map[string]bool{}, dead: map[string]bool{},
		servers: map[string]*mobycountertest.Server{}, serverID: map[string]int{}, mounts: map[string]*mount{},
		mesosStopped: map[string]bool{}, cut: map[string]bool{}, cutSeq: map[string]int{}, fenced: map[string]bool{},
		selfFences: map[string]selfFenceDue{},
		vol:        &volume{path: volumePath(dir)}, rec: &recorder{}, startedAt: time.Now(), stop: make(chan struct{}), replaced: map[string]bool{}, homeGroups: map[string][]string{}}
	if err := opts.checkFencing(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// Mesos counts its pings (marathontest partition.go): DetectionDelay
	// is agent_ping_timeout x max_agent_ping_timeouts, split as the
	// cluster's (facts.MaxAgentPingTimeouts).
	c.mt = marathontest.NewServer(marathontest.Options{DetectionDelay: opts.DetectionDelay, StagingDuration: opts.StagingDuration,
		AgentPingTimeout: opts.DetectionDelay / facts.MaxAgentPingTimeouts, MaxAgentPingTimeouts: facts.MaxAgentPingTimeouts,
		BackoffUnit: opts.scaled(time.Second), ReconciliationInitialDelay: opts.ReconciliationInitialDelay, ReconciliationInterval: opts.ReconciliationInterval,
		ExpungeInitialDelay: opts.ExpungeInitialDelay, ExpungeInterval: opts.ExpungeInterval, HealthCheckSecond: HealthCheckSecond,
		LeaderProxyWait:              opts.scaled(marathontest.DefaultLeaderProxyWait),
		LeaderProxyConnectionTimeout: opts.scaled(marathontest.DefaultLeaderProxyConnectionTimeout)})
	if opts.VolumeDriver != facts.VolumeDriverRexRay && opts.VolumeDriver != facts.VolumeDriverFlocker {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("failovertest: volume driver %q: want %s or %s", opts.VolumeDriver, facts.VolumeDriverRexRay, facts.VolumeDriverFlocker)
	}
	c.ec2 = ec2test.NewServer(ec2test.WithShutdownDelay(opts.ShutdownDelay), ec2test.WithOSShutdown(opts.OSShutdown),
		ec2test.WithAttachDelay(opts.AttachDelay), ec2test.WithDetachDelay(opts.DetachDelay), ec2test.WithTerminateHook(c.onTerminate),
		ec2test.WithLatency("TerminateInstances", opts.TerminateLatency), ec2test.WithGroupsChanged(c.onGroupsChanged))
	c.elb = mobycountertest.NewELB(
		mobycountertest.WithName(Stack+"-"+ClusterID),
		mobycountertest.WithHealthCheck(opts.HealthInterval, facts.ELBHealthyThreshold, facts.ELBUnhealthyThreshold),
		mobycountertest.WithHealthTimeout(200*time.Millisecond),
		mobycountertest.WithServiceHook(func(id string, in bool) {
			kind := EventOutOfService
			if in {
				kind = EventInService
			}
			c.rec.add(Event{At: time.Now(), Kind: kind, Instance: id})
		}),
		mobycountertest.WithEC2State(func(id string) (string, bool) {
			in, ok := c.ec2.Instance(id)
			return in.State, ok
		}))
	c.app = mobycounter.New(c.elb.URL, mobycounter.WithTimeout(time.Second))
	if err := c.start(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start() error {
	for i := 0; i < c.opts.Agents; i++ {
		a := Agent{InstanceID: fmt.Sprintf("i-0a9e00000000000%02d", i+1), Host: fmt.Sprintf("10.42.1.%d", 101+i)}
		c.agents = append(c.agents, a)
		tags := map[string]string{facts.TagName: fmt.Sprintf("%s-%s-agent-%d", facts.Project, Stack, i+1)}
		if !c.opts.UntaggedAgents {
			tags[facts.TagProject] = facts.Project
			tags[facts.TagStack] = Stack
			tags[facts.TagClusterID] = ClusterID
			tags[facts.TagRole] = facts.RoleAgent
		}
		c.ec2.AddInstance(ec2test.Instance{ID: a.InstanceID, PrivateIP: a.Host, Tags: tags})
		c.rememberGroups(a.InstanceID)
		c.elb.Register(a.InstanceID)
		// Without a second live agent the task has nowhere to go: only the
		// first agent's Mesos agent registers.
		if i == 0 || !c.opts.NeverRelaunch {
			c.mt.AddAgent(a.Host)
			c.registered[a.Host] = true
		}
	}
	c.startMasters()
	urls := make([]string, len(c.masters))
	mesosURLs := make([]string, len(c.masters))
	for i, m := range c.masters {
		urls[i], mesosURLs[i] = m.MarathonURL, m.MesosURL
	}
	mc, err := marathon.New(strings.Join(urls, ","), marathon.WithPollInterval(5*time.Millisecond),
		marathon.WithBackoff(5*time.Millisecond, 20*time.Millisecond), marathon.WithHTTPTimeout(2*time.Second))
	if err != nil {
		return err
	}
	c.marathon = mc
	volume := "moby-counter-" + ClusterID
	// The volume is attached where the app first runs, tagged as its
	// driver tags it (facts.TagName; facts.TagFlockerClusterID).
	volTags := map[string]string{facts.TagName: volume}
	if c.opts.VolumeDriver == facts.VolumeDriverFlocker {
		volTags = map[string]string{facts.TagName: "flocker-8d0b3b0e-5b1f-4a8e-9d3c-1f2e3d4c5b6a", facts.TagFlockerClusterID: FlockerClusterUUID}
	}
	c.ec2.AddVolume(ec2test.Volume{ID: VolumeID, SizeGiB: 16, AttachedTo: c.agents[0].InstanceID, Tags: volTags})
	doc, err := manifest.Render(apps.MobyCounter, manifest.Params{AppID: facts.AppID, HostPort: facts.DefaultAppPort,
		VolumeDriver: facts.DockerVolumeDriverName[c.opts.VolumeDriver], VolumeName: volume, Zone: ec2test.AvailabilityZone})
	if err != nil {
		return fmt.Errorf("rendering the app manifest: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.StartTimeout)
	defer cancel()
	res, err := mc.Apply(ctx, doc)
	if err != nil {
		return fmt.Errorf("deploying the app to the stand-in Marathon: %w", err)
	}

	c.startGroup()
	c.done.Add(1)
	go c.harness()
	if c.opts.Fencing {
		ctx, cancel := context.WithCancel(context.Background())
		c.done.Add(2)
		go func() { defer c.done.Done(); <-c.stop; cancel() }()
		go c.fencer(ctx)
	}
	for !c.served(ctx) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the app did not answer through the stand-in ELB within %s (backend %q)", c.opts.StartTimeout, c.TaskHost())
		case <-time.After(harnessPoll):
		}
	}

	c.armHealthFailures()
	hc, err := healthCheckSettings(doc)
	if err != nil {
		return err
	}

	ids, ips := make([]string, len(c.agents)), make([]string, len(c.agents))
	for i, a := range c.agents {
		ids[i], ips[i] = a.InstanceID, a.Host
	}
	c.outputs = stackoutputs.Outputs{
		MarathonURL: urls[0], MarathonURLs: urls, MesosURL: mesosURLs[0], MesosURLs: mesosURLs,
		AppURL: c.elb.URL, MasterPublicIP: "127.0.0.1", MasterPrivateIP: facts.MasterPrivateIP,
		MasterPublicIPs: publicIPs(len(urls)), MasterPrivateIPs: facts.MasterPrivateIPs(len(urls)),
		AgentInstanceIDs: ids, AgentPrivateIPs: ips, Region: ec2test.Region, AvailabilityZone: ec2test.AvailabilityZone,
		ClusterID: ClusterID, Stack: Stack, VolumeDriver: c.opts.VolumeDriver, VolumeName: volume,
		AppID: res.AppID, AppVersion: res.Version, AppTaskHost: res.TaskHost,
		Failover: stackoutputs.FailoverSettings{
			// Mesos's detection is timeout x misses; the test's delay is
			// split the way the cluster's is (facts.MaxAgentPingTimeouts).
			AgentPingTimeoutSeconds: c.opts.DetectionDelay.Seconds() / facts.MaxAgentPingTimeouts,
			MaxAgentPingTimeouts:    facts.MaxAgentPingTimeouts,
			ELBIntervalSeconds:      c.opts.HealthInterval.Seconds(),
			ELBTimeoutSeconds:       c.opts.HealthInterval.Seconds(),
			ELBHealthyThreshold:     facts.ELBHealthyThreshold,
			ELBUnhealthyThreshold:   facts.ELBUnhealthyThreshold,

			HealthCheckGracePeriodSeconds:     hc.GracePeriodSeconds,
			HealthCheckIntervalSeconds:        hc.IntervalSeconds,
			HealthCheckMaxConsecutiveFailures: hc.MaxConsecutiveFailures,
		},
	}
	c.groupOutputs()
	return nil
}

// served reports whether the app answers through the ELB.
func (c *Cluster) served(ctx context.Context) bool {
	return c.elb.InService() && c.App().Ping(ctx) == nil
}

// harness starts the app where Marathon runs it, until Close.
func (c *Cluster) harness() {
	defer c.done.Done()
	t := time.NewTicker(harnessPoll)
	defer t.Stop()
	for {
		if c.asg != nil {
			c.asg.Advance()
		}
		c.startRunningApp()
		c.stopKilledApps()
		c.observe()
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

// Outputs is what the stack would export, URLs pointing at the stand-ins,
// Failover settings scaled down to the test's timings.
func (c *Cluster) Outputs() stackoutputs.Outputs {
	c.mu.Lock() // ReplaceLostAgents changes the agents
	o := c.outputs
	defer c.mu.Unlock()
	o.AgentInstanceIDs = append([]string(nil), o.AgentInstanceIDs...)
	o.AgentPrivateIPs = append([]string(nil), o.AgentPrivateIPs...)
	for _, l := range []*[]string{&o.MarathonURLs, &o.MesosURLs, &o.MasterPublicIPs, &o.MasterPrivateIPs} {
		*l = append([]string(nil), (*l)...)
	}
	return o
}

// publicIPs are the masters' public addresses in the stand-in: this
// machine's, where every stand-in listens.
func publicIPs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "127.0.0.1"
	}
	return out
}

// EC2Endpoint is the EC2 stand-in's URL, for AWS_ENDPOINT_URL_EC2 or an
// SDK client's BaseEndpoint.
func (c *Cluster) EC2Endpoint() string { return c.ec2.URL }

// EC2 returns an ec2ops client of the EC2 stand-in that polls every
// millisecond.
func (c *Cluster) EC2() *ec2ops.Client {
	opts := []ec2ops.Option{ec2ops.WithPollInterval(time.Millisecond)}
	if c.asg != nil {
		opts = append(opts, ec2ops.WithAutoScaling(c.asg.Client()))
	}
	return ec2ops.New(c.ec2.Client(), opts...)
}

// EC2Server is the EC2 stand-in, for its request log and instance states.
func (c *Cluster) EC2Server() *ec2test.Server { return c.ec2 }

// MarathonServer is the Marathon stand-in.
func (c *Cluster) MarathonServer() *marathontest.Server { return c.mt }

// Marathon returns a client of the Marathon stand-in with test-speed
// polling and backoff.
func (c *Cluster) Marathon() *marathon.Client { return c.marathon }

// App returns a Moby Counter client of the ELB's address (the stack output
// appUrl) with a short per-call bound.
func (c *Cluster) App() *mobycounter.Client { return c.app }

// ELB is the load-balancer stand-in.
func (c *Cluster) ELB() *mobycountertest.ELB { return c.elb }

// Agents lists the agents in order: the app first runs on Agents()[0].
func (c *Cluster) Agents() []Agent {
	c.mu.Lock() // ReplaceLostAgents adds agents
	defer c.mu.Unlock()
	return append([]Agent(nil), c.agents...)
}

// LoadBalancer returns a client of the ELB stand-in's API for the app's
// address, as the tools make with mobycounter.ConnectLoadBalancer.
func (c *Cluster) LoadBalancer() *mobycounter.LoadBalancer {
	return mobycounter.NewLoadBalancer(c.elb.APIClient(), c.elb.URL)
}

// DriverActions lists what the volume driver did to the app's volume, in
// order, e.g. "rexray: force-detach vol-... from i-...".
func (c *Cluster) DriverActions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.driverLog...)
}

// TaskHost is the host the app server last started on.
func (c *Cluster) TaskHost() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.backend
}

// DataDir is the directory standing in for the EBS volume.
func (c *Cluster) DataDir() string { return c.dataDir }

// Err returns what went wrong in the harness's background work, if anything.
func (c *Cluster) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.harnessErr
}

// StopMarathon makes Marathon unreachable from now on (connection refused);
// Mesos, the agents and the app go on.
func (c *Cluster) StopMarathon() { c.mt.Close() }

// Close stops everything and removes the data directory.
func (c *Cluster) Close() {
	select {
	case <-c.stop:
		return // closed already
	default:
	}
	close(c.stop)
	c.done.Wait()
	c.stopMasterTimers()
	c.mu.Lock()
	for _, t := range c.timers {
		t.Stop()
	}
	for h, s := range c.servers {
		s.Close()
		delete(c.servers, h)
	}
	c.mu.Unlock()
	c.elb.Close()
	c.mt.Close()
	for _, m := range c.masters {
		m.mesos.Close()
		m.zk.close()
	}
	if c.asg != nil {
		c.asg.Close()
	}
	c.ec2.Close()
	os.RemoveAll(c.dataDir)
}
