package rehearsal

import (
	"context"

	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// Stack is the Pulumi stack a rehearsal creates and always destroys. The
// real one is an *AutoStack (Automation API); tests pass a stand-in.
type Stack interface {
	// Name is the stack's name, unique per run.
	Name() string
	// Backend is where the stack's state lives (file://... or s3://...).
	Backend() string
	// Up creates the cluster and returns the stack's outputs. It may fail
	// after creating some resources: Destroy must still be called.
	Up(ctx context.Context) (stackoutputs.Outputs, error)
	// Destroy deletes every resource of the stack; nothing to delete is not
	// an error.
	Destroy(ctx context.Context) error
	// Remove deletes the stack itself (its state and config) once it is empty.
	Remove(ctx context.Context) error
	// ManualCleanup is what an operator runs to finish a failed destroy by
	// hand: shell lines, without secrets.
	ManualCleanup() []string
}
