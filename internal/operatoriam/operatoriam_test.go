package operatoriam

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/operator-iam-policy.json from Needs")

const policyFile = "../../docs/operator-iam-policy.json"

// The committed policy is the one Needs makes.
func TestPolicyFileIsGenerated(t *testing.T) {
	want, err := Policy()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(policyFile)
	if *update {
		if err := os.WriteFile(policyFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Errorf("rewrote %s; run again without -update", policyFile)
		return
	}
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s is not what Needs makes (%v); regenerate: go test ./internal/operatoriam -update", policyFile, err)
	}
}

// Every action is service:Action, each need says who and why, and a
// statement id is what IAM accepts.
func TestNeedsAreWellFormed(t *testing.T) {
	action := regexp.MustCompile(`^(autoscaling|ec2|elasticloadbalancing|iam|servicequotas|ssm):[A-Z][A-Za-z]+$`)
	for _, n := range Needs {
		if n.Who == "" || n.Why == "" || len(n.Actions) == 0 {
			t.Errorf("need %+v: who, why and actions all wanted", n)
		}
		for _, a := range n.Actions {
			if !action.MatchString(a) {
				t.Errorf("%s: action %q", n.Who, a)
			}
		}
	}
	for _, s := range []string{"autoscaling", "ec2", "elasticloadbalancing", "iam", "servicequotas", "ssm"} {
		if id := sid(s); !regexp.MustCompile(`^[A-Za-z0-9]+$`).MatchString(id) {
			t.Errorf("sid(%s) = %q", s, id)
		}
	}
}

// The permissions a tool's help names are exactly the table's for it, so
// the help and the policy file cannot drift apart.
func TestToolsHelpNamesTheTablesActions(t *testing.T) {
	named := regexp.MustCompile(`\b(?:ec2|elasticloadbalancing|iam|ssm):[A-Z][A-Za-z]+`)
	for _, tool := range []string{KillNode, CleanupVolumes} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "scripts", tool, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		_, usage, ok := strings.Cut(string(raw), "const usage")
		if !ok {
			t.Fatalf("%s has no const usage: teach this test where its help is", tool)
		}
		// The declaration ends where the next top-level one begins.
		if i := regexp.MustCompile(`\n(func|var|const|type) `).FindStringIndex(usage); i != nil {
			usage = usage[:i[0]]
		}
		got := named.FindAllString(usage, -1)
		sort.Strings(got)
		got = slices.Compact(got)
		if want := ToolActions(tool); !slices.Equal(got, want) {
			t.Errorf("%s's help names %v; the table (internal/operatoriam) says %v", tool, got, want)
		}
	}
}
