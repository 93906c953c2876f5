package rehearsal

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/marathon-ha/marathon-ha/internal/failover"
)

// recovered turns a panic in fn into an error naming it, with the stack
// of the goroutine that panicked (a watch loop's, when failover's watch
// carried it over: failover.LoopPanic), so the rehearsal goes on to its
// teardown instead of dying with the stack still up.
func recovered(what string, fn func() error) (err error) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		var lp *failover.LoopPanic
		if e, ok := v.(error); ok && errors.As(e, &lp) {
			err = fmt.Errorf("%s panicked in a watch loop: %v\n%s", what, lp.Value, lp.Stack)
			return
		}
		err = fmt.Errorf("%s panicked: %v\n%s", what, v, debug.Stack())
	}()
	return fn()
}
