// Package routines gives background goroutines one owner. A Group starts
// each goroutine with the group's context; Close cancels that context and
// waits for every goroutine to return, so nothing the owner started outlives
// it. Unlike errgroup, one routine returning does not cancel the others: a
// page server that fails must not stop the installs beside it.
package routines

import (
	"context"
	"sync"
)

// Group owns a set of goroutines. The zero value is not usable; use New.
type Group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

// New returns a Group whose routines stop when parent is done or Close is
// called, whichever comes first.
func New(parent context.Context) *Group {
	ctx, cancel := context.WithCancel(parent)
	return &Group{ctx: ctx, cancel: cancel}
}

// Go runs f in a new goroutine with the group's context. After Close it runs
// nothing and reports false, so a late start cannot escape the wait.
func (g *Group) Go(f func(ctx context.Context)) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Go(func() { f(g.ctx) })
	return true
}

// Context is the context every routine of the group receives.
func (g *Group) Context() context.Context { return g.ctx }

// Wait blocks until every routine started so far has returned, without
// cancelling them.
func (g *Group) Wait() { g.wg.Wait() }

// Close cancels the group's context and waits for its routines. It is safe
// to call more than once.
func (g *Group) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cancel()
	g.wg.Wait()
}
