package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
)

const tAttachment = "aws:elb/attachment:Attachment"

// TestELBMembershipIsOneAttachmentPerAgent: the agents are registered with
// the ELB one attachment each, not through the ELB's `instances` list, so an
// agent that no longer exists breaks only its own registration; `pulumi up
// --refresh` drops that attachment (the provider's Read finds the instance
// gone from the ELB) and registers the agent that replaces it.
func TestELBMembershipIsOneAttachmentPerAgent(t *testing.T) {
	for _, agents := range []int{2, 3} {
		for _, preview := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d agents, preview %v", agents, preview), func(t *testing.T) {
				res, err := pulumimock.Run(program, pulumimock.NewMocks(), "dev", flockerConfig("agentCount", fmt.Sprint(agents)), preview)
				if err != nil {
					t.Fatal(err)
				}
				lbs := res.OfType(tELB)
				if len(lbs) != 1 {
					t.Fatalf("%d load balancers", len(lbs))
				}
				lb := lbs[0]
				if v, ok := lb.Inputs["instances"]; ok {
					t.Errorf("the ELB lists instances %v; with attachments it must not (they would overwrite each other)", v)
				}
				if n := len(res.OfType(tAttachment)); n != agents {
					t.Fatalf("%d attachments for %d agents", n, agents)
				}
				for i := 1; i <= agents; i++ {
					a, ok := res.Named(tAttachment, fmt.Sprintf("marathon-ha-elb-agent-%d", i))
					agent, ok2 := res.Named(tInstance, fmt.Sprintf("marathon-ha-agents-%d", i))
					if !ok || !ok2 {
						t.Fatalf("no attachment or no instance for agent %d", i)
					}
					if !strings.HasPrefix(a.Parent, "marathon-ha:index:LoadBalancer::") {
						t.Errorf("%s is under %q, want the LoadBalancer", a.Name, a.Parent)
					}
					// elb is the ELB's name, taken from the ELB: a replacement of
					// the ELB (deleted first, same name) replaces the attachments.
					if !preview && a.String("elb") != lb.String("name") {
						t.Errorf("%s elb = %q, want the ELB's name %q", a.Name, a.String("elb"), lb.String("name"))
					}
					if deps := a.PropertyDependencies["elb"]; len(deps) != 1 || deps[0] != lb.Key() {
						t.Errorf("%s elb comes from %v, want the ELB %s", a.Name, deps, lb.Key())
					}
					// instance is its own agent's id.
					if deps := a.PropertyDependencies["instance"]; len(deps) != 1 || deps[0] != agent.Key() {
						t.Errorf("%s instance comes from %v, want %s", a.Name, deps, agent.Key())
					}
					if !strings.HasPrefix(agent.Parent, "marathon-ha:index:Agents::") {
						t.Errorf("%s is under %q, not an agent", agent.Key(), agent.Parent)
					}
					if !preview && !strings.HasPrefix(a.String("instance"), "i-") {
						t.Errorf("%s instance = %q, want an instance id", a.Name, a.String("instance"))
					}
					// Deleting the ELB drops its registrations: no deregistering
					// on destroy, which would fail for an instance already gone.
					if a.DeletedWith != lb.Key() {
						t.Errorf("%s deletedWith %q, want the ELB %s", a.Name, a.DeletedWith, lb.Key())
					}
					if a.DeleteBeforeReplace {
						t.Errorf("%s: a new registration can exist next to the old one; no need to delete first", a.Name)
					}
				}
			})
		}
	}
}
