package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
)

var update = flag.Bool("update", false, "rewrite Pulumi.yaml's config block and the README's config reference from internal/config.Keys")

// projectFile is the part of Pulumi.yaml the tests read.
type projectFile struct {
	Name    string `yaml:"name"`
	Runtime string `yaml:"runtime"`
	Backend struct {
		URL string `yaml:"url"`
	} `yaml:"backend"`
	Config map[string]struct {
		Type        string `yaml:"type"`
		Default     any    `yaml:"default"`
		Description string `yaml:"description"`
	} `yaml:"config"`
}

// configBlock renders Pulumi.yaml's config block from config.Keys.
func configBlock() string {
	var b strings.Builder
	b.WriteString("config:\n")
	for _, k := range config.Keys {
		fmt.Fprintf(&b, "  %s:\n    type: %s\n", k.Name, k.Type)
		if k.Default != "" {
			if k.Type == "string" {
				fmt.Fprintf(&b, "    default: %q\n", k.Default)
			} else {
				fmt.Fprintf(&b, "    default: %s\n", k.Default)
			}
		}
		fmt.Fprintf(&b, "    description: %q\n", k.Description)
	}
	return b.String()
}

// referenceTable renders the README's config reference from config.Keys.
func referenceTable() string {
	var b strings.Builder
	b.WriteString("| key | type | default | meaning |\n|---|---|---|---|\n")
	b.WriteString("| `aws:region` | string | (required) | AWS region of the whole cluster, e.g. us-east-1. |\n")
	for _, k := range config.Keys {
		def := "`" + k.Default + "`"
		if k.Default == "" {
			def = "(none)"
		}
		fmt.Fprintf(&b, "| `%s:%s` | %s | %s | %s |\n", facts.Project, k.Name, k.Type, def, strings.ReplaceAll(k.Description, "|", "\\|"))
	}
	return b.String()
}

// replaceBetween swaps the text between two marker lines.
func replaceBetween(doc, begin, end, body string) (string, bool) {
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		return doc, false
	}
	return doc[:i+len(begin)] + "\n" + body + doc[j:], true
}

func TestPulumiYAMLDeclaresEveryKey(t *testing.T) {
	raw, err := os.ReadFile("Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		const marker = "config:\n"
		i := bytes.Index(raw, []byte(marker))
		if i < 0 {
			t.Fatal("Pulumi.yaml has no config block to rewrite")
		}
		raw = append(raw[:i:i], configBlock()...)
		if err := os.WriteFile("Pulumi.yaml", raw, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Error("Pulumi.yaml rewritten; run the tests again without -update")
	}
	var p projectFile
	if err := yaml.Unmarshal(raw, &p); err != nil {
		t.Fatalf("Pulumi.yaml: %v", err)
	}
	if p.Name != facts.Project || p.Runtime != "go" {
		t.Errorf("name %q runtime %q, want %s and go", p.Name, p.Runtime, facts.Project)
	}
	if !strings.HasPrefix(p.Backend.URL, "file://") {
		t.Errorf("backend %q: the default must be a local file backend, no Pulumi Cloud account", p.Backend.URL)
	}
	if len(p.Config) != len(config.Keys) {
		t.Errorf("Pulumi.yaml declares %d keys, internal/config has %d (go test . -update rewrites it)", len(p.Config), len(config.Keys))
	}
	for _, k := range config.Keys {
		got, ok := p.Config[k.Name]
		if !ok {
			t.Errorf("Pulumi.yaml does not declare %s", k.Name)
			continue
		}
		def := ""
		if got.Default != nil {
			def = fmt.Sprint(got.Default)
		}
		if got.Type != k.Type || def != k.Default || got.Description != k.Description {
			t.Errorf("Pulumi.yaml %s = {%s %q %q}, internal/config says {%s %q %q}", k.Name, got.Type, def, got.Description, k.Type, k.Default, k.Description)
		}
	}
}

// checkREADMESection compares the README's text between the markers
// <!-- name:begin --> and <!-- name:end --> with want, rewriting it with -update.
func checkREADMESection(t *testing.T, name, want string) {
	t.Helper()
	begin, end := "<!-- "+name+":begin -->", "<!-- "+name+":end -->"
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, ok := replaceBetween(string(raw), begin, end, want)
	if !ok {
		t.Fatalf("README.md has no %s ... %s section", begin, end)
	}
	if doc == string(raw) {
		return
	}
	if *update {
		if err := os.WriteFile("README.md", []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Errorf("README.md %s section rewritten; run the tests again without -update", name)
		return
	}
	t.Errorf("README.md's %s section is out of date; run `go test . -run README -update`", name)
}

func TestREADMEConfigReference(t *testing.T) {
	checkREADMESection(t, "config-reference", referenceTable())
}

// The README shows the recovery budget of a default stack, as the tools
// compute it from the settings such a stack exports.
func TestREADMERecoveryBudget(t *testing.T) {
	b, err := failover.NewBudget(failover.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	checkREADMESection(t, "budget", "```\n"+b.String()+"```\n")
}

func TestDevStackIsValid(t *testing.T) {
	raw, err := os.ReadFile("Pulumi.dev.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var stack struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &stack); err != nil {
		t.Fatalf("Pulumi.dev.yaml: %v", err)
	}
	cfg := map[string]string{}
	for k, v := range stack.Config {
		cfg[strings.TrimPrefix(k, facts.Project+":")] = fmt.Sprint(v)
	}
	// The operator adds their own key and address (README quick start).
	for k, v := range map[string]string{"publicKey": testPublicKey, "operatorCidr": "203.0.113.7/32"} {
		if _, set := cfg[k]; set {
			t.Errorf("Pulumi.dev.yaml sets %s: it is the operator's own and must not be committed", k)
		}
		cfg[k] = v
	}
	if _, err := pulumimockRun(cfg); err != nil {
		t.Errorf("Pulumi.dev.yaml plus a key and a CIDR does not make a working stack: %v", err)
	}
}
