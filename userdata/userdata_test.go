package userdata

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current templates (the test still fails, showing the diff)")

const (
	testClusterID = "mha-1a2b3c4d"
	testMasterIP  = "10.0.1.10"
	// testInstanceID is the agent's instance id the fake metadata serves.
	testInstanceID = "i-0a1b2c3d4e5f60718"
)

// testMasterIPs are five masters' addresses, consecutive from testMasterIP
// as facts.MasterPrivateIPs makes them; a cluster of n masters uses the
// first n.
var testMasterIPs = []string{testMasterIP, "10.0.1.11", "10.0.1.12", "10.0.1.13", "10.0.1.14"}

// secretFiles lists the SSM parameters of one role, as the components name them.
func secretFiles(role string, names ...string) []SecretFile {
	var files []SecretFile
	for _, n := range names {
		mode := "0644"
		if strings.HasSuffix(n, ".key") {
			mode = "0600"
		}
		files = append(files, SecretFile{
			Parameter: "/marathon-ha/" + testClusterID + "/" + role + "/" + n,
			Path:      facts.FlockerCertDir + "/" + n,
			Mode:      mode,
		})
	}
	return files
}

func masterInput(driver string) MasterInput {
	in := MasterInput{
		ClusterID:            testClusterID,
		Index:                1,
		Masters:              []string{testMasterIP},
		Region:               "us-east-1",
		Zone:                 "us-east-1a",
		VolumeDriver:         driver,
		AgentPingTimeout:     facts.AgentPingTimeout,
		MaxAgentPingTimeouts: facts.MaxAgentPingTimeouts,
		Images: MasterImages{
			ZooKeeper:      facts.ZooKeeperImage,
			MesosMaster:    facts.MesosMasterImage,
			Marathon:       facts.MarathonImage,
			FlockerControl: facts.FlockerControlServiceImage,
			AWSCLI:         facts.AWSCLIImage,
		},
	}
	if driver == facts.VolumeDriverFlocker {
		in.FlockerFiles = secretFiles("master", masterFlockerFiles...)
	}
	return in
}

func agentInput(driver string) AgentInput {
	in := AgentInput{
		ClusterID:      testClusterID,
		Region:         "us-east-1",
		Zone:           "us-east-1a",
		Index:          1,
		Masters:        []string{testMasterIP},
		VolumeDriver:   driver,
		AppImage:       facts.AppImage,
		PortRangeStart: facts.AgentPortRangeStart,
		PortRangeEnd:   facts.AgentPortRangeEnd,
		AppPort:        facts.DefaultAppPort,
		SelfFenceAfter: facts.DefaultSelfFenceAfter,
		Images: AgentImages{
			MesosAgent:          facts.MesosAgentImage,
			MesosExecutor:       facts.MesosExecutorImage,
			FlockerDatasetAgent: facts.FlockerDatasetAgentImage,
			FlockerDockerPlugin: facts.FlockerDockerPluginImage,
			RexRayPlugin:        facts.RexRayEBSPlugin,
		},
	}
	if driver == facts.VolumeDriverFlocker {
		in.FlockerFiles = secretFiles("agent-1", agentFlockerFiles...)
	}
	return in
}

// haMasterInput is master index of a cluster of n masters (testMasterIPs);
// only the master that runs the Flocker control service gets its files.
func haMasterInput(driver string, n, index int) MasterInput {
	in := masterInput(driver)
	in.Masters, in.Index = testMasterIPs[:n], index
	if !in.RunsFlockerControl() {
		in.FlockerFiles = nil
	}
	return in
}

// haAgentInput is agent 1 of a cluster of n masters.
func haAgentInput(driver string, n int) AgentInput {
	in := agentInput(driver)
	in.Masters = testMasterIPs[:n]
	return in
}

// variant is one rendered user data the project ships.
type variant struct {
	name   string
	render func() ([]byte, error)
}

func variants() []variant {
	var vs []variant
	for _, d := range facts.VolumeDrivers {
		vs = append(vs,
			variant{"master-" + d, func() ([]byte, error) { return RenderMaster(masterInput(d)) }},
			variant{"agent-" + d, func() ([]byte, error) { return RenderAgent(agentInput(d)) }},
			variant{"image-" + d, func() ([]byte, error) { return RenderImage(imageInput(d)) }})
	}
	// Three masters: the first runs Flocker's control service, the second
	// does not; an agent finds them all.
	return append(vs,
		variant{"ha-master-1-flocker", func() ([]byte, error) { return RenderMaster(haMasterInput(facts.VolumeDriverFlocker, 3, 1)) }},
		variant{"ha-master-2-flocker", func() ([]byte, error) { return RenderMaster(haMasterInput(facts.VolumeDriverFlocker, 3, 2)) }},
		variant{"ha-agent-flocker", func() ([]byte, error) { return RenderAgent(haAgentInput(facts.VolumeDriverFlocker, 3)) }})
}

// imageInput prepares an image with every image the test nodes of driver pull.
func imageInput(driver string) ImageInput {
	m, a := masterInput(driver), agentInput(driver)
	return ImageInput{VolumeDriver: driver, Images: NodeImages(driver, m.Images, a.Images, a.AppImage)}
}

func mustRender(t *testing.T, v variant) []byte {
	t.Helper()
	out, err := v.render()
	if err != nil {
		t.Fatalf("%s: %v", v.name, err)
	}
	return out
}

// cloudConfig is the part of the document the tests read back.
type cloudConfig struct {
	WriteFiles []struct {
		Path        string `yaml:"path"`
		Owner       string `yaml:"owner"`
		Permissions string `yaml:"permissions"`
		Content     string `yaml:"content"`
	} `yaml:"write_files"`
	RunCmd       [][]string `yaml:"runcmd"`
	FinalMessage string     `yaml:"final_message"`
	// PowerState is the image preparation's power-off (RenderImage).
	PowerState map[string]any `yaml:"power_state"`
}

func parse(t *testing.T, doc []byte) cloudConfig {
	t.Helper()
	var cc cloudConfig
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&cc); err != nil {
		t.Fatalf("user data is not the YAML we expect: %v", err)
	}
	return cc
}

func (cc cloudConfig) file(t *testing.T, path string) string {
	t.Helper()
	for _, f := range cc.WriteFiles {
		if f.Path == path {
			return f.Content
		}
	}
	t.Fatalf("no write_files entry for %s", path)
	return ""
}

func TestGolden(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			got := mustRender(t, v)
			path := filepath.Join("testdata", v.name+".golden")
			want, err := os.ReadFile(path)
			if err != nil && !*update {
				t.Fatalf("reading %s: %v (create it with `go test ./userdata -update`)", path, err)
			}
			if bytes.Equal(got, want) {
				return
			}
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Errorf("rewrote %s; review the diff below and run the tests again:\n%s", path, lineDiff(string(want), string(got)))
				return
			}
			t.Errorf("%s differs from the rendered user data (run `go test ./userdata -update` if the change is intended):\n%s", path, lineDiff(string(want), string(got)))
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	for _, v := range variants() {
		if a, b := mustRender(t, v), mustRender(t, v); !bytes.Equal(a, b) {
			t.Errorf("%s: two renders differ:\n%s", v.name, lineDiff(string(a), string(b)))
		}
	}
}

func TestUserDataFitsEC2Limit(t *testing.T) {
	for _, v := range variants() {
		doc := mustRender(t, v)
		enc, err := EncodeForEC2(doc)
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > MaxSize {
			t.Errorf("%s: %d bytes gzipped, over the EC2 user data limit of %d", v.name, len(raw), MaxSize)
		}
		// What cloud-init gets back is the document itself.
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: not gzip: %v", v.name, err)
		}
		back, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(back, doc) {
			t.Errorf("%s: gzip round trip gave %d bytes (%v), want the %d-byte document", v.name, len(back), err, len(doc))
		}
		t.Logf("%s: %d bytes, %d gzipped (%.0f%% of the limit)", v.name, len(doc), len(raw), 100*float64(len(raw))/MaxSize)
	}
	// A document that does not compress below the limit is refused.
	noise := make([]byte, MaxSize+1)
	if _, err := rand.NewChaCha8([32]byte{1}).Read(noise); err != nil {
		t.Fatal(err)
	}
	if _, err := EncodeForEC2(noise); err == nil || !strings.Contains(err.Error(), "over the EC2 limit") {
		t.Errorf("EncodeForEC2 of %d incompressible bytes: %v, want the limit error", len(noise), err)
	}
}

// TestNoSecretInUserData: anyone with ec2:DescribeInstanceAttribute reads user
// data, so keys and credentials must only be fetched at boot.
func TestNoSecretInUserData(t *testing.T) {
	leaks := []*regexp.Regexp{
		regexp.MustCompile(`PRIVATE KEY`),
		regexp.MustCompile(`BEGIN CERTIFICATE`),
		regexp.MustCompile(`(?i)aws_secret_access_key\s*[:=]\s*\S`),
		regexp.MustCompile(`(?i)secret_access_key:\s*[^"'\s]`),
		regexp.MustCompile(`(?i)secret_access_key:\s*"[^"]`),
		regexp.MustCompile(`(?i)access_key_id:\s*"[^"]`),
		regexp.MustCompile(`(?i)access_key_id:\s*[^"'\s]`),
		regexp.MustCompile(`EBS_(ACCESS|SECRET)KEY`),
		regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`),
	}
	for _, v := range variants() {
		doc := mustRender(t, v)
		for _, re := range leaks {
			if loc := re.FindIndex(doc); loc != nil {
				t.Errorf("%s: user data contains %q", v.name, doc[loc[0]:loc[1]])
			}
		}
	}
	// The Flocker certificates are referenced by SSM name, never inlined.
	cc := parse(t, mustRender(t, variant{"agent-flocker", func() ([]byte, error) { return RenderAgent(agentInput(facts.VolumeDriverFlocker)) }}))
	boot := cc.file(t, bootScript)
	for _, f := range agentInput(facts.VolumeDriverFlocker).FlockerFiles {
		if !strings.Contains(boot, shellQuote(f.Parameter)) {
			t.Errorf("the boot script does not fetch %s", f.Parameter)
		}
	}
}

func TestFlockerAgentConfig(t *testing.T) {
	cc := parse(t, mustRender(t, variant{"agent-flocker", func() ([]byte, error) { return RenderAgent(agentInput(facts.VolumeDriverFlocker)) }}))
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(cc.file(t, facts.FlockerCertDir+"/agent.yml")), &cfg); err != nil {
		t.Fatalf("agent.yml: %v", err)
	}
	want := map[string]any{
		"version":         1,
		"control-service": map[string]any{"hostname": testMasterIP, "port": facts.FlockerControlAgentPort},
		"dataset": map[string]any{
			"backend": "aws", "region": "us-east-1", "zone": "us-east-1a",
			"access_key_id": "", "secret_access_key": "",
		},
	}
	if got, w := fmt.Sprint(cfg), fmt.Sprint(want); got != w {
		t.Errorf("agent.yml = %s\nwant %s", got, w)
	}
	for _, d := range []string{facts.VolumeDriverRexRay} {
		cc := parse(t, mustRender(t, variant{"agent-" + d, func() ([]byte, error) { return RenderAgent(agentInput(d)) }}))
		for _, f := range cc.WriteFiles {
			if strings.HasPrefix(f.Path, facts.FlockerCertDir) {
				t.Errorf("agent-%s writes %s", d, f.Path)
			}
		}
	}
}

// TestTopLevelKeysAreCloudInitKeys: cloud-init ignores an unknown top-level
// key without a word, so a typo would silently drop a module.
func TestTopLevelKeysAreCloudInitKeys(t *testing.T) {
	known := cloudInitTopLevelKeys(t)
	for _, v := range variants() {
		var doc map[string]any
		if err := yaml.Unmarshal(mustRender(t, v), &doc); err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		if len(doc) == 0 {
			t.Fatalf("%s: empty document", v.name)
		}
		for k := range doc {
			if !known[k] {
				t.Errorf("%s: top-level key %q is not in cloud-init's schema", v.name, k)
			}
		}
	}
}

const cloudInitSchema = "/usr/lib/python3/dist-packages/cloudinit/config/schemas/schema-cloud-config-v1.json"

// cloudInitTopLevelKeys reads the keys every module of Debian's cloud-init
// accepts, the union of the properties of the schema's allOf parts.
func cloudInitTopLevelKeys(t *testing.T) map[string]bool {
	raw, err := os.ReadFile(cloudInitSchema)
	if err != nil {
		needTool(t, "cloud-init's schema "+cloudInitSchema+" (apt-get install cloud-init)")
	}
	var schema struct {
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
		AllOf []struct {
			Ref string `json:"$ref"`
		} `json:"allOf"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatalf("reading %s: %v", cloudInitSchema, err)
	}
	known := map[string]bool{}
	for _, part := range schema.AllOf {
		def, ok := schema.Defs[strings.TrimPrefix(part.Ref, "#/$defs/")]
		if !ok {
			t.Fatalf("%s: allOf refers to missing %s", cloudInitSchema, part.Ref)
		}
		for k := range def.Properties {
			known[k] = true
		}
	}
	for _, k := range []string{"write_files", "runcmd"} {
		if !known[k] {
			t.Fatalf("%s lists no %q: not the schema this test was written for", cloudInitSchema, k)
		}
	}
	return known
}

// needTool skips the test when a validator is missing, except in CI, where a
// missing validator would hide a broken user data.
func needTool(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing; CI must install it", what)
	}
	t.Skipf("%s is missing; skipping (CI=true makes this a failure)", what)
}

func lookTool(t *testing.T, path, pkg string) string {
	t.Helper()
	if _, err := exec.LookPath(path); err != nil {
		needTool(t, path+" (apt-get install "+pkg+")")
	}
	return path
}

func TestCloudInitSchema(t *testing.T) {
	// Debian's /usr/bin/cloud-init runs on Debian's /usr/bin/python3, which
	// finds the cloudinit module whatever python3 comes first on PATH.
	python := lookTool(t, "/usr/bin/python3", "python3")
	cloudInit := lookTool(t, "/usr/bin/cloud-init", "cloud-init")
	dir := t.TempDir()
	for _, v := range variants() {
		path := filepath.Join(dir, v.name+".yaml")
		if err := os.WriteFile(path, mustRender(t, v), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(python, cloudInit, "schema", "--config-file", path).CombinedOutput()
		if err != nil {
			t.Errorf("%s: cloud-init schema: %v\n%s", v.name, err, out)
		} else if !strings.Contains(string(out), "Valid cloud-config") {
			t.Errorf("%s: cloud-init schema said neither valid nor invalid:\n%s", v.name, out)
		}
	}
}

func TestShellcheck(t *testing.T) {
	shellcheck := lookTool(t, "/usr/bin/shellcheck", "shellcheck")
	for _, v := range variants() {
		cc := parse(t, mustRender(t, v))
		dir := t.TempDir()
		var scripts []string
		for i, f := range cc.WriteFiles {
			if !strings.HasPrefix(f.Content, "#!/bin/bash") && f.Path != libScript {
				continue
			}
			path := filepath.Join(dir, fmt.Sprintf("%02d-%s", i, filepath.Base(f.Path)))
			if err := os.WriteFile(path, []byte(f.Content), 0o600); err != nil {
				t.Fatal(err)
			}
			scripts = append(scripts, path)
		}
		// runcmd as cloud-init runs it: one shell line per entry.
		var runcmd strings.Builder
		runcmd.WriteString("#!/bin/sh\n")
		for _, argv := range cc.RunCmd {
			for i, a := range argv {
				if i > 0 {
					runcmd.WriteString(" ")
				}
				runcmd.WriteString(shellQuote(a))
			}
			runcmd.WriteString("\n")
		}
		path := filepath.Join(dir, "runcmd")
		if err := os.WriteFile(path, []byte(runcmd.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		scripts = append(scripts, path)
		// A node has at least the boot, its library, the readiness check,
		// Docker's metadata block and runcmd; an image-preparing instance
		// has no readiness check.
		if min := 5 - strings.Count(v.name, "image-"); len(scripts) < min {
			t.Fatalf("%s: found only %d scripts to check", v.name, len(scripts))
		}
		out, err := exec.Command(shellcheck, append([]string{"--shell=bash", "--severity=style"}, scripts...)...).CombinedOutput()
		if err != nil {
			t.Errorf("%s: shellcheck: %v\n%s", v.name, err, out)
		}
	}
}

func TestWriteFilesAreWellFormed(t *testing.T) {
	for _, v := range variants() {
		cc := parse(t, mustRender(t, v))
		paths := map[string]bool{}
		for _, f := range cc.WriteFiles {
			if paths[f.Path] {
				t.Errorf("%s: %s written twice", v.name, f.Path)
			}
			paths[f.Path] = true
			if !strings.HasSuffix(f.Content, "\n") || strings.Contains(f.Content, "\t") {
				t.Errorf("%s: %s must end with a newline and hold no tabs", v.name, f.Path)
			}
			if f.Owner != "root:root" {
				t.Errorf("%s: %s owner %q", v.name, f.Path, f.Owner)
			}
			executable := strings.HasPrefix(f.Content, "#!")
			if executable != (f.Permissions == "0755") {
				t.Errorf("%s: %s has permissions %s; scripts want 0755, other files not", v.name, f.Path, f.Permissions)
			}
		}
		if len(cc.RunCmd) != 1 || len(cc.RunCmd[0]) != 1 || !paths[cc.RunCmd[0][0]] {
			t.Errorf("%s: runcmd %v should run exactly the boot script it writes", v.name, cc.RunCmd)
		}
		// A node's final message points at its READY line, an image's at
		// its "prepared" one.
		done := "READY"
		if strings.HasPrefix(v.name, "image-") {
			done = "prepared"
		}
		if !strings.Contains(cc.FinalMessage, "$UPTIME") || !strings.Contains(cc.FinalMessage, done) {
			t.Errorf("%s: final_message %q", v.name, cc.FinalMessage)
		}
	}
}

// lineDiff shows the lines only in a ("-") or only in b ("+"), in order,
// with a line of context around each change.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	// lcs[i][j] is the length of the longest common subsequence of x[i:], y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			lines = append(lines, line{' ', x[i]})
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			lines = append(lines, line{'+', y[j]})
			j++
		default:
			lines = append(lines, line{'-', x[i]})
			i++
		}
	}
	show := map[int]bool{}
	for k, l := range lines {
		if l.op != ' ' {
			show[k-1], show[k], show[k+1] = true, true, true
		}
	}
	keys := make([]int, 0, len(show))
	for k := range show {
		if k >= 0 && k < len(lines) {
			keys = append(keys, k)
		}
	}
	sort.Ints(keys)
	var b2 strings.Builder
	for n, k := range keys {
		if n > 0 && k != keys[n-1]+1 {
			b2.WriteString("...\n")
		}
		fmt.Fprintf(&b2, "%c %s\n", lines[k].op, lines[k].text)
	}
	return b2.String()
}
