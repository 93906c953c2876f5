// Package failovertest is a whole marathon-ha cluster made of in-process
// stand-ins, for tests of the failover tools (kill-node, the rehearsal):
// Marathon with Mesos agents (marathontest), the EC2 API with one tagged
// instance per agent (ec2test), Moby Counter on a data directory shared by
// the agents as their EBS volume (mobycountertest), and a classic ELB with
// health checks in front of the agent that runs the app.
//
// The stand-ins are glued as the real cluster is: when EC2 terminates an
// agent's instance, its Mesos agent dies (Marathon's task becomes
// unreachable after Options.DetectionDelay and is relaunched on another
// agent, while Marathon lists the unreachable task beside its replacement
// until its expunge job runs, by default 5 minutes after the cluster
// started) and its app server crashes (buffered clicks are lost); when
// Marathon's task runs on another agent, an app server starts there on the
// same data directory and is registered with the ELB, whose health checks
// bring it into service.
package failovertest

import (
	"context"
	"errors"
	"fmt"
	"os"
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
	DefaultStartTimeout    = 10 * time.Second
)

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

	// ExpungeInitialDelay and ExpungeInterval schedule Marathon's job that
	// expunges unreachable tasks; zero is Marathon 1.4.9's default (5
	// minutes after the cluster started, then every 30 s: see
	// marathontest.DefaultExpungeInitialDelay), so a test's unreachable
	// task stays listed unless it shortens them.
	ExpungeInitialDelay, ExpungeInterval time.Duration

	// HealthInterval is the ELB's health-check interval; the thresholds
	// are the cluster's (facts.ELBHealthyThreshold, ELBUnhealthyThreshold).
	HealthInterval time.Duration
	// ShutdownDelay is how long a terminated instance stays shutting-down.
	ShutdownDelay time.Duration
	// StartTimeout bounds Start's wait for the app to be served.
	StartTimeout time.Duration
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
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
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
	mt       *marathontest.Server
	ec2      *ec2test.Server
	elb      *mobycountertest.ELB
	marathon *marathon.Client
	app      *mobycounter.Client
	outputs  stackoutputs.Outputs

	mu         sync.Mutex
	registered map[string]bool                    // hosts known to Mesos
	dead       map[string]bool                    // hosts whose instance was terminated
	servers    map[string]*mobycountertest.Server // app servers by host
	backend    string                             // host the ELB forwards to
	harnessErr error

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
	c := &Cluster{opts: opts, dataDir: dir, registered: map[string]bool{}, dead: map[string]bool{},
		servers: map[string]*mobycountertest.Server{}, stop: make(chan struct{})}
	c.mt = marathontest.NewServer(marathontest.Options{DetectionDelay: opts.DetectionDelay, StagingDuration: opts.StagingDuration,
		ExpungeInitialDelay: opts.ExpungeInitialDelay, ExpungeInterval: opts.ExpungeInterval})
	c.ec2 = ec2test.NewServer(ec2test.WithShutdownDelay(opts.ShutdownDelay), ec2test.WithTerminateHook(c.onTerminate))
	c.elb = mobycountertest.NewELB(
		mobycountertest.WithHealthCheck(opts.HealthInterval, facts.ELBHealthyThreshold, facts.ELBUnhealthyThreshold),
		mobycountertest.WithHealthTimeout(200*time.Millisecond))
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
		// Without a second live agent the task has nowhere to go: only the
		// first agent's Mesos agent registers.
		if i == 0 || !c.opts.NeverRelaunch {
			c.mt.AddAgent(a.Host)
			c.registered[a.Host] = true
		}
	}
	mc, err := marathon.New(c.mt.URL(), marathon.WithPollInterval(5*time.Millisecond),
		marathon.WithBackoff(5*time.Millisecond, 20*time.Millisecond), marathon.WithHTTPTimeout(2*time.Second))
	if err != nil {
		return err
	}
	c.marathon = mc
	volume := "moby-counter-" + ClusterID
	doc, err := manifest.Render(apps.MobyCounter, manifest.Params{AppID: facts.AppID, HostPort: facts.DefaultAppPort,
		VolumeDriver: facts.DockerVolumeDriverName[facts.VolumeDriverRexRay], VolumeName: volume, Zone: ec2test.AvailabilityZone})
	if err != nil {
		return fmt.Errorf("rendering the app manifest: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.StartTimeout)
	defer cancel()
	res, err := mc.Apply(ctx, doc)
	if err != nil {
		return fmt.Errorf("deploying the app to the stand-in Marathon: %w", err)
	}

	c.done.Add(1)
	go c.harness()
	for !c.served(ctx) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the app did not answer through the stand-in ELB within %s (backend %q)", c.opts.StartTimeout, c.TaskHost())
		case <-time.After(harnessPoll):
		}
	}

	ids, ips := make([]string, len(c.agents)), make([]string, len(c.agents))
	for i, a := range c.agents {
		ids[i], ips[i] = a.InstanceID, a.Host
	}
	c.outputs = stackoutputs.Outputs{
		MarathonURL: c.mt.URL(), MesosURL: fmt.Sprintf("http://%s:%d", facts.MasterPrivateIP, facts.MesosMasterPort),
		AppURL: c.elb.URL, MasterPublicIP: "127.0.0.1", MasterPrivateIP: facts.MasterPrivateIP,
		AgentInstanceIDs: ids, AgentPrivateIPs: ips, Region: ec2test.Region, AvailabilityZone: ec2test.AvailabilityZone,
		ClusterID: ClusterID, Stack: Stack, VolumeDriver: facts.VolumeDriverRexRay, VolumeName: volume,
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
		},
	}
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
		c.startRunningApp()
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

// startRunningApp starts an app server on the agent whose task is
// TASK_RUNNING, if it has none and is alive, and points the ELB at it.
func (c *Cluster) startRunningApp() {
	for _, t := range c.mt.Tasks(facts.AppID) {
		if t.State != marathontest.TaskRunning {
			continue
		}
		c.mu.Lock()
		if c.dead[t.Host] || c.servers[t.Host] != nil {
			c.mu.Unlock()
			continue
		}
		var opts []mobycountertest.ServerOption
		if c.opts.Buffered {
			opts = append(opts, mobycountertest.WithBuffered())
		}
		srv, err := mobycountertest.NewServer(c.dataDir, opts...)
		if err != nil {
			c.harnessErr = errors.Join(c.harnessErr, fmt.Errorf("starting the app on %s: %w", t.Host, err))
			c.mu.Unlock()
			continue
		}
		c.servers[t.Host] = srv
		c.backend = t.Host
		if err := c.elb.SetBackend(srv.URL); err != nil {
			c.harnessErr = errors.Join(c.harnessErr, err)
		}
		c.mu.Unlock()
	}
}

// onTerminate runs when EC2 accepts the termination of an instance: its
// Mesos agent stops and its app server crashes. It runs under ec2test's
// lock and calls only the other stand-ins.
func (c *Cluster) onTerminate(instanceID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	host := ""
	for _, a := range c.agents {
		if a.InstanceID == instanceID {
			host = a.Host
		}
	}
	if host == "" || c.dead[host] {
		return
	}
	c.dead[host] = true
	if c.registered[host] {
		c.mt.KillAgent(host)
	}
	if srv := c.servers[host]; srv != nil {
		srv.Close() // a crash: what is only in the page cache is lost
		delete(c.servers, host)
	}
}

// Outputs is what the stack would export, URLs pointing at the stand-ins,
// Failover settings scaled down to the test's timings.
func (c *Cluster) Outputs() stackoutputs.Outputs {
	o := c.outputs
	o.AgentInstanceIDs = append([]string(nil), o.AgentInstanceIDs...)
	o.AgentPrivateIPs = append([]string(nil), o.AgentPrivateIPs...)
	return o
}

// EC2Endpoint is the EC2 stand-in's URL, for AWS_ENDPOINT_URL_EC2 or an
// SDK client's BaseEndpoint.
func (c *Cluster) EC2Endpoint() string { return c.ec2.URL }

// EC2 returns an ec2ops client of the EC2 stand-in that polls every
// millisecond.
func (c *Cluster) EC2() *ec2ops.Client {
	return ec2ops.New(c.ec2.Client(), ec2ops.WithPollInterval(time.Millisecond))
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
func (c *Cluster) Agents() []Agent { return append([]Agent(nil), c.agents...) }

// TaskHost is the host whose app server the ELB forwards to now.
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
	c.mu.Lock()
	for h, s := range c.servers {
		s.Close()
		delete(c.servers, h)
	}
	c.mu.Unlock()
	c.elb.Close()
	c.mt.Close()
	c.ec2.Close()
	os.RemoveAll(c.dataDir)
}
