package rehearsal

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// AutoOptions configure an AutoStack.
type AutoOptions struct {
	// ProjectDir holds the program's Pulumi.yaml (the repository root).
	ProjectDir string
	// RunsDir is the parent of the per-run directories.
	RunsDir string
	// Backend is the state backend URL; empty means a file backend in the
	// run directory.
	Backend string
	// Region, OperatorCIDR, VolumeDriver and AgentCount are set as the
	// stack's config (aws:region, operatorCidr, volumeDriver, agentCount).
	Region       string
	OperatorCIDR string
	VolumeDriver string
	AgentCount   int
	// MasterCount, when above 1, is set as the stack's masterCount (the
	// leading-master drill sets DrillMasterCount); otherwise the program's
	// default of one master.
	MasterCount int
	// Getenv reads the environment (default os.Getenv): the passphrase
	// variables and PULUMI_HOME.
	Getenv func(string) string
	// Rand is the source of the stack name's suffix, the passphrase and the
	// SSH key (default crypto/rand).
	Rand io.Reader
	// Now is the clock that names the stack (default time.Now).
	Now func() time.Time
	// Progress receives pulumi's progress (up, destroy).
	Progress io.Writer
	// Grace is how long pulumi gets to stop gracefully when a step is
	// cancelled (default DefaultGrace).
	Grace time.Duration
}

// AutoStack is a Stack driven by the Pulumi Automation API over the
// program's directory (auto.UpsertStackLocalSource). Every run has its own
// stack name, run directory and PULUMI_HOME:
//
//   - `pulumi stack select`, which UpsertStack runs, writes the current
//     stack into workspace.json under PULUMI_HOME, and concurrent writers
//     corrupt it (pulumi/pulumi#8186, #6287); a private PULUMI_HOME per run
//     removes that race. Its plugins directory is a symlink to the shared
//     plugin cache, so the AWS provider is downloaded once, not per run.
//   - the stack's settings file, Pulumi.<stack>.yaml, lives in the run
//     directory, with the state and the passphrase, not in the project
//     directory: every config, up and destroy passes --config-file (the
//     Automation API's ConfigFile options, sdk v3.263.0 go/auto). `pulumi
//     stack init` has no such flag and writes the file, with the
//     passphrase's encryptionsalt, in the project directory (pulumi/pulumi
//     v3.259.0 pkg/cmd/pulumi/stack/io.go: CreateStack saves it with
//     SaveProjectStack, whose default path is the project's); Up moves it
//     to the run directory at once. The history the Automation API reads
//     after an up or a destroy is asked for without secrets
//     (ShowSecrets(false)): `stack history --show-secrets` loads the
//     settings from the project directory, and, finding none, saves a new
//     file there (stack_history.go, SecretsManagerLoader.GetSecretsManager
//     in the same package). `stack output --show-secrets` reads the secrets
//     manager from the state (secrets.DefaultProvider, stack_output.go).
//   - no auto.Project or auto.Stacks option is passed, so the workspace
//     never rewrites the shared Pulumi.yaml.
type AutoStack struct {
	info     RunInfo
	config   auto.ConfigMap
	progress io.Writer
	grace    time.Duration

	stack *auto.Stack // set once the stack exists
}

// NewAutoStack prepares a run: it names the stack, creates the run
// directory with its private Pulumi home, the passphrase (unless the
// environment has one) and an SSH key pair, and records run.json. It does
// not run the pulumi CLI; Up does.
func NewAutoStack(o AutoOptions) (*AutoStack, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if _, err := os.Stat(filepath.Join(o.ProjectDir, "Pulumi.yaml")); err != nil {
		return nil, fmt.Errorf("no Pulumi.yaml in the project directory %q: run from the repository root or pass its path", o.ProjectDir)
	}
	projectDir, err := filepath.Abs(o.ProjectDir)
	if err != nil {
		return nil, fmt.Errorf("resolving the project directory: %w", err)
	}
	runsDir, err := filepath.Abs(o.RunsDir)
	if err != nil {
		return nil, fmt.Errorf("resolving the runs directory: %w", err)
	}
	name, err := NewStackName(o.Now(), o.Rand)
	if err != nil {
		return nil, err
	}
	runDir := filepath.Join(runsDir, name)
	shared, err := SharedPluginDir(o.Getenv)
	if err != nil {
		return nil, err
	}
	home, err := prepareRunDir(runDir, shared)
	if err != nil {
		return nil, err
	}
	backend := o.Backend
	if backend == "" {
		dir := filepath.Join(runDir, stateDir)
		if err := os.MkdirAll(dir, 0o700); err != nil { // the CLI does not create it (offline-checks.md)
			return nil, fmt.Errorf("creating the state directory: %w", err)
		}
		backend = FileBackend(dir)
	}
	if err := CheckBackend(backend); err != nil {
		return nil, err
	}

	info := RunInfo{Stack: name, Backend: backend, ProjectDir: projectDir, RunDir: runDir, PulumiHome: home,
		SSHKeyFile: filepath.Join(runDir, sshDir, sshKeyFile), Region: o.Region, CreatedAt: o.Now().UTC()}
	if o.Getenv(EnvPassphrase) == "" && o.Getenv(EnvPassphraseFile) == "" {
		pass, err := newPassphrase(o.Rand)
		if err != nil {
			return nil, err
		}
		info.PassphraseFile = filepath.Join(runDir, passphraseFile)
		if err := writePrivate(info.PassphraseFile, []byte(pass)); err != nil {
			return nil, fmt.Errorf("saving the stack's passphrase: %w", err)
		}
	}
	keys, err := NewKeyPair(o.Rand, facts.Project+"-"+name)
	if err != nil {
		return nil, err
	}
	if err := writePrivate(info.SSHKeyFile, keys.PrivatePEM); err != nil {
		return nil, fmt.Errorf("saving the run's SSH key: %w", err)
	}
	if err := os.WriteFile(info.SSHKeyFile+".pub", []byte(keys.AuthorizedKey+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("saving the run's SSH public key: %w", err)
	}
	if err := writeRunInfo(info); err != nil {
		return nil, fmt.Errorf("recording the run in %s: %w", runDir, err)
	}
	s := newAutoStack(info, o.Progress, o.Grace)
	s.config = StackConfig(o.Region, o.OperatorCIDR, o.VolumeDriver, o.AgentCount, keys.AuthorizedKey)
	SetMasterCount(s.config, o.MasterCount)
	return s, nil
}

// OpenRun returns the stack a run directory records, to destroy it from
// another process (the CI safety net or an operator). It can Destroy and
// Remove; it cannot Up.
func OpenRun(dir string, progress io.Writer) (*AutoStack, error) {
	info, err := ReadRunInfo(dir)
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	return newAutoStack(info, progress, DefaultGrace), nil
}

func newAutoStack(info RunInfo, progress io.Writer, grace time.Duration) *AutoStack {
	return &AutoStack{info: info, progress: progress, grace: grace}
}

// WorkspaceEnv is the environment every pulumi command of the run gets on
// top of this process's: the backend and, when the run generated it, the
// passphrase. The value is passed rather than PULUMI_CONFIG_PASSPHRASE_FILE
// because the CLI prefers PULUMI_CONFIG_PASSPHRASE whenever it is set, even
// empty (as a CI workflow sets it from an undefined secret), and a later
// value in a command's environment wins over the inherited one (os/exec).
// A passphrase from the environment is inherited as it is.
func WorkspaceEnv(info RunInfo) (map[string]string, error) {
	env := map[string]string{EnvBackendURL: info.Backend}
	if info.PassphraseFile != "" {
		pass, err := os.ReadFile(info.PassphraseFile)
		if err != nil {
			return nil, fmt.Errorf("reading the stack's passphrase: %w", err)
		}
		env[EnvPassphrase] = string(pass)
	}
	return env, nil
}

// StackConfig is the config the rehearsal sets on its stack; everything
// else takes the program's defaults.
func StackConfig(region, operatorCIDR, volumeDriver string, agentCount int, publicKey string) auto.ConfigMap {
	key := func(k string) string { return facts.Project + ":" + k }
	return auto.ConfigMap{
		config.KeyRegion:            {Value: region},
		key(config.KeyOperatorCIDR): {Value: operatorCIDR},
		key(config.KeyVolumeDriver): {Value: volumeDriver},
		key(config.KeyAgentCount):   {Value: strconv.Itoa(agentCount)},
		key(config.KeyPublicKey):    {Value: publicKey},
	}
}

// SetMasterCount sets the stack config's masterCount when n is above 1
// (the leading-master drill); otherwise the program's default of one
// master stands.
func SetMasterCount(cm auto.ConfigMap, n int) {
	if n > 1 {
		cm[facts.Project+":"+config.KeyMasterCount] = auto.ConfigValue{Value: strconv.Itoa(n)}
	}
}

// Info is the run's record.
func (s *AutoStack) Info() RunInfo { return s.info }

// ConfigFile is the stack's settings file, in the run directory.
func (s *AutoStack) ConfigFile() string { return ConfigFile(s.info) }

// ConfigFile is the settings file of a run's stack, in its run directory.
func ConfigFile(info RunInfo) string {
	return filepath.Join(info.RunDir, "Pulumi."+info.Stack+".yaml")
}

// moveConfigFile moves the settings file `pulumi stack init` wrote in the
// project directory to the run directory; a file already there (a stack
// selected again) stays.
func (s *AutoStack) moveConfigFile() error {
	left := filepath.Join(s.info.ProjectDir, "Pulumi."+s.Name()+".yaml")
	if _, err := os.Stat(left); os.IsNotExist(err) {
		return nil
	}
	if _, err := os.Stat(s.ConfigFile()); err == nil {
		return os.Remove(left)
	}
	if err := os.Rename(left, s.ConfigFile()); err == nil {
		return nil
	}
	// Another file system (a runs directory on a temporary disk): copy.
	raw, err := os.ReadFile(left)
	if err == nil {
		err = writePrivate(s.ConfigFile(), raw)
	}
	if err == nil {
		err = os.Remove(left)
	}
	if err != nil {
		return fmt.Errorf("moving the settings of stack %s to the run directory: %w", s.Name(), err)
	}
	return nil
}

// Name implements Stack.
func (s *AutoStack) Name() string { return s.info.Stack }

// Backend implements Stack.
func (s *AutoStack) Backend() string { return s.info.Backend }

// workspaceOptions are the options of the run's LocalWorkspace.
func (s *AutoStack) workspaceOptions() ([]auto.LocalWorkspaceOption, error) {
	env, err := WorkspaceEnv(s.info)
	if err != nil {
		return nil, err
	}
	cmd, err := newGracefulCommand(s.grace)
	if err != nil {
		return nil, fmt.Errorf("finding the pulumi CLI: %w (install it: https://www.pulumi.com/docs/install/)", err)
	}
	return []auto.LocalWorkspaceOption{
		auto.Pulumi(cmd),
		auto.PulumiHome(s.info.PulumiHome),
		auto.EnvVars(env),
		auto.SecretsProvider("passphrase"),
	}, nil
}

// Up implements Stack: create the stack, set its config, run `pulumi up`.
func (s *AutoStack) Up(ctx context.Context) (stackoutputs.Outputs, error) {
	if s.config == nil {
		return stackoutputs.Outputs{}, fmt.Errorf("stack %s was opened from its run directory to be destroyed; it cannot be brought up", s.Name())
	}
	opts, err := s.workspaceOptions()
	if err != nil {
		return stackoutputs.Outputs{}, err
	}
	st, err := auto.UpsertStackLocalSource(ctx, s.Name(), s.info.ProjectDir, opts...)
	if err != nil {
		return stackoutputs.Outputs{}, fmt.Errorf("creating stack %s in %s: %w", s.Name(), s.Backend(), err)
	}
	s.stack = &st
	if err := s.moveConfigFile(); err != nil {
		return stackoutputs.Outputs{}, err
	}
	if err := st.SetAllConfigWithOptions(ctx, s.config, &auto.ConfigOptions{ConfigFile: s.ConfigFile()}); err != nil {
		return stackoutputs.Outputs{}, fmt.Errorf("setting the config of stack %s: %w", s.Name(), err)
	}
	res, err := st.Up(ctx, optup.ConfigFile(s.ConfigFile()), optup.ShowSecrets(false), optup.ProgressStreams(s.progress), optup.ErrorProgressStreams(s.progress))
	if err != nil {
		return stackoutputs.Outputs{}, fmt.Errorf("pulumi up of stack %s: %w", s.Name(), err)
	}
	return stackoutputs.FromMap(PlainOutputs(res.Outputs))
}

// Restore implements Restorer: `pulumi up --refresh` of the stack this
// process brought up. The refresh reads the killed agent as gone
// (terraform-provider-aws v5.5.0 internal/service/ec2/ec2_instance.go:
// resourceInstanceRead removes from the state an instance findInstanceByID
// does not find, and that counts a terminated instance as not found), so
// the up creates it again, with its ELB registration; the outputs name the
// new agent. Its bound is the caller's (an up's).
func (s *AutoStack) Restore(ctx context.Context) (stackoutputs.Outputs, error) {
	if s.stack == nil || s.config == nil {
		return stackoutputs.Outputs{}, fmt.Errorf("stack %s was not brought up by this process: nothing to restore", s.Name())
	}
	res, err := s.stack.Up(ctx, optup.Refresh(), optup.ConfigFile(s.ConfigFile()), optup.ShowSecrets(false), optup.ProgressStreams(s.progress), optup.ErrorProgressStreams(s.progress))
	if err != nil {
		return stackoutputs.Outputs{}, fmt.Errorf("pulumi up --refresh of stack %s: %w", s.Name(), err)
	}
	return stackoutputs.FromMap(PlainOutputs(res.Outputs))
}

// PlainOutputs turns an Automation API OutputMap into the plain map
// stackoutputs.FromMap reads (secrets included: the tools need the values).
func PlainOutputs(m auto.OutputMap) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v.Value
	}
	return out
}

// existing returns the stack, selecting it if this process did not create
// it; ok is false when the stack does not exist (nothing to clean up).
func (s *AutoStack) existing(ctx context.Context) (st *auto.Stack, ok bool, err error) {
	if s.stack != nil {
		return s.stack, true, nil
	}
	opts, err := s.workspaceOptions()
	if err != nil {
		return nil, false, err
	}
	sel, err := auto.SelectStackLocalSource(ctx, s.Name(), s.info.ProjectDir, opts...)
	if auto.IsSelectStack404Error(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("selecting stack %s in %s: %w", s.Name(), s.Backend(), err)
	}
	s.stack = &sel
	return s.stack, true, nil
}

// Destroy implements Stack. The stack is this run's own, so a lock left by
// a pulumi process that was killed (an interrupted up) is stale: it is
// cancelled and the destroy tried once more.
func (s *AutoStack) Destroy(ctx context.Context) error {
	st, ok, err := s.existing(ctx)
	if err != nil || !ok {
		return err
	}
	destroy := func() error {
		opts := []optdestroy.Option{optdestroy.ShowSecrets(false), optdestroy.ProgressStreams(s.progress), optdestroy.ErrorProgressStreams(s.progress)}
		if _, err := os.Stat(s.ConfigFile()); err == nil { // a run before the file moved has none
			opts = append(opts, optdestroy.ConfigFile(s.ConfigFile()))
		}
		_, err := st.Destroy(ctx, opts...)
		return err
	}
	err = destroy()
	if auto.IsConcurrentUpdateError(err) {
		fmt.Fprintf(s.progress, "rehearsal: stack %s is locked by an interrupted update; cancelling it and destroying again\n", s.Name())
		if cerr := st.Cancel(ctx); cerr != nil {
			return fmt.Errorf("pulumi destroy of stack %s: %w; and cancelling its stale lock failed: %w", s.Name(), err, cerr)
		}
		err = destroy()
	}
	if err != nil {
		return fmt.Errorf("pulumi destroy of stack %s: %w", s.Name(), err)
	}
	return nil
}

// Remove implements Stack: `pulumi stack rm`, then the run directory
// with the stack's settings file:
// with the stack gone, its passphrase, key and empty state serve nothing.
func (s *AutoStack) Remove(ctx context.Context) error {
	st, ok, err := s.existing(ctx)
	if err != nil {
		return err
	}
	if ok {
		if err := st.Workspace().RemoveStack(ctx, s.Name()); err != nil {
			return fmt.Errorf("pulumi stack rm of stack %s: %w", s.Name(), err)
		}
	}
	return removeRunDir(s.info.RunDir)
}

// removeRunDir deletes a run directory. The plugins symlink in its Pulumi
// home is removed, not followed: the shared plugin cache stays.
func removeRunDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, runInfoFile)); err != nil {
		return fmt.Errorf("not removing %s: it has no %s, so it is not a run directory", dir, runInfoFile)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing the run directory: %w", err)
	}
	return nil
}

// ManualCleanup implements Stack.
func (s *AutoStack) ManualCleanup() []string { return ManualCleanup(s.info) }

// ManualCleanup returns the shell lines that tear the run's stack down by
// hand: all at once as the rehearsal does (--destroy-run, which sweeps what
// the stack's tags find), or step by step, then look for anything left with
// the stack's tag.
func ManualCleanup(info RunInfo) []string {
	q := shellQuote
	lines := []string{
		"cd " + q(info.ProjectDir),
		"export " + EnvBackendURL + "=" + q(info.Backend),
		"export " + EnvPulumiHome + "=" + q(info.PulumiHome),
	}
	if info.PassphraseFile != "" {
		lines = append(lines, "export "+EnvPassphraseFile+"="+q(info.PassphraseFile))
	} else {
		lines = append(lines, "# set "+EnvPassphrase+" (or "+EnvPassphraseFile+") as it was for the run")
	}
	lines = append(lines,
		"go run ./scripts/rehearsal --destroy-run "+q(info.RunDir)+"   # export, sweep, destroy, sweep, remove; or step by step:",
		"pulumi cancel --yes --stack "+q(info.Stack)+"   # only if pulumi says the stack is locked",
		"pulumi destroy --yes --stack "+q(info.Stack)+" --config-file "+q(ConfigFile(info)),
		"pulumi stack rm --yes --stack "+q(info.Stack),
	)
	if info.Region != "" {
		lines = append(lines, "# anything still tagged with the stack (e.g. created by an interrupted up):",
			"aws resourcegroupstaggingapi get-resources --region "+q(info.Region)+" --tag-filters Key="+facts.TagStack+",Values="+q(info.Stack))
	}
	return lines
}
