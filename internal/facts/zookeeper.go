package facts

import (
	"strconv"
	"time"
)

// ZooKeeperSettings are the failure-detection settings of the masters'
// ZooKeeper ensemble and of its two kinds of clients that hold leadership
// in it (Mesos masters, Marathons). They decide how fast a lost master's
// leadership is noticed (docs/masters.md shows each master case's budget
// with them) and how easily a slow network causes an election nobody
// needed: every setting that shortens a detection also shortens the
// silence a live node may keep before it is taken for dead.
type ZooKeeperSettings struct {
	// TickTime is ZooKeeper's unit of time (zoo.cfg tickTime, env
	// ZOO_TICK_TIME of 31z4/zookeeper-docker 3.4.14/docker-entrypoint.sh;
	// image default 2000 ms, Dockerfile:7). Session expiry is checked in
	// buckets of one tick (release-3.4.14 SessionTrackerImpl:
	// expirationInterval = tickTime, roundToInterval), and a server accepts
	// client session timeouts from 2 to 20 ticks only
	// (ZooKeeperServer.java getMinSessionTimeout, getMaxSessionTimeout).
	TickTime time.Duration
	// InitLimit is how many ticks a follower may take to connect and sync
	// to a new leader (zoo.cfg initLimit, ZOO_INIT_LIMIT; image default 5).
	InitLimit int
	// SyncLimit is how many ticks a follower waits for its leader before
	// it drops it and starts an election (zoo.cfg syncLimit,
	// ZOO_SYNC_LIMIT; image default 2): the Learner reads with a socket
	// timeout of tickTime x syncLimit (release-3.4.14 Learner.java
	// connectToLeader, sock.setSoTimeout). So the followers notice their
	// leader's death after SyncLimit x TickTime.
	SyncLimit int
	// MesosSessionTimeout is the Mesos masters' ZooKeeper session
	// (--zk_session_timeout, default 10secs: apache/mesos 1.4.1
	// src/master/flags.cpp). A lost leading master's znode goes when it
	// expires, and the next contender leads.
	MesosSessionTimeout time.Duration
	// MarathonSessionTimeout is the Marathons' ZooKeeper session
	// (--zk_session_timeout in ms, default 10000: mesosphere/marathon
	// v1.4.9 src/main/scala/mesosphere/marathon/ZookeeperConf.scala). A lost
	// leader's latch node goes when it expires. Curator reports SUSPENDED
	// when the client hears nothing for 2/3 of it (ZooKeeper's ClientCnxn
	// readTimeout = sessionTimeout x 2/3), and the leading Marathon then
	// exits (CuratorElectionService.scala LeaderChangeListener.notLeader
	// -> stop(exit = true)).
	MarathonSessionTimeout time.Duration
}

// ZooKeeperImageDefaults are the settings of the images and flags as
// shipped: zookeeper:3.4.14's tickTime 2000, initLimit 5, syncLimit 2
// (31z4/zookeeper-docker 3.4.14/Dockerfile:7-9), Mesos's and Marathon's
// 10 s sessions. With them the ZooKeeper leader's loss costs 4 s before the
// followers notice and the lost master's sessions expire a full 10 s after
// the new ZooKeeper leader restarts their timers: the master budget's worst
// case is 30 s (docs/masters.md).
var ZooKeeperImageDefaults = ZooKeeperSettings{
	TickTime: 2000 * time.Millisecond, InitLimit: 5, SyncLimit: 2,
	MesosSessionTimeout: 10 * time.Second, MarathonSessionTimeout: 10 * time.Second,
}

// ZooKeeper is what the cluster runs (userdata/templates/run-zookeeper.tmpl,
// run-mesos-master.tmpl, run-marathon.tmpl) and what the master budget
// (failover.NewMasterBudget) counts with. It is chosen so that every master
// case's budget meets MasterBudgetGoal (tested in internal/failover):
//   - tickTime 1 s and syncLimit 2: followers drop a silent leader after
//     2 s (image default 4 s);
//   - initLimit 10: a follower still has 10 s, as with the image's 5 x 2 s,
//     to sync with a new leader;
//   - 3 s sessions for Mesos and Marathon (defaults 10 s; ZooKeeper's floor
//     is 2 ticks, 2 s): a lost master's leadership is gone 3 s (plus the
//     one-tick expiry bucket) after its last word.
//
// The price (docs/masters.md): a follower that hears nothing from its
// leader for 2 s, on a congested network or behind a long JVM pause,
// leaves the quorum and forces an election; a Mesos master or Marathon
// whose ZooKeeper connection is silent for 2 s (2/3 of 3 s) is
// disconnected (the leading Marathon exits) and after 3 s loses its
// session (the leading Mesos master then exits when it loses its candidacy:
// apache/mesos 1.4.1 src/master/master.cpp Master::lostCandidacy). On one
// VPC subnet such
// silences are rare; across regions they would not be.
var ZooKeeper = ZooKeeperSettings{
	TickTime: time.Second, InitLimit: 10, SyncLimit: 2,
	MesosSessionTimeout: 3 * time.Second, MarathonSessionTimeout: 3 * time.Second,
}

// SyncTimeout is how long followers wait for a silent leader:
// SyncLimit x TickTime.
func (z ZooKeeperSettings) SyncTimeout() time.Duration {
	return time.Duration(z.SyncLimit) * z.TickTime
}

// MinSessionTimeout and MaxSessionTimeout bound the session timeout a
// client may have: 2 and 20 ticks (release-3.4.14 ZooKeeperServer.java,
// minSessionTimeout and maxSessionTimeout defaults); a request outside is
// silently clamped.
func (z ZooKeeperSettings) MinSessionTimeout() time.Duration { return 2 * z.TickTime }

// MaxSessionTimeout: see MinSessionTimeout.
func (z ZooKeeperSettings) MaxSessionTimeout() time.Duration { return 20 * z.TickTime }

// DisconnectAfter is how long a client hears nothing before it drops its
// connection (ClientCnxn readTimeout = sessionTimeout x 2/3, release-3.4.14
// ClientCnxn.java onConnected) and Curator reports SUSPENDED.
func DisconnectAfter(session time.Duration) time.Duration { return session * 2 / 3 }

// Env values for the zookeeper image's entrypoint.

// TickTimeMillis is ZOO_TICK_TIME.
func (z ZooKeeperSettings) TickTimeMillis() string {
	return strconv.FormatInt(z.TickTime.Milliseconds(), 10)
}

// MesosSessionFlag is the Mesos master's --zk_session_timeout value, in
// the units stout's Duration::parse reads ("3secs").
func (z ZooKeeperSettings) MesosSessionFlag() string {
	return strconv.FormatInt(int64(z.MesosSessionTimeout/time.Second), 10) + "secs"
}

// MarathonSessionMillis is Marathon's --zk_session_timeout value (ms).
func (z ZooKeeperSettings) MarathonSessionMillis() string {
	return strconv.FormatInt(z.MarathonSessionTimeout.Milliseconds(), 10)
}

// Estimates of a ZooKeeper ensemble's and the masters' recovery steps no
// setting of ours decides, for the master budget.
const (
	// ZooKeeperElectionEstimate: once the followers dropped their lost
	// leader they vote (FastLeaderElection, finalizeWait 200 ms once a
	// quorum agrees: release-3.4.14 FastLeaderElection.java) and the new
	// leader waits for a quorum to acknowledge its epoch and NEWLEADER
	// (Leader.java lead, bounded by initLimit x tickTime); with the small
	// state of Mesos and Marathon it syncs by DIFF. We allow 1 s.
	ZooKeeperElectionEstimate = time.Second
	// CanaryEstimate: a canary app (a command task, no image) is deployed,
	// offered resources within Mesos's --allocation_interval (1secs), runs
	// with the command executor, and is removed (a kill and a
	// StopApplication deployment). We allow 3 s.
	CanaryEstimate = 3 * time.Second
)
