package rehearsal_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

// project makes a directory with a Pulumi.yaml, standing in for the repository.
func project(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: marathon-ha\nruntime: go\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func autoOptions(t *testing.T, runs string, getenv map[string]string) rehearsal.AutoOptions {
	return rehearsal.AutoOptions{
		ProjectDir: project(t), RunsDir: runs, Region: "us-east-1", OperatorCIDR: "203.0.113.7/32",
		VolumeDriver: facts.VolumeDriverRexRay, AgentCount: 2, Getenv: env(getenv),
		Now: func() time.Time { return time.Date(2026, 11, 24, 20, 5, 9, 0, time.UTC) },
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestNewAutoStackPreparesAPrivateRun(t *testing.T) {
	runs, shared := t.TempDir(), filepath.Join(t.TempDir(), "home")
	s, err := rehearsal.NewAutoStack(autoOptions(t, runs, map[string]string{"PULUMI_HOME": shared}))
	if err != nil {
		t.Fatal(err)
	}
	info := s.Info()
	if !regexp.MustCompile(`^rehearsal-20261124-200509-[0-9a-f]{4}$`).MatchString(s.Name()) {
		t.Errorf("stack name %q", s.Name())
	}
	if info.RunDir != filepath.Join(runs, s.Name()) || mode(t, info.RunDir) != 0o700 {
		t.Errorf("run dir %s (mode %v), want %s/<stack> private", info.RunDir, mode(t, info.RunDir), runs)
	}
	// Local file backend in the run directory, which exists: the CLI does not create it.
	state := filepath.Join(info.RunDir, "state")
	if s.Backend() != "file://"+state || mode(t, state) != 0o700 {
		t.Errorf("backend %q, want file://%s", s.Backend(), state)
	}
	// A private PULUMI_HOME whose plugins are the shared cache.
	if info.PulumiHome != filepath.Join(info.RunDir, "pulumi-home") {
		t.Errorf("PULUMI_HOME %q", info.PulumiHome)
	}
	if link, err := os.Readlink(filepath.Join(info.PulumiHome, "plugins")); err != nil || link != filepath.Join(shared, "plugins") {
		t.Errorf("plugins link %q (%v), want the shared %s/plugins", link, err, shared)
	}
	// A generated passphrase, saved 0600 next to the state and passed as a file.
	if info.PassphraseFile != filepath.Join(info.RunDir, "passphrase") || mode(t, info.PassphraseFile) != 0o600 {
		t.Fatalf("passphrase file %q", info.PassphraseFile)
	}
	if pass, _ := os.ReadFile(info.PassphraseFile); len(pass) < 32 {
		t.Errorf("passphrase %q is too short", pass)
	}
	pass, _ := os.ReadFile(info.PassphraseFile)
	if got, err := rehearsal.WorkspaceEnv(info); err != nil || len(got) != 2 || got["PULUMI_BACKEND_URL"] != s.Backend() || got["PULUMI_CONFIG_PASSPHRASE"] != string(pass) {
		t.Errorf("workspace env %v (%v), want the backend and the saved passphrase", got, err)
	}
	// The SSH private key is private; the public key is what EC2 imports.
	if mode(t, info.SSHKeyFile) != 0o600 {
		t.Errorf("SSH key mode %v", mode(t, info.SSHKeyFile))
	}
	// run.json round-trips, so another process can destroy the stack.
	opened, err := rehearsal.OpenRun(info.RunDir, nil)
	if err != nil || opened.Info() != info {
		t.Errorf("OpenRun = %+v, %v; want %+v", opened.Info(), err, info)
	}
	if _, err := opened.Up(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot be brought up") {
		t.Errorf("Up of an opened run: %v", err)
	}
}

// The config the rehearsal sets passes the program's own validation.
func TestStackConfigIsAcceptedByTheProgram(t *testing.T) {
	s, err := rehearsal.NewAutoStack(autoOptions(t, t.TempDir(), map[string]string{"PULUMI_HOME": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(s.Info().SSHKeyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	cm := rehearsal.StackConfig("us-east-1", "203.0.113.7/32", facts.VolumeDriverFlocker, 3, strings.TrimSpace(string(pub)))
	cfg, err := config.Parse(func(key string) (string, bool) {
		if key != config.KeyRegion {
			key = facts.Project + ":" + key
		}
		v, ok := cm[key]
		return v.Value, ok
	})
	if err != nil {
		t.Fatalf("the program rejects the rehearsal's config: %v", err)
	}
	if cfg.Region != "us-east-1" || cfg.OperatorCIDR != "203.0.113.7/32" || cfg.VolumeDriver != facts.VolumeDriverFlocker || cfg.AgentCount != 3 || cfg.KeyName != "" {
		t.Errorf("parsed config %+v", cfg)
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(cfg.PublicKey))
	if err != nil || key.Type() != ssh.KeyAlgoED25519 {
		t.Errorf("public key %q: %v", cfg.PublicKey, err)
	}
	priv, err := os.ReadFile(s.Info().SSHKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(priv)
	if err != nil || !bytes.Equal(signer.PublicKey().Marshal(), key.Marshal()) {
		t.Errorf("private key does not match the public key: %v", err)
	}
}

func TestPassphraseFromTheEnvironmentIsNotSaved(t *testing.T) {
	s, err := rehearsal.NewAutoStack(autoOptions(t, t.TempDir(), map[string]string{"PULUMI_HOME": t.TempDir(), "PULUMI_CONFIG_PASSPHRASE": "from-ci-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	info := s.Info()
	if info.PassphraseFile != "" {
		t.Errorf("passphrase file %q written although the environment has one", info.PassphraseFile)
	}
	if _, err := os.Stat(filepath.Join(info.RunDir, "passphrase")); !os.IsNotExist(err) {
		t.Errorf("passphrase saved: %v", err)
	}
	if env, err := rehearsal.WorkspaceEnv(info); err != nil || len(env) != 1 {
		t.Errorf("workspace env %v: the environment's passphrase is inherited, not copied", env)
	}
	raw, _ := os.ReadFile(filepath.Join(info.RunDir, "run.json"))
	if strings.Contains(string(raw), "from-ci-secret") {
		t.Error("run.json holds the passphrase")
	}
	if lines := strings.Join(s.ManualCleanup(), "\n"); !strings.Contains(lines, "set PULUMI_CONFIG_PASSPHRASE") {
		t.Errorf("manual clean-up does not say to set the passphrase:\n%s", lines)
	}
}

func TestS3Backend(t *testing.T) {
	o := autoOptions(t, t.TempDir(), map[string]string{"PULUMI_HOME": t.TempDir()})
	o.Backend = "s3://rehearsal-state?region=us-east-1&awssdk=v2"
	s, err := rehearsal.NewAutoStack(o)
	if err != nil {
		t.Fatal(err)
	}
	if env, _ := rehearsal.WorkspaceEnv(s.Info()); s.Backend() != o.Backend || env["PULUMI_BACKEND_URL"] != o.Backend {
		t.Errorf("backend %q", s.Backend())
	}
	if _, err := os.Stat(filepath.Join(s.Info().RunDir, "state")); !os.IsNotExist(err) {
		t.Errorf("a local state directory was made for an S3 backend: %v", err)
	}
}

func TestTwoRunsNeverShare(t *testing.T) {
	runs, shared := t.TempDir(), t.TempDir()
	o := autoOptions(t, runs, map[string]string{"PULUMI_HOME": shared}) // same project, same second
	a, err := rehearsal.NewAutoStack(o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rehearsal.NewAutoStack(o)
	if err != nil {
		t.Fatal(err)
	}
	ai, bi := a.Info(), b.Info()
	if ai.Stack == bi.Stack || ai.RunDir == bi.RunDir || ai.PulumiHome == bi.PulumiHome || ai.Backend == bi.Backend || ai.PassphraseFile == bi.PassphraseFile {
		t.Errorf("two runs share something:\n%+v\n%+v", ai, bi)
	}
	// The same random draw would give the same name: the second run refuses
	// the existing directory instead of sharing it.
	o.Rand = bytes.NewReader(make([]byte, 1024))
	if _, err := rehearsal.NewAutoStack(o); err != nil {
		t.Fatal(err)
	}
	o.Rand = bytes.NewReader(make([]byte, 1024))
	if _, err := rehearsal.NewAutoStack(o); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a run reused another's directory: %v", err)
	}
}

func TestNewAutoStackRejectsBadInput(t *testing.T) {
	o := autoOptions(t, t.TempDir(), map[string]string{"PULUMI_HOME": t.TempDir()})
	o.ProjectDir = t.TempDir()
	if _, err := rehearsal.NewAutoStack(o); err == nil || !strings.Contains(err.Error(), "no Pulumi.yaml") {
		t.Errorf("project without Pulumi.yaml: %v", err)
	}
	o = autoOptions(t, t.TempDir(), map[string]string{"PULUMI_HOME": t.TempDir()})
	o.Backend = "https://api.pulumi.com"
	if _, err := rehearsal.NewAutoStack(o); err == nil || !strings.Contains(err.Error(), "file:///path or s3://bucket") {
		t.Errorf("cloud backend: %v", err)
	}
}

func TestCheckBackend(t *testing.T) {
	for _, tc := range []struct {
		url, wantErr string
	}{
		{"file:///var/lib/rehearsal/state", ""},
		{"s3://bucket?region=eu-west-1&awssdk=v2", ""},
		{"file://./state", "absolute path"},
		{"file://state", "absolute path"},
		{"s3://", "names no bucket"},
		{"gs://bucket", "file:///path or s3://bucket"},
		{"%zz", "not a URL"},
	} {
		err := rehearsal.CheckBackend(tc.url)
		if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("CheckBackend(%q) = %v, want %q", tc.url, err, tc.wantErr)
		}
	}
}

func TestStackNames(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	name, err := rehearsal.NewStackName(now, bytes.NewReader([]byte{0xab, 0x01}))
	if err != nil || name != "rehearsal-20260102-020405-ab01" {
		t.Errorf("NewStackName = %q, %v; want UTC time and the hex suffix", name, err)
	}
	for _, tc := range []struct {
		name, wantErr string
	}{
		{strings.Repeat("a", 40), ""},
		{strings.Repeat("a", 41), "at most 40"},
		{"", "empty"},
		{"a/b", "may only contain"},
		{"rehearsal 1", "may only contain"},
	} {
		err := rehearsal.CheckStackName(tc.name)
		if (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("CheckStackName(%q) = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestManualCleanup(t *testing.T) {
	info := rehearsal.RunInfo{Stack: "rehearsal-x", Backend: "file:///r/x/state", ProjectDir: "/src/marathon ha", RunDir: "/r/x",
		PulumiHome: "/r/x/pulumi-home", PassphraseFile: "/r/x/passphrase", Region: "eu-west-1"}
	got := strings.Join(rehearsal.ManualCleanup(info), "\n")
	for _, want := range []string{
		"cd '/src/marathon ha'",
		"export PULUMI_BACKEND_URL=file:///r/x/state",
		"export PULUMI_HOME=/r/x/pulumi-home",
		"export PULUMI_CONFIG_PASSPHRASE_FILE=/r/x/passphrase",
		"pulumi destroy --yes --stack rehearsal-x",
		"pulumi stack rm --yes --stack rehearsal-x",
		"go run ./scripts/rehearsal --destroy-run /r/x",
		"--tag-filters Key=" + facts.TagStack + ",Values=rehearsal-x",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("manual clean-up lacks %q:\n%s", want, got)
		}
	}
}

// Up needs the pulumi CLI, which this machine lacks: the error says so.
func TestUpWithoutPulumiCLISaysSo(t *testing.T) {
	if _, err := exec.LookPath("pulumi"); err == nil {
		t.Skip("a pulumi CLI is installed; this test covers its absence")
	}
	s, err := rehearsal.NewAutoStack(autoOptions(t, t.TempDir(), map[string]string{"PULUMI_HOME": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Up(context.Background())
	if err == nil || !strings.Contains(err.Error(), "finding the pulumi CLI") || !strings.Contains(err.Error(), "install") {
		t.Errorf("Up without the CLI: %v", err)
	}
	if err := s.Destroy(context.Background()); err == nil || !strings.Contains(err.Error(), "finding the pulumi CLI") {
		t.Errorf("Destroy without the CLI: %v", err)
	}
}
