package rehearsal

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// HandleSignals turns signals into the rehearsal's cancellation. The first
// signal cancels the returned context (cause: the signal): the step in
// progress stops (a running pulumi up gets SIGINT and stops gracefully) and
// the rehearsal goes on to destroy the stack, which it does on a context
// of its own. Every later signal is answered on w: the destroy is still
// running, let it finish, and here is how to finish it by hand if this
// process is killed anyway. signal.NotifyContext cannot do this: after the
// first signal it stops listening, and the second would kill the process
// in the middle of the destroy.
//
// Call stop when done; it stops the goroutine reading sigs.
func HandleSignals(parent context.Context, sigs <-chan os.Signal, w io.Writer, stack string, manual func() []string) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	done := make(chan struct{})
	var once sync.Once
	go func() {
		// This goroutine's panic would end the process before the
		// destroy: it stops the rehearsal instead, which then tears down.
		defer func() {
			if v := recover(); v != nil {
				cancel(fmt.Errorf("the signal handler panicked: %v", v))
			}
		}()
		n := 0
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				n++
				if n == 1 {
					fmt.Fprintf(w, "\nrehearsal: %v: stopping the rehearsal; stack %s is destroyed before exit\n", sig, stack)
					cancel(fmt.Errorf("received %v", sig))
					continue
				}
				fmt.Fprintf(w, "\nrehearsal: %v again: the destroy of stack %s is still running; let it finish, or its resources keep costing money.\n"+
					"If this process is killed anyway, finish by hand:\n    %s\n", sig, stack, strings.Join(manual(), "\n    "))
			}
		}
	}()
	return ctx, func() {
		once.Do(func() { close(done) })
		cancel(nil)
	}
}
