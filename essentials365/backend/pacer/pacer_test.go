package pacer

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/essentials365/sdk/internal/testclock"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// fakeClock is the shared test clock: waits move it forward at once.
type fakeClock = testclock.Clock

func newFakeClock() *fakeClock { return testclock.New() }

// maxInWindow returns the largest number of writes sent within any span
// of length window.
func maxInWindow(sends []time.Time, counts []int, window time.Duration) int {
	best := 0
	j, sum := 0, 0
	for i := range sends {
		sum += counts[i]
		for sends[i].Sub(sends[j]) >= window {
			sum -= counts[j]
			j++
		}
		best = max(best, sum)
	}
	return best
}

func TestRateLimiterStaysUnderQuota(t *testing.T) {
	tests := []struct {
		name   string
		quota  int
		window time.Duration
		batch  int
		total  int
	}{
		{"single writes", 100, 10 * time.Second, 1, 1000},
		{"batches of 20", 3000, 150 * time.Second, 20, 12000},
		{"odd batches", 300, 3 * time.Second, 7, 2002},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			l := New(Config{Quota: tc.quota, Window: tc.window, Clock: clk})
			start := clk.Now()
			var sends []time.Time
			var counts []int
			for sent := 0; sent < tc.total; sent += tc.batch {
				require.NoError(t, l.Wait(t.Context(), tc.batch))
				sends = append(sends, clk.Now())
				counts = append(counts, tc.batch)
			}
			assert.LessOrEqual(t, maxInWindow(sends, counts, tc.window), tc.quota, "never more than the quota in any window")
			elapsed := clk.Now().Sub(start)
			ceiling := float64(tc.quota) / tc.window.Seconds()
			got := float64(tc.total) / elapsed.Seconds()
			assert.GreaterOrEqual(t, got/ceiling, 0.9, "throughput %.1f/s of a ceiling of %.1f/s", got, ceiling)
			assert.Equal(t, int64(tc.total), l.Stats().Writes)
		})
	}
}

func TestRateLimiterConcurrent(t *testing.T) {
	clk := newFakeClock()
	l := New(Config{Quota: 200, Window: 10 * time.Second, Clock: clk})
	var mu sync.Mutex
	var sends []time.Time
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				require.NoError(t, l.Wait(t.Context(), 1))
				mu.Lock()
				sends = append(sends, clk.Now())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(800), l.Stats().Writes)
	// The fake clock jumps, so check the schedule: 800 writes at the steady
	// rate need at least (800-burst)·interval.
	sort.Slice(sends, func(i, j int) bool { return sends[i].Before(sends[j]) })
	assert.GreaterOrEqual(t, sends[len(sends)-1].Sub(sends[0]), time.Duration(800-10)*l.interval(1)-time.Second)
}

func TestRateLimiterThrottledPausesAndSlows(t *testing.T) {
	clk := newFakeClock()
	l := New(Config{Quota: 100, Window: 10 * time.Second, Clock: clk})
	require.NoError(t, l.Wait(t.Context(), 1))
	before := l.interval(l.Stats().Factor)

	l.Throttled(5 * time.Second)
	l.Throttled(5 * time.Second) // a burst of 429s halves the rate once
	s := l.Stats()
	assert.Equal(t, 0.5, s.Factor)
	assert.Equal(t, int64(2), s.Throttled)

	t0 := clk.Now()
	require.NoError(t, l.Wait(t.Context(), 1))
	assert.GreaterOrEqual(t, clk.Now().Sub(t0), 5*time.Second, "no write before Retry-After has passed")

	// Right after the pause, writes are spaced at half the rate.
	t1 := clk.Now()
	for range 20 {
		require.NoError(t, l.Wait(t.Context(), 1))
	}
	assert.Greater(t, clk.Now().Sub(t1), 15*before, "slower than the full rate")

	// A quiet window brings the full rate back.
	clk.Advance(20 * time.Second)
	require.NoError(t, l.Wait(t.Context(), 1))
	assert.Equal(t, 1.0, l.Stats().Factor)
}

func TestRateLimiterPressure(t *testing.T) {
	tests := []struct {
		fraction float64
		slower   bool
	}{
		{0.5, false},
		{0.79, false},
		{0.8, true},
		{1.2, true},
	}
	for _, tc := range tests {
		clk := newFakeClock()
		l := New(Config{Quota: 100, Window: 10 * time.Second, Clock: clk})
		l.Pressure(tc.fraction)
		s := l.Stats()
		if tc.slower {
			assert.Less(t, s.Factor, 1.0, tc.fraction)
			assert.Equal(t, int64(1), s.Slowdowns)
		} else {
			assert.Equal(t, 1.0, s.Factor, tc.fraction)
		}
	}
	// Repeated headers within a tenth of the window slow down once.
	clk := newFakeClock()
	l := New(Config{Quota: 100, Window: 10 * time.Second, Clock: clk})
	l.Pressure(0.9)
	f := l.Stats().Factor
	l.Pressure(0.9)
	assert.Equal(t, f, l.Stats().Factor)
	clk.Advance(2 * time.Second)
	l.Pressure(0.9)
	assert.Less(t, l.Stats().Factor, f)
}

func TestRateLimiterHonoursContext(t *testing.T) {
	clk := newFakeClock()
	clk.Hold(true)
	l := New(Config{Quota: 10, Window: 10 * time.Second, Clock: clk})
	l.Throttled(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := l.Wait(ctx, 1)
	require.ErrorIs(t, err, backend.ErrCanceled)
}

func TestRateLimiterDisabled(t *testing.T) {
	clk := newFakeClock()
	clk.Hold(true) // any wait would block
	l := New(Config{Disabled: true, Quota: 1, Window: time.Hour, Clock: clk})
	for range 100 {
		require.NoError(t, l.Wait(t.Context(), 20))
	}
	l.Throttled(time.Hour)
	require.NoError(t, l.Wait(t.Context(), 1))
}

// TestDriverFeedsLimiter checks that a 429 answer pauses the driver's
// next write.
