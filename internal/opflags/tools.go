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
