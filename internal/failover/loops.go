package failover

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// loops runs a watch's sampling loops, each in a goroutine of its own. A
// panic in one would otherwise end the process, and with it whatever the
// caller still had to do (the rehearsal's teardown): it is recovered,
// cancel is called so that the other loops stop, and Wait panics again on
// the caller's goroutine, where a caller can recover it.
type loops struct {
	cancel func()

	wg sync.WaitGroup
	mu sync.Mutex
	p  *LoopPanic
}

// LoopPanic is a panic recovered in one of a watch's loops and raised
// again by the watch on its caller's goroutine.
type LoopPanic struct {
	Value any
	Stack []byte // the stack of the loop's goroutine when it panicked
}

func (p *LoopPanic) Error() string {
	return fmt.Sprintf("a watch loop panicked: %v\n%s", p.Value, p.Stack)
}

// Go runs fn in a goroutine of its own.
func (l *loops) Go(fn func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer func() {
			if v := recover(); v != nil {
				l.mu.Lock()
				if l.p == nil {
					l.p = &LoopPanic{Value: v, Stack: debug.Stack()}
				}
				l.mu.Unlock()
				if l.cancel != nil {
					l.cancel()
				}
			}
		}()
		fn()
	}()
}

// Wait waits for every loop, then panics with the first loop's panic.
func (l *loops) Wait() {
	l.wg.Wait()
	l.mu.Lock()
	p := l.p
	l.mu.Unlock()
	if p != nil {
		panic(p)
	}
}
