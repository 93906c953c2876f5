package rehearsal

import (
	"context"
	"fmt"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// scope is the stack's agents, as the tools find them by tag.
func (a *agentRun) scope() ec2ops.Scope {
	return ec2ops.Scope{Stack: a.outs.Stack, ClusterID: a.outs.ClusterID}
}

// groupErr is nil when the stack's agents are an Auto Scaling group's
// (ec2ops.ErrNoGroup when they are fixed agents). A stack whose outputs
// name its agents has fixed ones (a group's stack names none:
// components.Agents), and Auto Scaling is not asked.
func (a *agentRun) groupErr(ctx context.Context) error {
	if len(a.outs.AgentInstanceIDs) > 0 {
		return ec2ops.ErrNoGroup
	}
	_, err := a.e.AgentGroup(ctx, a.scope())
	return err
}

// groupFullStrength waits until the agents' group is back to its desired
// capacity, every agent InService, and returns how long after the round's
// kill that was: the time to full strength.
func (a *agentRun) groupFullStrength(ctx context.Context, n int) (time.Duration, error) {
	killedAt, err := time.Parse(time.RFC3339Nano, a.r.KilledAt)
	if err != nil {
		return 0, fmt.Errorf("round %d has no kill time (%q): %w", n, a.r.KilledAt, err)
	}
	if _, _, err := a.e.WaitFullStrength(ctx, a.scope(), a.cfg.Progress); err != nil {
		return 0, err
	}
	return a.cfg.Now().Sub(killedAt), nil
}

// agentIPs are the agents' private addresses: the stack outputs' for fixed
// agents, else the live agents found by the stack's tags (a group's,
// whose instances no output names).
func (a *agentRun) agentIPs(ctx context.Context) ([]string, error) {
	if len(a.outs.AgentPrivateIPs) > 0 {
		return a.outs.AgentPrivateIPs, nil
	}
	return a.e.LiveAgentAddresses(ctx, a.outs.ClusterID)
}

// groupRestorer restores a group's cluster without `pulumi up`: the group
// replaced the lost agent (rounds.Config.FullStrength waited for it), and
// the outputs stay as they are.
type groupRestorer struct{ a *agentRun }

func (g groupRestorer) Restore(context.Context) (stackoutputs.Outputs, error) { return g.a.outs, nil }
