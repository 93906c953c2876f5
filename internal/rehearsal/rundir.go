package rehearsal

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Environment variables the Pulumi CLI reads (pulumi/pulumi docs,
// "Environment variables"; sdk/go/common/env).
const (
	EnvBackendURL     = "PULUMI_BACKEND_URL"
	EnvPassphrase     = "PULUMI_CONFIG_PASSPHRASE"
	EnvPassphraseFile = "PULUMI_CONFIG_PASSPHRASE_FILE"
	EnvPulumiHome     = "PULUMI_HOME"
)

// Files and directories of a run directory. Only runInfoFile and stateDir
// are safe to publish (CI uploads them on failure): the others hold the
// passphrase and the SSH private key.
const (
	runInfoFile    = "run.json"
	stateDir       = "state"
	pulumiHomeDir  = "pulumi-home"
	passphraseFile = "passphrase"
	sshDir         = "ssh"
	sshKeyFile     = "id_ed25519"
)

// RunInfo is what a run directory's run.json records: enough to destroy the
// stack from another process (the CI safety net, or an operator) with
// OpenRun. It holds no secret.
type RunInfo struct {
	Stack      string `json:"stack"`
	Backend    string `json:"backend"`
	ProjectDir string `json:"projectDir"`
	RunDir     string `json:"runDir"`
	PulumiHome string `json:"pulumiHome"`
	// PassphraseFile is set when the run generated its passphrase; empty
	// means PULUMI_CONFIG_PASSPHRASE(_FILE) came from the environment and
	// must be set again to destroy by hand.
	PassphraseFile string    `json:"passphraseFile,omitempty"`
	SSHKeyFile     string    `json:"sshKeyFile"`
	Region         string    `json:"region"`
	CreatedAt      time.Time `json:"createdAt"`
}

// CheckBackend accepts the backends a rehearsal may use: a local directory
// (file:///abs/path) or an S3 bucket (s3://bucket, optionally
// ?region=...&awssdk=v2; pulumi docs "Using a DIY backend").
func CheckBackend(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("backend %q is not a URL: %w", u, err)
	}
	switch p.Scheme {
	case "file":
		if p.Host != "" || !filepath.IsAbs(p.Path) {
			return fmt.Errorf("backend %q: a file backend needs an absolute path, file:///path/to/state", u)
		}
	case "s3":
		if p.Host == "" {
			return fmt.Errorf("backend %q names no bucket: use s3://<bucket>?region=<region>", u)
		}
	default:
		return fmt.Errorf("backend %q: the rehearsal uses a file:///path or s3://bucket backend (default: a file backend in the run directory)", u)
	}
	return nil
}

// FileBackend is the file backend URL of a local state directory.
func FileBackend(dir string) string { return "file://" + filepath.ToSlash(dir) }

// SharedPluginDir is where Pulumi keeps provider plugins when PULUMI_HOME is
// not overridden: $PULUMI_HOME/plugins, else ~/.pulumi/plugins (pulumi docs,
// "PULUMI_HOME ... defaults to ~/.pulumi").
func SharedPluginDir(getenv func(string) string) (string, error) {
	if h := getenv(EnvPulumiHome); h != "" {
		return filepath.Join(h, "plugins"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the shared Pulumi plugin directory: %w (set %s)", err, EnvPulumiHome)
	}
	return filepath.Join(home, ".pulumi", "plugins"), nil
}

// prepareRunDir creates dir (0700) with a private Pulumi home whose plugins
// directory is a symlink to the shared plugin cache, so parallel runs never
// share workspace.json but download each provider plugin only once.
func prepareRunDir(dir, sharedPlugins string) (home string, err error) {
	if _, err := os.Stat(dir); err == nil {
		return "", fmt.Errorf("run directory %s already exists: each run needs its own (is another run using this stack name?)", dir)
	}
	home = filepath.Join(dir, pulumiHomeDir)
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", fmt.Errorf("creating the run directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("restricting the run directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(sharedPlugins, 0o755); err != nil {
		return "", fmt.Errorf("creating the shared Pulumi plugin directory: %w", err)
	}
	if err := os.Symlink(sharedPlugins, filepath.Join(home, "plugins")); err != nil {
		return "", fmt.Errorf("linking the run's Pulumi home to the shared plugins: %w", err)
	}
	return home, nil
}

// newPassphrase draws a passphrase from rnd: 32 random bytes, base64.
func newPassphrase(rnd io.Reader) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("generating the stack's passphrase: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// writePrivate writes a file only its owner can read.
func writePrivate(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}

func writeRunInfo(info RunInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(info.RunDir, runInfoFile), append(b, '\n'), 0o644)
}

// ReadRunInfo reads the run.json of a run directory.
func ReadRunInfo(dir string) (RunInfo, error) {
	b, err := os.ReadFile(filepath.Join(dir, runInfoFile))
	if err != nil {
		return RunInfo{}, fmt.Errorf("reading the run's record: %w (is %s a rehearsal run directory?)", err, dir)
	}
	var info RunInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return RunInfo{}, fmt.Errorf("reading %s: %w", filepath.Join(dir, runInfoFile), err)
	}
	if info.Stack == "" || info.Backend == "" || info.ProjectDir == "" {
		return RunInfo{}, fmt.Errorf("%s lacks the stack, backend or project directory", filepath.Join(dir, runInfoFile))
	}
	return info, nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
