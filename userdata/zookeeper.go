package userdata

import "github.com/marathon-ha/marathon-ha/internal/facts"

// ZK is the ensemble's failure-detection settings (facts.ZooKeeper), which
// run-zookeeper.tmpl, run-mesos-master.tmpl and run-marathon.tmpl render
// for a master of several. A single master keeps the images' defaults:
// nothing fails over to another master, so a faster detection would buy
// nothing and its user data (and so its instance) stays as it was.
func (n *node) ZK() facts.ZooKeeperSettings { return facts.ZooKeeper }
