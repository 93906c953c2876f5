//go:build unix

package rehearsal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

// fakeAutoPulumi is a pulumi CLI for the Automation API calls a teardown
// makes (sdk v3.263.0 go/auto: NewPulumiCommand runs `pulumi version`;
// SelectStack `stack select --stack S`; Export `stack export --show-secrets
// --stack S`; Destroy `destroy --yes --skip-preview ... --stack S` then
// `stack history --json ...`; RemoveStack `stack rm --yes S`). It logs each
// call; export prints $FAKE_PULUMI_DIR/export.json; destroy says
// destroy-started and waits for destroy-done, so the test can look at AWS
// while the destroy runs and play its part.
const fakeAutoPulumi = `#!/bin/sh
d="$FAKE_PULUMI_DIR"
echo "$*" >> "$d/calls"
case " $* " in
*" version "*) echo v3.263.0 ;;
*" stack select "*) ;;
*" stack export "*) cat "$d/export.json" ;;
*" stack history "*) echo '[]' ;;
*" stack rm "*) ;;
*" destroy "*)
  : > "$d/destroy-started"
  i=0
  while [ ! -f "$d/destroy-done" ]; do
    sleep 0.01; i=$((i+1))
    if [ $i -gt 1000 ]; then echo "destroy-done never came" >&2; exit 1; fi
  done ;;
*) echo "fake pulumi: unexpected command: $*" >&2; exit 2 ;;
esac
exit 0
`

// exportOf is the deployment `pulumi stack export` prints for a stack
// whose up was killed while creating agent 2: the master is in the state
// with its id, the agent only as a pending CREATE.
func exportOf(t *testing.T, stack string, pending bool) []byte {
	t.Helper()
	urn := func(typ, name string) resource.URN {
		return resource.NewURN(tokens.QName(stack), facts.Project, "", tokens.Type(typ), name)
	}
	dep := apitype.DeploymentV3{
		Manifest: apitype.ManifestV1{Version: "v3.263.0"},
		Resources: []apitype.ResourceV3{
			{URN: urn("pulumi:pulumi:Stack", facts.Project+"-"+stack), Type: "pulumi:pulumi:Stack"},
			{URN: urn("pulumi:providers:aws", "default_6_83_4"), Custom: true, ID: "0b6c1f5e", Type: "pulumi:providers:aws",
				Inputs: map[string]any{"region": tdRegion, "version": "6.83.4"}},
			{URN: urn("aws:ec2/instance:Instance", "cluster-master"), Custom: true, ID: "i-0master", Type: "aws:ec2/instance:Instance"},
		},
	}
	if pending {
		dep.PendingOperations = []apitype.OperationV2{{Type: apitype.OperationTypeCreating, Resource: apitype.ResourceV3{
			URN: urn("aws:ec2/instance:Instance", "cluster-agents-2"), Custom: true, Type: "aws:ec2/instance:Instance",
			Inputs: map[string]any{"instanceType": "m4.large"}}}}
	}
	raw, err := json.Marshal(dep)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(apitype.UntypedDeployment{Version: 3, Deployment: raw})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAutoStackTeardownAgainstAFakeCLI(t *testing.T) {
	for _, tc := range []struct {
		name          string
		pending, deny bool
	}{
		{name: "pending create swept", pending: true},
		{name: "clean destroy"},
		{name: "leftover cannot be removed", pending: true, deny: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := t.TempDir()
			if err := os.WriteFile(filepath.Join(fake, "pulumi"), []byte(fakeAutoPulumi), 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", fake+string(os.PathListSeparator)+os.Getenv("PATH"))
			t.Setenv("FAKE_PULUMI_DIR", fake)
			s, err := rehearsal.NewAutoStack(autoOptions(t, t.TempDir(), map[string]string{"PULUMI_HOME": t.TempDir()}))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(fake, "export.json"), exportOf(t, s.Name(), tc.pending), 0o644); err != nil {
				t.Fatal(err)
			}
			e, _, sw := sweepStandIns(t, tdRegion)
			tags := func(role string) map[string]string {
				return map[string]string{facts.TagProject: facts.Project, facts.TagStack: s.Name(), facts.TagRole: role}
			}
			e.AddInstance(ec2test.Instance{ID: "i-0master", Tags: tags(facts.RoleMaster)})
			if tc.pending {
				e.AddInstance(ec2test.Instance{ID: "i-0agent2", Tags: tags(facts.RoleAgent)})
			}
			if tc.deny {
				e.Fail("TerminateInstances", 1, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
			}
			// Play pulumi's destroy: what the state knows goes.
			go func() {
				for {
					if _, err := os.Stat(filepath.Join(fake, "destroy-started")); err == nil {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				if in, _ := e.Instance("i-0agent2"); tc.pending && !tc.deny && in.State != ec2test.StateTerminated {
					t.Errorf("the leftover is %s when the destroy starts", in.State)
				}
				if _, err := e.Client().TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0master"}}); err != nil {
					t.Errorf("the destroy's terminate: %v", err)
				}
				if tc.deny {
					e.Fail("TerminateInstances", -1, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
				}
				_ = os.WriteFile(filepath.Join(fake, "destroy-done"), nil, 0o644)
			}()

			var progress bytes.Buffer
			r := &rehearsal.Report{Stack: s.Name()}
			rehearsal.Teardown(context.Background(), rehearsal.TeardownConfig{Stack: s, Sweep: sw,
				SweepWait: 5 * time.Second, SweepPoll: 2 * time.Millisecond, Progress: &progress}, r)

			raw, _ := os.ReadFile(filepath.Join(fake, "calls"))
			calls := string(raw)
			for _, want := range []string{"stack export --show-secrets --stack " + s.Name(), "destroy --exec-kind=auto.local --yes --skip-preview --stack " + s.Name()} {
				if !strings.Contains(calls, want) {
					t.Errorf("pulumi was not asked %q; calls:\n%s", want, calls)
				}
			}
			lo := r.Leftovers
			if !lo.StateRead || !r.Destroyed {
				t.Fatalf("state read %v, destroyed %v, problems %q\nprogress:\n%s", lo.StateRead, r.Destroyed, r.Problems, progress.String())
			}
			_, runDirErr := os.Stat(s.Info().RunDir)
			switch {
			case tc.deny:
				if r.Removed || strings.Contains(calls, "stack rm") || runDirErr != nil {
					t.Errorf("removed %v, run dir %v, calls:\n%s\nwant the stack and its run directory kept for --destroy-run", r.Removed, runDirErr, calls)
				}
				if p := strings.Join(r.Problems, "\n"); !strings.Contains(p, "i-0agent2") || !strings.Contains(p, "still there after the sweep") {
					t.Errorf("problems do not name the leftover:\n%s", p)
				}
			case tc.pending:
				op := lo.PendingOperations
				if len(op) != 1 || !op[0].IsCreate() || op[0].ResourceType != "aws:ec2/instance:Instance" || op[0].Name() != "cluster-agents-2" {
					t.Errorf("pending operations %+v", op)
				}
				if lo.BeforeDestroy == nil || len(lo.BeforeDestroy.Terminated) != 1 || lo.BeforeDestroy.Terminated[0] != "i-0agent2" || len(lo.BeforeDestroy.Kept) != 1 {
					t.Errorf("sweep before the destroy %+v", lo.BeforeDestroy)
				}
				fallthrough
			default:
				if len(r.Problems) != 0 || !r.Removed || !lo.Clean || lo.AfterDestroy.Found() || !os.IsNotExist(runDirErr) {
					t.Errorf("problems %q, removed %v, leftovers %+v, run dir %v\nprogress:\n%s", r.Problems, r.Removed, lo, runDirErr, progress.String())
				}
				if !strings.Contains(calls, "stack rm --yes "+s.Name()) {
					t.Errorf("the stack was not removed; calls:\n%s", calls)
				}
			}
			if !tc.pending && (lo.BeforeDestroy != nil || len(lo.PendingOperations) != 0 || len(e.Calls("TerminateInstances")) != 1) {
				t.Errorf("a clean destroy swept: %+v, %d terminate calls", lo, len(e.Calls("TerminateInstances")))
			}
		})
	}
}

func TestParseDeployment(t *testing.T) {
	var dep apitype.UntypedDeployment
	if err := json.Unmarshal(exportOf(t, tdStack, true), &dep); err != nil {
		t.Fatal(err)
	}
	st, err := rehearsal.ParseDeployment(dep)
	if err != nil {
		t.Fatal(err)
	}
	if st.Region != tdRegion || st.ClusterID != "" || strings.Join(st.ResourceIDs, ",") != "0b6c1f5e,i-0master" || len(st.Pending) != 1 {
		t.Errorf("state %+v", st)
	}
	// A finished up has the clusterId output on the stack resource.
	var d apitype.DeploymentV3
	_ = json.Unmarshal(dep.Deployment, &d)
	d.Resources[0].Outputs = map[string]any{"clusterId": tdCluster}
	dep.Deployment, _ = json.Marshal(d)
	if st, err := rehearsal.ParseDeployment(dep); err != nil || st.ClusterID != tdCluster {
		t.Errorf("cluster id %q, %v", st.ClusterID, err)
	}
	if st, err := rehearsal.ParseDeployment(apitype.UntypedDeployment{Version: 3}); err != nil || len(st.Pending)+len(st.ResourceIDs) != 0 {
		t.Errorf("a stack without an update: %+v, %v", st, err)
	}
	if _, err := rehearsal.ParseDeployment(apitype.UntypedDeployment{Version: 2, Deployment: []byte("{}")}); err == nil {
		t.Error("deployment version 2 accepted")
	}
}
