package facts

import "time"

// MasterCounts are the numbers of masters a cluster may have. Each master
// runs a ZooKeeper server, a Mesos master and a Marathon. ZooKeeper serves
// only while a majority of its ensemble is up ("Defaulting to majority
// quorums": QuorumMaj, apache/zookeeper release-3.4.14
// zookeeper-server/src/main/java/org/apache/zookeeper/server/quorum/QuorumPeerConfig.java),
// and the Mesos masters' replicated log writes only with a quorum of
// replicas, which must be a majority of the masters (MasterQuorum). So an
// even count survives no more failures than the odd count below it
// (4 masters, like 3, survive one: "No server failure will be tolerated"
// with 2, "Non-optimial configuration, consider an odd number of servers",
// same file). One is the 2015 demo's single master; three survive the loss
// of any one master, five of any two. Five is the most: each master adds
// a line to every node's ZooKeeper and Mesos addresses, and the largest
// user data (the first master's, with Flocker) must stay within EC2's limit
// (userdata.EncodeForEC2; tested in userdata and components).
var MasterCounts = []int{1, 3, 5}

// MasterQuorum is the Mesos masters' --quorum for n masters: a majority.
// "It is imperative to set this value to be a majority of masters i.e.,
// quorum > (number of masters)/2" (apache/mesos 1.4.1 docs/configuration.md,
// --quorum); a smaller quorum lets two masters each believe they hold the
// registry, a larger one stops the cluster when a master it could spare is
// lost. ZooKeeper's own quorum is the same majority of the same nodes.
func MasterQuorum(n int) int { return n/2 + 1 }

// FlockerControlMaster is the master (1-based) that runs the Flocker
// control service with the flocker volume driver. The control service keeps
// its state in one file on its own node and has no replication
// (ClusterHQ/flocker 1.15.0 flocker/control/_persistence.py:588-605,
// ConfigurationPersistenceService writes current_configuration.json under
// --data-path), so it runs once,
// on the first master, whose address is fixed (MasterPrivateIP): the agents'
// agent.yml and the control service certificate name it.
const FlockerControlMaster = 1

// MasterBudgetGoal is the goal for every master case's budget
// (failover.NewMasterBudget): the cluster schedules again (a canary app
// deployed and removed) within 20 s of losing any one master, whatever it
// led. 20 s was the budget of the leading master's loss before the cases
// were told apart (issue 19); the ZooKeeper settings (ZooKeeper) are
// chosen to meet it, not the goal raised to meet them.
const MasterBudgetGoal = 20 * time.Second

// CanaryAppID is the Marathon app a master failover's watch deploys and
// removes to prove that Marathon schedules again (failover.CanaryManifest):
// outside the app's group, so that nothing of the app is touched.
const CanaryAppID = "/marathon-ha-canary"
