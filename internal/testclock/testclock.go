// Package testclock is the one settable clock of the SDK's tests. A single
// *Clock serves every time option at once: its Now for Options.Now, its
// Sleep for retry.Policy.Sleep, and the Clock itself for pacer.Config.Clock,
// so a test wires one value, not three.
//
// Time moves only when a test says so (Advance, Set) or when a caller waits
// (After, Sleep): a wait moves the clock forward by its duration and returns
// at once, so pacing and backoff are simulated without sleeping. With
// Hold(true), waits never end until their context does.
package testclock

import (
	"context"
	"sync"
	"time"
)

// Start is the time a New clock shows.
var Start = time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	hold   bool
	sleeps []time.Duration
}

// New returns a clock showing Start.
func New() *Clock { return &Clock{now: Start} }

// At returns a clock showing t.
func At(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Hold makes waits block (true) or end at once (false, the default).
func (c *Clock) Hold(hold bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hold = hold
}

// After moves the clock forward by d and fires at once (never, when held).
// Another waiter may have moved the clock further already: it never goes
// back.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.sleeps = append(c.sleeps, d)
	if c.hold {
		return ch
	}
	if t := c.now.Add(d); t.After(c.now) {
		c.now = t
	}
	ch <- c.now
	return ch
}

// Sleep waits like After, or until ctx ends, and returns ctx's error then.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Waits returns every duration waited for through After or Sleep, in order.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}
