package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	resconfig "github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"gopkg.in/yaml.v3"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
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

// configBlock renders Pulumi.yaml's config block from config.Keys. Every key
// but the required ones declares a default, `default: ""` for the optional
// ones: the Pulumi CLI demands a value for each key declared without one
// (see cliValidateStackConfig).
func configBlock() string { return renderConfigBlock(config.Key.DeclaresDefault) }

// renderConfigBlock renders the config block, declaring a default for the
// keys declaresDefault picks.
func renderConfigBlock(declaresDefault func(config.Key) bool) string {
	var b strings.Builder
	b.WriteString("config:\n")
	for _, k := range config.Keys {
		fmt.Fprintf(&b, "  %s:\n    type: %s\n", k.Name, k.Type)
		if declaresDefault(k) {
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
	b.WriteString("| `aws:profile` | string | (none) | AWS shared-config profile of the provider; the volume clean-up at destroy uses it too. |\n")
	var pair []string
	for _, k := range config.Keys {
		if k.Presence == config.OneOfKeyPair {
			pair = append(pair, k.Name)
		}
	}
	for _, k := range config.Keys {
		var def string
		switch k.Presence {
		case config.Required:
			def = "(required)"
		case config.OneOfKeyPair:
			other := slices.DeleteFunc(slices.Clone(pair), func(n string) bool { return n == k.Name })
			def = "(none; this or `" + strings.Join(other, "`, `") + "`)"
		case config.Optional:
			def = "(none)"
		default:
			def = "`" + k.Default + "`"
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
		if (got.Default != nil) != k.DeclaresDefault() {
			t.Errorf("Pulumi.yaml %s: declares a default %v, internal/config says %v (a key without one is required by the Pulumi CLI)", k.Name, got.Default != nil, k.DeclaresDefault())
		}
	}
}

func TestDevStackIsValid(t *testing.T) {
	raw, err := os.ReadFile(devExample)
	if err != nil {
		t.Fatal(err)
	}
	var stack struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &stack); err != nil {
		t.Fatalf("%s: %v", devExample, err)
	}
	cfg := map[string]string{}
	for k, v := range stack.Config {
		cfg[strings.TrimPrefix(k, facts.Project+":")] = fmt.Sprint(v)
	}
	// The operator adds their own key and address (README quick start).
	for k, v := range map[string]string{"publicKey": testPublicKey, "operatorCidr": "203.0.113.7/32"} {
		if _, set := cfg[k]; set {
			t.Errorf("%s sets %s: it is the operator's own and must not be committed", devExample, k)
		}
		cfg[k] = v
	}
	if _, err := pulumimockRun(cfg); err != nil {
		t.Errorf("%s plus a key and a CIDR does not make a working stack: %v", devExample, err)
	}
}

// cliValidateStackConfig is the check the Pulumi CLI runs on a stack's config
// before `pulumi up`, preview, refresh, destroy, import and watch run the
// program ("validating stack config: ..."): ValidateStackConfigAndApplyProjectConfig
// in github.com/pulumi/pulumi pkg/workspace/config.go@v3.263.0, that is its
// mergeConfig with validate set and then validateStackConfigValues.
// Transcribed, because importing github.com/pulumi/pulumi/pkg/v3 would pull its
// cloud SDKs into this module. The rule, for each key Pulumi.yaml declares,
// in key order:
//
//   - a key of this project (not namespaced, or namespaced by the project)
//     that the stack does not set and that has neither a `default` nor a
//     `value` is missing; all missing keys are reported at once, as "Stack
//     'dev' is missing configuration value(s) 'a', 'b' and 'c'". A
//     `default: ""` counts as a default: only a nil default makes a key
//     required. Namespaced keys of other packages (aws:region) are never
//     required.
//   - otherwise a key the stack does not set gets its `value` or `default`
//     (primitives as their %v text, so "" stays ""), written into the stack
//     config the program receives;
//   - then every typed key's value, set or defaulted, must pass
//     workspace.ValidateConfigValue; stack values are text, so an integer
//     must parse with strconv.Atoi ("2" passes, "two" fails) and a boolean
//     must be exactly "true" or "false"; the first failing key is reported as
//     "Stack 'dev' with configuration key 'k' must be of type 'integer'". A
//     key declared `secret: true` must hold a secure value.
//
// Defaults are checked against their types earlier, when the CLI loads
// Pulumi.yaml (workspace.LoadProject: the project JSON schema, which allows
// any default, then Project.Validate, which runs ValidateConfigValue on it).
// Not modelled: an ESC environment's pulumiConfig, merged before the checks
// (the stack must have none), and secure values (the stack must have none:
// the CLI would check their decrypted text).
func cliValidateStackConfig(stackName string, proj *workspace.Project, stackConfig resconfig.Map) error {
	projectName := proj.Name.String()
	for key, v := range stackConfig {
		if v.Secure() {
			return fmt.Errorf("stack config %s is a secret, which this model of the CLI does not decrypt", key)
		}
	}
	parseKey := func(key string) (resconfig.Key, error) { // parseConfigKey
		if strings.Contains(key, ":") {
			return resconfig.ParseKey(key)
		}
		return resconfig.MustMakeKey(projectName, key), nil
	}
	keys := slices.Sorted(maps.Keys(proj.Config))

	var missing []string
	for _, name := range keys {
		ct := proj.Config[name]
		key, err := parseKey(name)
		if err != nil {
			return err
		}
		_, found, err := stackConfig.Get(key, true)
		if err != nil {
			return fmt.Errorf("getting stack config value for key '%v': %w", key.String(), err)
		}
		hasDefault, hasValue := ct.Default != nil, ct.Value != nil
		if !found && !hasValue && !hasDefault && key.Namespace() == projectName {
			missing = append(missing, name)
			continue
		}
		if !found && (hasValue || hasDefault) {
			raw := ct.Value
			if hasDefault {
				raw = ct.Default
			}
			var v resconfig.Value
			switch raw.(type) { // createConfigValue
			case string, int, bool:
				v = resconfig.NewValue(fmt.Sprintf("%v", raw))
			default:
				simple, err := workspace.SimplifyMarshalledValue(raw)
				if err != nil {
					return err
				}
				j, err := json.Marshal(simple)
				if err != nil {
					return err
				}
				v = resconfig.NewObjectValue(string(j))
			}
			if err := stackConfig.Set(key, v, true); err != nil {
				return err
			}
		}
	}
	if len(missing) > 0 { // missingStackConfigurationKeysError, formatMissingKeys
		values, list := "value", "'"+missing[0]+"'"
		if len(missing) > 1 {
			sort.Strings(missing)
			values = "values"
			quoted := make([]string, len(missing))
			for i, k := range missing {
				quoted[i] = "'" + k + "'"
			}
			list = strings.Join(quoted[:len(quoted)-1], ", ") + " and " + quoted[len(quoted)-1]
		}
		return fmt.Errorf("Stack '%v' is missing configuration %v %v", stackName, values, list)
	}

	for _, name := range keys { // validateStackConfigValues, validateStackConfigValue
		ct := proj.Config[name]
		key, err := parseKey(name)
		if err != nil {
			return err
		}
		v, _, err := stackConfig.Get(key, true)
		if err != nil {
			return fmt.Errorf("getting stack config value for key '%v': %w", key.String(), err)
		}
		if !ct.IsExplicitlyTyped() {
			continue
		}
		if ct.Secret && !v.Secure() {
			return fmt.Errorf("Stack '%v' with configuration key '%v' must be encrypted as it's secret", stackName, name)
		}
		text, err := v.Value(resconfig.NopDecrypter)
		if err != nil {
			return err
		}
		var content any = text
		if v.Object() {
			if err := json.Unmarshal([]byte(text), &content); err != nil {
				return err
			}
		}
		if !workspace.ValidateConfigValue(*ct.Type, ct.Items, content) {
			return fmt.Errorf("Stack '%v' with configuration key '%v' must be of type '%v'",
				stackName, name, workspace.InferFullTypeName(*ct.Type, ct.Items))
		}
	}
	return nil
}

// quickStart is what the README's quick start does before `pulumi up`: the
// stack it creates and the keys it sets with `pulumi config set`.
type quickStart struct {
	stack string
	set   []string
	// example is the tracked stack file the quick start copies to the
	// operator's own Pulumi.<stack>.yaml, which .gitignore keeps out of git.
	example string
	// previewed: the quick start previews before anything is billed.
	previewed bool
}

// devExample is the example stack the quick start copies.
const devExample = "examples/Pulumi.dev.yaml"

// readQuickStart reads the first sh block of the README's Quick start and
// fails on any line this test does not model.
func readQuickStart(t *testing.T) quickStart {
	t.Helper()
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Quick start\n")
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok2 := strings.Cut(section, "```sh\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no Quick start section with a ```sh block")
	}
	var qs quickStart
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "cp" && f[2] == ".":
			qs.example = f[1]
		case len(f) == 4 && strings.Join(f[:3], " ") == "pulumi stack init":
			qs.stack = f[3]
		case len(f) == 4 && strings.Join(f[:2], " ") == "pulumi preview" && f[2] == "--stack" && f[3] == qs.stack:
			qs.previewed = true
		case len(f) >= 5 && strings.Join(f[:3], " ") == "pulumi config set" && !strings.HasPrefix(f[3], "-"):
			qs.set = append(qs.set, f[3])
		default:
			t.Fatalf("README quick start line %q is not modelled by this test; teach readQuickStart about it", line)
		}
	}
	if qs.stack == "" {
		t.Fatal("README quick start creates no stack (`pulumi stack init NAME`)")
	}
	if want := "Pulumi." + qs.stack + ".yaml"; filepath.Base(qs.example) != want || filepath.Dir(qs.example) != "examples" {
		t.Fatalf("README quick start copies %q; want `cp examples/%s .` before `pulumi stack init %s`, so the operator's own stack file is not a tracked one", qs.example, want, qs.stack)
	}
	if !qs.previewed {
		t.Fatalf("README quick start does not run `pulumi preview --stack %s` before the first, billed `up`", qs.stack)
	}
	return qs
}

// secretLooking is the key pattern for which `pulumi config set` refuses a
// high-entropy value without --secret or --plaintext (keyPattern and
// looksLikeSecret in pkg/cmd/pulumi/config/config.go@v3.263.0).
var secretLooking = regexp.MustCompile("(?i)passwd|pass|password|pwd|secret|token")

// quickStartStack loads Pulumi.yaml as the CLI does, and the example stack
// the quick start creates with its `pulumi config set` lines applied, with
// sample values for the operator's own key and address.
func quickStartStack(t *testing.T, projectFile string) (quickStart, *workspace.Project, resconfig.Map) {
	t.Helper()
	qs := readQuickStart(t)
	proj, err := workspace.LoadProject(projectFile)
	if err != nil {
		t.Fatalf("the Pulumi CLI would not load %s: %v", projectFile, err)
	}
	stackFile := qs.example
	if _, err := os.Stat(stackFile); err != nil {
		t.Fatalf("the README's quick start uses stack %s: %v", qs.stack, err)
	}
	ps, err := workspace.LoadProjectStack(nil, proj, stackFile)
	if err != nil {
		t.Fatalf("%s: %v", stackFile, err)
	}
	if ps.Environment != nil {
		t.Fatalf("%s imports an ESC environment, which cliValidateStackConfig does not model", stackFile)
	}
	samples := map[string]string{config.KeyPublicKey: testPublicKey, config.KeyOperatorCIDR: "203.0.113.7/32"}
	for _, k := range qs.set {
		v, ok := samples[k]
		if !ok {
			t.Fatalf("the README's quick start sets %s; give this test a sample value for it", k)
		}
		if secretLooking.MatchString(k) {
			t.Fatalf("`pulumi config set %s` may be refused as a plaintext secret: the quick start would need --secret or --plaintext", k)
		}
		key, err := resconfig.ParseKey(k)
		if !strings.Contains(k, ":") {
			key, err = resconfig.MustMakeKey(proj.Name.String(), k), nil
		}
		if err != nil {
			t.Fatal(err)
		}
		// `pulumi config set KEY VALUE`: a plaintext value of no declared type.
		if err := ps.Config.Set(key, resconfig.NewTypedValue(v, resconfig.TypeUnknown), false); err != nil {
			t.Fatal(err)
		}
	}
	return qs, proj, ps.Config
}

// programConfig is the stack config as the program reads it: project keys
// without the namespace, other packages' keys (aws:region) with it.
func programConfig(t *testing.T, proj *workspace.Project, stackConfig resconfig.Map) map[string]string {
	t.Helper()
	m := map[string]string{}
	for key, v := range stackConfig {
		text, err := v.Value(resconfig.NopDecrypter)
		if err != nil {
			t.Fatal(err)
		}
		name := key.String()
		if key.Namespace() == proj.Name.String() {
			name = key.Name()
		}
		m[name] = text
	}
	return m
}

func setKey(stackConfig resconfig.Map, name, value string) resconfig.Map {
	c := maps.Clone(stackConfig)
	key := resconfig.MustMakeKey(facts.Project, name)
	if value == "<unset>" {
		delete(c, key)
	} else {
		c[key] = resconfig.NewTypedValue(value, resconfig.TypeUnknown)
	}
	return c
}

// The README's quick start makes a stack the CLI runs, and the program then
// accepts the config the CLI hands it, `default: ""` values and all.
func TestQuickStartPassesCLIConfigValidation(t *testing.T) {
	qs, proj, cfg := quickStartStack(t, "Pulumi.yaml")
	if !slices.Equal(qs.set, []string{config.KeyPublicKey, config.KeyOperatorCIDR}) {
		t.Errorf("the quick start sets %v; this test and the issue assume publicKey and operatorCidr", qs.set)
	}
	if err := cliValidateStackConfig(qs.stack, proj, cfg); err != nil {
		t.Fatalf("validating stack config: %v", err)
	}
	m := programConfig(t, proj, cfg)
	for _, k := range config.Keys {
		if _, ok := m[k.Name]; !ok {
			t.Errorf("the CLI left %s out of the stack config; every key but the required ones has a default", k.Name)
		}
	}
	if m[config.KeyAMIID] != "" || m[config.KeyAgentCount] != "2" || m[config.KeyVolumeDriver] != config.DefaultVolumeDriver {
		t.Errorf("defaults applied as %q %q %q", m[config.KeyAMIID], m[config.KeyAgentCount], m[config.KeyVolumeDriver])
	}
	c, err := config.Parse(config.FromMap(m))
	if err != nil {
		t.Fatalf("the program rejects the config the CLI hands it: %v", err)
	}
	if c.AMIID != "" || c.AvailabilityZone != "" || c.AppManifestPath != "" || c.KeyName != "" || c.PublicKey != testPublicKey {
		t.Errorf("empty defaults not read as unset: %+v", c)
	}
	// The same through config.Load and the whole program, as `pulumi up` runs it.
	if _, err := pulumimockRun(m); err != nil {
		t.Errorf("the program fails on the config the CLI hands it: %v", err)
	}
}

func TestCLIConfigValidationRule(t *testing.T) {
	qs, proj, base := quickStartStack(t, "Pulumi.yaml")
	tests := []struct {
		name    string
		cfg     resconfig.Map
		cliErr  string // "" when the CLI runs the program
		progErr string // "" when the program accepts the config
	}{
		{"quick start", base, "", ""},
		{"no operatorCidr", setKey(base, config.KeyOperatorCIDR, "<unset>"),
			"Stack 'dev' is missing configuration value 'operatorCidr'", ""},
		{"keyName instead of publicKey", setKey(setKey(base, config.KeyPublicKey, "<unset>"), config.KeyKeyName, "my-key"), "", ""},
		{"neither keyName nor publicKey: the program, not the CLI, says so", setKey(base, config.KeyPublicKey, "<unset>"),
			"", "marathon-ha:keyName: set exactly one of keyName"},
		{"both keyName and publicKey", setKey(base, config.KeyKeyName, "my-key"), "", "are both set"},
		{"integer as text", setKey(base, config.KeyAgentCount, "3"), "", ""},
		{"integer not a number", setKey(base, config.KeyAgentCount, "two"),
			"Stack 'dev' with configuration key 'agentCount' must be of type 'integer'", ""},
		{"boolean not true or false", setKey(base, config.KeyExposeFlockerAPI, "yes"),
			"Stack 'dev' with configuration key 'exposeFlockerApi' must be of type 'boolean'", ""},
		{"no aws:region: the program, not the CLI, says so", func() resconfig.Map {
			c := maps.Clone(base)
			delete(c, resconfig.MustMakeKey("aws", "region"))
			return c
		}(), "", "aws:region: is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := maps.Clone(tt.cfg)
			err := cliValidateStackConfig(qs.stack, proj, cfg)
			switch {
			case tt.cliErr == "" && err != nil:
				t.Fatalf("the CLI refuses the stack: %v", err)
			case tt.cliErr != "" && (err == nil || err.Error() != tt.cliErr):
				t.Fatalf("the CLI says %v, want %s", err, tt.cliErr)
			case tt.cliErr != "":
				return
			}
			_, err = config.Parse(config.FromMap(programConfig(t, proj, cfg)))
			switch {
			case tt.progErr == "" && err != nil:
				t.Errorf("the program rejects the stack: %v", err)
			case tt.progErr != "" && (err == nil || !strings.Contains(err.Error(), tt.progErr)):
				t.Errorf("the program says %v, want %s", err, tt.progErr)
			}
		})
	}
}

// Issue 9: with Pulumi.yaml rendered the old way, every key whose Default was
// "" went without a `default`, and the CLI refused the quick start's stack.
func TestCLIConfigValidationCatchesRequiredOptionalKeys(t *testing.T) {
	raw, err := os.ReadFile("Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("config:\n"))
	if i < 0 {
		t.Fatal("Pulumi.yaml has no config block")
	}
	old := append(raw[:i:i], renderConfigBlock(func(k config.Key) bool { return k.Default != "" })...)
	path := filepath.Join(t.TempDir(), "Pulumi.yaml")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	qs, proj, cfg := quickStartStack(t, path)
	err = cliValidateStackConfig(qs.stack, proj, cfg)
	const want = "Stack 'dev' is missing configuration values 'amiId', 'appManifest', 'availabilityZone', 'confirmVolumeDriverSwitch' and 'keyName'"
	if err == nil || err.Error() != want {
		t.Errorf("old Pulumi.yaml: the CLI says %v, want %s", err, want)
	}

	// An optional key must be a string: `default: ""` is no integer, and the
	// CLI would refuse to load Pulumi.yaml (Project.Validate).
	bad := bytes.Replace(raw, []byte("    type: integer\n    default: 2\n"), []byte("    type: integer\n    default: \"\"\n"), 1)
	if bytes.Equal(bad, raw) {
		t.Fatal("Pulumi.yaml has no `type: integer` key with `default: 2` to spoil")
	}
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := workspace.LoadProject(path); err == nil || !strings.Contains(err.Error(), "is not of the expected type 'integer'") {
		t.Errorf("LoadProject with `default: \"\"` on an integer key = %v, want a type error", err)
	}
}
