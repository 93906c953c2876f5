// Command marathon-ha is the Pulumi program: it reads the stack's config,
// builds the cluster and exports where to find it. Everything else lives in
// components/, userdata/ and internal/.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/components"
	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	out "github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

func main() {
	pulumi.Run(program)
}

func program(ctx *pulumi.Context) error {
	cfg, err := config.Load(ctx)
	if err != nil {
		return err
	}
	// The program's own AWS reads (the preflight's IMDS check). A test run
	// hands it the mocks' account in the run's Go context (pulumimock.Run);
	// `pulumi preview` and `up` carry none, and connect to AWS.
	account, ok := ec2ops.AccountSettingsFrom(ctx.Context())
	if !ok {
		account = ec2ops.ConnectAccountSettings(ctx.Context(), cfg.Region, cfg.Profile)
	}
	c, err := components.NewCluster(ctx, facts.Project, &components.ClusterArgs{Config: cfg, Stack: ctx.Stack(), Account: account})
	if err != nil {
		return err
	}
	ctx.Export(out.MarathonURL, c.MarathonURL)
	ctx.Export(out.MarathonURLs, c.MarathonURLs)
	ctx.Export(out.MesosURL, c.MesosURL)
	ctx.Export(out.MesosURLs, c.MesosURLs)
	ctx.Export(out.AppURL, c.AppURL)
	ctx.Export(out.MasterPublicIP, c.Masters.PublicIPs.Index(pulumi.Int(0)))
	ctx.Export(out.MasterPublicIPs, c.Masters.PublicIPs)
	ctx.Export(out.MasterPrivateIP, c.Masters.PrivateIPs.Index(pulumi.Int(0)))
	ctx.Export(out.MasterPrivateIPs, c.Masters.PrivateIPs)
	ctx.Export(out.AgentInstanceIDs, c.Agents.InstanceIDs)
	ctx.Export(out.AgentPrivateIPs, c.Agents.PrivateIPs)
	ctx.Export(out.Region, pulumi.String(cfg.Region))
	ctx.Export(out.AvailabilityZone, c.Zone)
	ctx.Export(out.ClusterID, c.ClusterID)
	ctx.Export(out.Stack, pulumi.String(ctx.Stack()))
	ctx.Export(out.VolumeDriver, pulumi.String(cfg.VolumeDriver))
	ctx.Export(out.VolumeName, c.VolumeName)
	ctx.Export(out.AppID, pulumi.String(facts.AppID))
	ctx.Export(out.AppVersion, c.App.AppVersion)
	ctx.Export(out.AppTaskHost, c.App.TaskHost)
	ctx.Export(out.SSHMaster, c.SSHMaster)
	ctx.Export(out.SSHMasters, c.SSHMasters)
	ctx.Export(out.SSHAgents, c.SSHAgents)
	ctx.Export(out.ELBSecurityGroupID, c.Network.ELBSG)
	ctx.Export(out.AppPort, pulumi.Int(cfg.AppPort))
	settings := out.NewFailoverSettings(cfg.AgentPingTimeout, cfg.MaxAgentPingTimeouts)
	if hc := c.AppHealthCheck; c.HasAppHealthCheck {
		settings = settings.WithHealthCheck(hc.GracePeriod, hc.Interval, hc.MaxConsecutiveFailures)
	}
	ctx.Export(out.Failover, pulumi.ToMap(settings.Map()))
	return nil
}
