package opflags

// Tools are the operator tools under scripts/ and the shared flags each
// takes: the ones that apply to it. Each tool builds its flag set with
// New(program, Tools[program], ...), and its opflags test checks it
// against this table (opflagstest.Check); docs/operator-flags.md is
// generated from it.
var Tools = map[string]Set{
	// Reads consoles: no region of its own (the stack's), changes nothing.
	"boot-timeline": Stack | Cwd | Outputs | AWSProfile | VolumeDriver | JSON,
	// Deletes volumes: --yes when asked at a terminal; pulumi destroy runs
	// it non-interactively with its settings in MHA_ variables.
	"cleanup-volumes": Stack | Cwd | Outputs | AWSProfile | Region | VolumeDriver | Yes | DryRun,
	// Deploys the app on a running cluster: costs nothing more.
	"deploy-app": Stack | Cwd | Outputs | AWSProfile | Region | VolumeDriver | DryRun,
	// Draws a saved report: no AWS, no stack.
	"failover-svg": Output,
	// Terminates an instance: the region is the stack's.
	"kill-node": Stack | Cwd | Outputs | AWSProfile | JSON | Output | Yes | DryRun,
	// Writes user data and prints commands; launches nothing itself.
	"prepare-ami": Stack | Cwd | Region | VolumeDriver | Output,
	// Creates and destroys a whole stack: it bills.
	"rehearsal": Cwd | AWSProfile | Region | VolumeDriver | JSON | Output | Yes | DryRun,
}

// ToolEnv are flags of a tool's own (not shared) that environment
// variables fill when the flag is not given, as Parse fills the shared
// ones: Env first, then DeprecatedEnv with a deprecation line. Only Name,
// Env and DeprecatedEnv are used; the tool defines the flag itself.
// Every variable has the MHA_ prefix; the old names go in the next release.
var ToolEnv = map[string][]Flag{
	// components/app.go sets it for the Pulumi command that deploys the app.
	"deploy-app": {{Name: "marathon", Env: []string{"MHA_MARATHON_URL"}, DeprecatedEnv: []string{"MARATHON_URL"}}},
	// .github/workflows/rehearsal.yml sets MHA_REHEARSAL_BACKEND.
	"rehearsal": {
		{Name: "backend", Env: []string{"MHA_REHEARSAL_BACKEND"}, DeprecatedEnv: []string{"REHEARSAL_BACKEND"}},
		{Name: "runs-dir", Env: []string{"MHA_REHEARSAL_RUNS_DIR"}, DeprecatedEnv: []string{"REHEARSAL_RUNS_DIR"}},
	},
}

// Names are the shared flags of s, in Flags order.
func (s Set) Names() []string {
	var out []string
	for _, fl := range Flags {
		if s&fl.Set != 0 {
			out = append(out, fl.Name)
		}
	}
	return out
}

// Rename is an old spelling a tool still takes for one release.
type Rename struct {
	Old, New string // flag names without dashes
	// Note says what differs, when the old flag did not do the same.
	Note string
}

// Renamed are each tool's old spellings. A tool registers them with
// RegisterRenamed once its own flags are defined; opflagstest.Check and
// docs/operator-flags.md read them from here.
var Renamed = map[string][]Rename{
	"cleanup-volumes": {{Old: "profile", New: "aws-profile"}, {Old: "driver", New: "volume-driver"}},
	"failover-svg":    {{Old: "o", New: "output"}},
	"kill-node": {{Old: "svg", New: "output",
		Note: "--svg FILE still draws the SVG alone; --output FILE.json writes the JSON report and the SVG next to it"}},
	"rehearsal": {{Old: "project", New: "cwd"}, {Old: "report", New: "output"}, {Old: "agents", New: "agent-count"}},
}

// RegisterRenamed registers the tool's old spellings (Renamed) that set
// the same flag as their new one; one with a Note differs, and the tool
// registers it itself with DeprecatedAs.
func (f *FlagSet) RegisterRenamed() {
	for _, r := range Renamed[f.Program] {
		if r.Note == "" {
			f.Deprecated(r.Old, r.New)
		}
	}
}
