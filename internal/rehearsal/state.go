package rehearsal

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// Inspector is a Stack whose state can be read before the destroy: the
// AutoStack exports it (`pulumi stack export`); a test stand-in may too.
type Inspector interface {
	Inspect(ctx context.Context) (StackState, error)
}

// StackState is what the teardown needs from a stack's exported state.
type StackState struct {
	// Region is the AWS provider's region, "" when the state has no
	// provider yet.
	Region string
	// ClusterID is the clusterId output, "" until an up finished.
	ClusterID string
	// VolumeName is the volumeName output (REX-Ray names the app's volume
	// after it); FlockerClusterUUID the Flocker cluster's UUID resource
	// (its volumes' tag). The sweep finds the app's volume by them.
	VolumeName         string
	FlockerClusterUUID string
	// ResourceIDs are the provider ids of the resources the state manages
	// (instance ids, volume ids, ELB names, ...): a sweep before the
	// destroy leaves them to it.
	ResourceIDs []string
	// Pending are the operations an interrupted update left in the state.
	Pending []PendingOperation
}

// PendingOperation is an operation the engine started and never saw
// finish (apitype.OperationV2 in a DeploymentV3's pending_operations): the
// pulumi process was killed while it ran.
type PendingOperation struct {
	// Type is apitype.OperationType: creating, updating, deleting, reading.
	Type         string `json:"type"`
	URN          string `json:"urn"`
	ResourceType string `json:"resourceType"`
	// ID is the provider id; a pending CREATE has none.
	ID string `json:"id,omitempty"`
}

// Name is the resource's name, the last part of its URN.
func (p PendingOperation) Name() string {
	if i := strings.LastIndex(p.URN, "::"); i >= 0 {
		return p.URN[i+2:]
	}
	return p.URN
}

func (p PendingOperation) String() string {
	return fmt.Sprintf("%s %s (%s), interrupted while %s", p.ResourceType, p.Name(), p.URN, p.Type)
}

// IsCreate reports whether the operation is a create, the one a destroy
// cannot undo: the resource may exist, but the state has no id for it.
func (p PendingOperation) IsCreate() bool { return p.Type == string(apitype.OperationTypeCreating) }

// Types of resources the sweep removes by their tags (ec2ops.Sweeper).
var sweptTypes = map[string]bool{
	"aws:ec2/instance:Instance":         true,
	"aws:ebs/volume:Volume":             true,
	"aws:elb/loadBalancer:LoadBalancer": true,
}

// createsNothingOutside reports whether a resource type's create makes
// nothing that outlives the stack outside Pulumi's state: providers,
// random values, keys, local commands (deploy-app posts to the cluster's
// Marathon, which goes with the swept instances), and an ELB attachment
// (a registration, which goes with the ELB).
func createsNothingOutside(typ string) bool {
	for _, p := range []string{"pulumi:providers:", "random:", "tls:", "command:local:", "aws:elb/attachment:"} {
		if strings.HasPrefix(typ, p) {
			return true
		}
	}
	return false
}

// randomUUIDType is the type token of pulumi-random's RandomUuid, whose
// output "result" is the UUID (pulumi-random sdk/v4 v4.18.0 go/random/randomUuid.go).
const randomUUIDType = "random:index/randomUuid:RandomUuid"

// ParseDeployment reads an exported deployment (`pulumi stack export`,
// auto.Stack.Export). Versions 3 and 4 unmarshal into apitype.DeploymentV3
// (its doc comment, sdk v3.263.0 go/common/apitype/core.go); the CLI of the
// SDK's version writes no other.
func ParseDeployment(d apitype.UntypedDeployment) (StackState, error) {
	var st StackState
	if d.Version != 3 && d.Version != 4 {
		return st, fmt.Errorf("reading the exported state: deployment version %d; this tool reads versions 3 and 4 (pulumi CLI v3)", d.Version)
	}
	if len(d.Deployment) == 0 {
		return st, nil // a stack that never had an update
	}
	var dep apitype.DeploymentV3
	if err := json.Unmarshal(d.Deployment, &dep); err != nil {
		return st, fmt.Errorf("reading the exported state: %w", err)
	}
	for _, r := range dep.Resources {
		switch {
		case strings.HasPrefix(string(r.Type), "pulumi:providers:aws") && st.Region == "":
			if region, ok := r.Inputs["region"].(string); ok {
				st.Region = region
			}
		case r.Type == "pulumi:pulumi:Stack":
			if id, ok := r.Outputs[stackoutputs.ClusterID].(string); ok {
				st.ClusterID = id
			}
			if v, ok := r.Outputs[stackoutputs.VolumeName].(string); ok {
				st.VolumeName = v
			}
		case r.Type == randomUUIDType && strings.HasSuffix(string(r.URN), facts.FlockerClusterUUIDResource):
			if u, ok := r.Outputs["result"].(string); ok {
				st.FlockerClusterUUID = u
			}
		}
		if r.Custom && r.ID != "" {
			st.ResourceIDs = append(st.ResourceIDs, string(r.ID))
		}
	}
	sort.Strings(st.ResourceIDs)
	for _, op := range dep.PendingOperations {
		st.Pending = append(st.Pending, PendingOperation{Type: string(op.Type), URN: string(op.Resource.URN),
			ResourceType: string(op.Resource.Type), ID: string(op.Resource.ID)})
	}
	return st, nil
}

// Inspect implements Inspector: it exports the stack's state. A stack that
// does not exist (the run stopped before `pulumi stack init`) has an empty
// state. The region falls back to the run's when no provider is recorded.
func (s *AutoStack) Inspect(ctx context.Context) (StackState, error) {
	st, ok, err := s.existing(ctx)
	if err != nil {
		return StackState{}, err
	}
	if !ok {
		return StackState{Region: s.info.Region}, nil
	}
	dep, err := st.Export(ctx)
	if err != nil {
		return StackState{}, fmt.Errorf("pulumi stack export of stack %s: %w", s.Name(), err)
	}
	state, err := ParseDeployment(dep)
	if err != nil {
		return StackState{}, fmt.Errorf("stack %s: %w", s.Name(), err)
	}
	if state.Region == "" {
		state.Region = s.info.Region
	}
	return state, nil
}
