package components

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

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

// keptUserData passes a node's encoded user data (userdata.EncodeForEC2)
// through a Stash, so the node is replaced when its document changes and
// only then.
//
// EC2 stores user data as bytes, and the instance's
// user_data_replace_on_change compares the new base64 with the stored one
// (terraform-provider-aws ec2_instance.go, CustomizeDiff ForceNewIf
// user_data_base64). Those bytes are gzip's output, which Go does not
// promise to keep across versions: a newer compress/flate could replace
// every node, masters and their ZooKeeper state included, on an `up` that
// changes nothing. Ignoring changes to the user data does not help: the
// engine puts an ignored input's old value back before anything else
// (pulumi/pulumi step_generator.go processIgnoreChanges), so a node replaced
// for a real change would boot the old document.
//
// A Stash's output is the input it was created with; a new input only
// updates it, and only its replacementTrigger replaces it
// (pulumi/pulumi pkg/resource/deploy/builtins.go, step_generator.go
// shouldTriggerReplace). With the sha256 of the plain document as the
// trigger, new bytes for the same document leave the stored bytes, and the
// node, as they are; a new document replaces the stash, whose output is then
// the new bytes, and the node with it.
func keptUserData(ctx *pulumi.Context, name string, encoded pulumi.StringOutput, parent pulumi.Resource) (pulumi.StringOutput, error) {
	return stashString(ctx, name, encoded, encoded.ApplyT(documentDigest).(pulumi.StringOutput), parent)
}

// documentDigest is the hex sha256 of the document user data encodes
// (base64 of gzip, userdata.EncodeForEC2).
func documentDigest(encoded string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("user data is not base64: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("user data is not gzip: %w", err)
	}
	doc, err := io.ReadAll(zr)
	if err != nil {
		return "", fmt.Errorf("user data is not gzip: %w", err)
	}
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:]), nil
}
