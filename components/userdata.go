package components

import (
	"fmt"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/userdata"
)

// placeholderClusterID stands in for the cluster id when the user data is
// checked before the id exists. A real id is "mha-" and 8 hex digits
// (random.RandomId of 4 bytes, NewCluster); this one has the same length,
// and mixed digits so it compresses no better than a real one.
const placeholderClusterID = "mha-5c1e9a7f"

// masterBoot is every master's boot configuration, without the master's
// index, the cluster id and the Flocker files (NewMasters and
// masterUserData add them).
func masterBoot(cfg config.Config, zone string) userdata.MasterInput {
	return userdata.MasterInput{
		Masters: facts.MasterPrivateIPs(cfg.MasterCount),
		Region:  cfg.Region, Zone: zone, VolumeDriver: cfg.VolumeDriver,
		AgentPingTimeout: cfg.AgentPingTimeout, MaxAgentPingTimeouts: cfg.MaxAgentPingTimeouts,
		Images: userdata.MasterImages{ZooKeeper: cfg.Images.ZooKeeper, MesosMaster: cfg.Images.MesosMaster,
			Marathon: cfg.Images.Marathon, FlockerControl: cfg.Images.FlockerControl, AWSCLI: cfg.Images.AWSCLI},
	}
}

// agentBoot is every agent's boot configuration, without the cluster id, the
// index and the Flocker files (agentUserData adds them).
func agentBoot(cfg config.Config, zone string) userdata.AgentInput {
	return userdata.AgentInput{
		Region: cfg.Region, Zone: zone, Masters: facts.MasterPrivateIPs(cfg.MasterCount), VolumeDriver: cfg.VolumeDriver,
		AppImage: cfg.Images.App, AppPort: cfg.AppPort, PortRangeStart: facts.AgentPortRangeStart, PortRangeEnd: facts.AgentPortRangeEnd,
		SelfFenceAfter: cfg.SelfFenceAfter,
		Images: userdata.AgentImages{MesosAgent: cfg.Images.MesosAgent, MesosExecutor: cfg.Images.MesosExecutor, FlockerDatasetAgent: cfg.Images.FlockerDatasetAgent,
			FlockerDockerPlugin: cfg.Images.FlockerDockerPlugin, RexRayPlugin: cfg.Images.RexRayPlugin},
	}
}

// checkUserData renders and encodes every master's and every agent's user
// data as NewMasters and NewAgents will, with placeholderClusterID, and returns the
// first error, such as a document over EC2's 16 KiB (userdata.EncodeForEC2).
// The real documents wait for the random cluster id, which a new stack's
// preview does not know: without this check an oversized document would
// fail `pulumi up` after the VPC and IAM roles exist. The zone is a
// placeholder too: a zone's name is its region's and one letter (checked by
// userdata), so the size is the same.
func checkUserData(cfg config.Config) error {
	zone := cfg.Region + "a"
	hint := fmt.Sprintf("checked before any resource is created, with placeholder cluster id %s; the image references in the config are what vary its size", placeholderClusterID)
	for i := 1; i <= cfg.MasterCount; i++ {
		in := masterBoot(cfg, zone)
		in.Index = i
		if _, err := masterUserData(in, placeholderClusterID); err != nil {
			return fmt.Errorf("master user data (master %d of %d, %s): %w", i, cfg.MasterCount, hint, err)
		}
	}
	for i := 1; i <= cfg.AgentCount; i++ {
		if _, err := agentUserData(agentBoot(cfg, zone), placeholderClusterID, i); err != nil {
			return fmt.Errorf("agent %d user data (%s): %w", i, hint, err)
		}
	}
	return nil
}
