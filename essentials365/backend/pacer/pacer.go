// Package pacer delays writes so that a driver stays under a service's
// write quota. It never retries: drivers pace, and the one retry layer
// (package retry) retries.
package pacer

import (
	"context"
	"sync"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Graph's documented identity write quota for one application in one
// tenant: 3,000 writes per 2 min 30 s.
const (
	DefaultWriteQuota  = 3000
	DefaultWriteWindow = 150 * time.Second
)

// Clock is the time source of a [Limiter]. Tests inject a fake one.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock, the default Clock.
type RealClock struct{}

func (RealClock) Now() time.Time                         { return time.Now() }
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config configures the client-side write pacing.
type Config struct {
	// Disabled turns pacing off: writes are sent as fast as callers make
	// them.
	Disabled bool
	// Quota writes are allowed per Window; default Graph's 3,000 per 150 s.
	// Scale both down together to emulate the quota in tests.
	Quota  int
	Window time.Duration
	// Headroom is the fraction of the quota kept unused, so that writes
	// made by other programs with the same app registration and clock skew
	// do not push the tenant over; default 0.05.
	Headroom float64
	// Clock is the time source; default the real clock.
	Clock Clock
}

// Limiter paces writes to stay under a quota of Quota writes per
// Window. It never retries anything: it only delays writes before they
// are sent. It adapts to the service's signals:
//
//   - after a 429 it lowers its rate by half (down to a tenth) and holds
//     every write until the Retry-After has passed;
//   - when a response reports x-ms-throttle-limit-percentage of 0.8 or
//     more it lowers its rate in proportion;
//   - without such signals its rate climbs back to the full quota over
//     one Window.
//
// The pacing is a generic cell rate: in any span of time T it lets
// through at most rate·T writes plus a burst of Headroom·Quota, which
// together stay within Quota per Window.
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	clock    Clock
	disabled bool
	quota    int
	window   time.Duration
	burst    time.Duration // tolerance of the cell-rate algorithm

	mu          sync.Mutex
	tat         time.Time // theoretical arrival time of the next write
	factor      float64   // fraction of the full rate, in [minFactor, 1]
	adjusted    time.Time // last time factor was changed
	pausedUntil time.Time
	stats       Stats
}

// Stats counts what a [Limiter] did.
type Stats struct {
	// Writes is the number of writes let through.
	Writes int64
	// Waited is the total time callers spent waiting.
	Waited time.Duration
	// Throttled counts the 429s reported; Slowdowns the
	// x-ms-throttle-limit-percentage signals that lowered the rate.
	Throttled int64
	Slowdowns int64
	// Factor is the current fraction of the full rate.
	Factor float64
}

const minFactor = 0.1

// New returns a limiter for cfg; zero fields take their
// defaults.
func New(cfg Config) *Limiter {
	if cfg.Quota <= 0 {
		cfg.Quota = DefaultWriteQuota
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWriteWindow
	}
	if cfg.Headroom <= 0 || cfg.Headroom >= 1 {
		cfg.Headroom = 0.05
	}
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	l := &Limiter{
		clock:    cfg.Clock,
		disabled: cfg.Disabled,
		quota:    cfg.Quota,
		window:   cfg.Window,
		factor:   1,
	}
	// Steady rate: (1-headroom)·quota per window; burst: headroom·quota.
	l.quota = int(float64(cfg.Quota) * (1 - cfg.Headroom))
	if l.quota < 1 {
		l.quota = 1
	}
	l.burst = time.Duration(cfg.Headroom * float64(cfg.Quota) * float64(l.interval(1)))
	return l
}

// interval is the time one write occupies at the given rate factor.
func (l *Limiter) interval(factor float64) time.Duration {
	return time.Duration(float64(l.window) / float64(l.quota) / factor)
}

// Wait blocks until n writes may be sent, or ctx is done (Canceled).
func (l *Limiter) Wait(ctx context.Context, n int) error {
	if n <= 0 || l.disabled {
		return nil
	}
	d := l.reserve(n)
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return backend.Wrap(ctx.Err(), backend.Canceled, "pacer: wait for write quota", "")
	case <-l.clock.After(d):
		return nil
	}
}

// reserve books n writes and returns how long the caller must wait before
// sending them.
func (l *Limiter) reserve(n int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	l.recoverRate(now)
	start := l.tat
	if start.Before(now) {
		start = now
	}
	if start.Before(l.pausedUntil) {
		start = l.pausedUntil
	}
	l.tat = start.Add(time.Duration(n) * l.interval(l.factor))
	// The whole reservation must fit in the tolerance, so that a batch's
	// writes, which arrive together, never exceed the quota.
	wait := l.tat.Sub(now) - l.burst
	if w := l.pausedUntil.Sub(now); w > wait {
		wait = w
	}
	if wait < 0 {
		wait = 0
	}
	l.stats.Writes += int64(n)
	l.stats.Waited += wait
	return wait
}

// recoverRate raises the rate factor linearly, back to 1 over one window
// without throttling signals. l.mu is held.
func (l *Limiter) recoverRate(now time.Time) {
	if l.factor >= 1 {
		l.adjusted = now
		return
	}
	if now.Before(l.pausedUntil) {
		return
	}
	from := l.adjusted
	if from.Before(l.pausedUntil) {
		from = l.pausedUntil
	}
	if el := now.Sub(from); el > 0 {
		l.factor += float64(el) / float64(l.window)
		if l.factor > 1 {
			l.factor = 1
		}
		l.adjusted = now
	}
}

// Throttled reports a 429 (or a 503 with Retry-After): the rate is halved
// and writes are held for retryAfter.
func (l *Limiter) Throttled(retryAfter time.Duration) {
	if l.disabled {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	l.stats.Throttled++
	// Several in-flight requests are usually refused together: lower the
	// rate once per burst of 429s.
	if now.Sub(l.adjusted) >= l.interval(l.factor) || l.factor >= 1 {
		l.factor /= 2
		if l.factor < minFactor {
			l.factor = minFactor
		}
	}
	l.adjusted = now
	if until := now.Add(retryAfter); until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
	// Writes already booked ahead keep their order; nothing is sent before
	// the pause ends.
	if l.tat.Before(l.pausedUntil) {
		l.tat = l.pausedUntil
	}
}

// Pressure reports x-ms-throttle-limit-percentage: from 0.8 on, the rate
// is lowered so that the next writes land under the limit.
func (l *Limiter) Pressure(fraction float64) {
	if l.disabled || fraction < 0.8 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	// At most one slowdown per tenth of a window: the header repeats on
	// every answer while the tenant stays busy.
	if now.Sub(l.adjusted) < l.window/10 && l.factor < 1 {
		return
	}
	target := 0.8 / fraction
	if target > 0.9 {
		target = 0.9
	}
	if f := l.factor * target; f < l.factor {
		l.factor = f
		if l.factor < minFactor {
			l.factor = minFactor
		}
		l.stats.Slowdowns++
	}
	l.adjusted = now
}

// Stats returns a snapshot of the limiter's counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Factor = l.factor
	return s
}
