package m365emulator

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// FaultKind is a failure the emulator can inject.
type FaultKind int

// The injectable failures.
const (
	// FaultThrottle answers 429 TooManyRequests with Retry-After; the
	// request does not run.
	FaultThrottle FaultKind = iota + 1
	// FaultUnavailable answers 503 serviceNotAvailable; the request does
	// not run.
	FaultUnavailable
	// FaultReset closes the connection without an answer; the request
	// does not run.
	FaultReset
	// FaultResetAfter runs the request, then closes the connection without
	// an answer: the client cannot know that its write was applied.
	FaultResetAfter
	// FaultSlow waits the fault's delay, then runs the request normally.
	FaultSlow
)

func (k FaultKind) String() string {
	switch k {
	case FaultThrottle:
		return "throttle"
	case FaultUnavailable:
		return "unavailable"
	case FaultReset:
		return "reset"
	case FaultResetAfter:
		return "reset-after"
	case FaultSlow:
		return "slow"
	}
	return fmt.Sprintf("fault(%d)", int(k))
}

// Faults injects failures at random, at a rate, from the pseudo-random
// source seeded by [Options].Seed: the same seed and the same sequence of
// requests give the same faults. (Concurrent requests reach the source in
// an order the scheduler picks.)
//
// A reset chosen for a $batch item closes the connection of the whole
// batch: the items before it have run (and, with FaultResetAfter, the item
// itself), the others have not.
type Faults struct {
	// Rate is the probability, from 0 to 1, that an eligible request
	// fails.
	Rate float64
	// Kinds are the faults drawn from, with equal chances; nil means
	// FaultThrottle, FaultUnavailable, FaultReset and FaultSlow.
	Kinds []FaultKind
	// Reads, Writes and BatchItems say which requests are eligible: GETs,
	// POST/PATCH/PUT/DELETE (the $batch request itself excluded), and the
	// items of $batch requests. All false means Writes and BatchItems.
	Reads, Writes, BatchItems bool
	// RetryAfter is the wait a FaultThrottle or FaultUnavailable answer
	// asks for; 0 means 1 s.
	RetryAfter time.Duration
	// Delay is how long FaultSlow waits; 0 means 2 s.
	Delay time.Duration
}

func (f Faults) withDefaults() Faults {
	if f.Kinds == nil {
		f.Kinds = []FaultKind{FaultThrottle, FaultUnavailable, FaultReset, FaultSlow}
	}
	if !f.Reads && !f.Writes && !f.BatchItems {
		f.Writes, f.BatchItems = true, true
	}
	if f.RetryAfter <= 0 {
		f.RetryAfter = time.Second
	}
	if f.Delay <= 0 {
		f.Delay = 2 * time.Second
	}
	return f
}

// ScriptedFault fails the next Count requests (or $batch items) matching
// Method and PathPrefix, in the order they arrive.
type ScriptedFault struct {
	// Method matches the HTTP method ("" matches any).
	Method string
	// PathPrefix matches the start of the path under /v1.0, e.g. "/users"
	// or "/users/{id}/assignLicense" written out; "" matches any path.
	PathPrefix string
	Kind       FaultKind
	// Count is how many matching requests fail; 0 means 1.
	Count int
	// RetryAfter is the wait a throttle or unavailable answer asks for;
	// 0 means 1 s.
	RetryAfter time.Duration
	// Delay is how long FaultSlow waits; 0 means 2 s.
	Delay time.Duration
}

// Script queues faults for the next matching requests. Faults queued
// earlier are consumed first. Script is safe to call while the server is
// serving.
func (s *Server) Script(faults ...ScriptedFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		if f.Count <= 0 {
			f.Count = 1
		}
		s.script = append(s.script, f)
	}
}

// Pending returns how many scripted failures are still queued.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.script {
		n += f.Count
	}
	return n
}

// pickFault draws the fault for a request, if any: the first matching
// scripted fault, else one by rate.
func (s *Server) pickFault(ctx context.Context, req *request, rt route) (resp *response, resetAfter bool) {
	kind, retry, delay := s.draw(req, rt)
	switch kind {
	case 0:
		return nil, false
	case FaultThrottle:
		resp = s.fail(req, http.StatusTooManyRequests, "TooManyRequests",
			fmt.Sprintf(msgTooManyRequests, req.appID, "readwrite")+" (injected fault)", nil)
		resp.setHeader("Retry-After", s.retryAfterHeader(retry))
		return resp, false
	case FaultUnavailable:
		resp = s.fail(req, http.StatusServiceUnavailable, "serviceNotAvailable", msgUnavailable+" (injected fault)", nil)
		resp.setHeader("Retry-After", s.retryAfterHeader(retry))
		return resp, false
	case FaultReset:
		return &response{reset: true}, false
	case FaultResetAfter:
		return nil, true
	case FaultSlow:
		if err := sleep(ctx, delay); err != nil {
			return s.errorResponse(req, rt, err), false
		}
	}
	return nil, false
}

func (s *Server) draw(req *request, rt route) (FaultKind, time.Duration, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.script {
		f := &s.script[i]
		if (f.Method == "" || strings.EqualFold(f.Method, req.method)) && strings.HasPrefix(req.path, f.PathPrefix) {
			f.Count--
			kind, retry, delay := f.Kind, f.RetryAfter, f.Delay
			if f.Count <= 0 {
				s.script = append(s.script[:i], s.script[i+1:]...)
			}
			if retry <= 0 {
				retry = time.Second
			}
			if delay <= 0 {
				delay = 2 * time.Second
			}
			return kind, retry, delay
		}
	}
	f := s.opts.Faults
	if f == nil || f.Rate <= 0 || len(f.Kinds) == 0 {
		return 0, 0, 0
	}
	eligible := req.inBatch && f.BatchItems ||
		!req.inBatch && !rt.batch && (rt.write && f.Writes || !rt.write && f.Reads)
	if !eligible || s.rng.Float64() >= f.Rate {
		return 0, 0, 0
	}
	return f.Kinds[s.rng.IntN(len(f.Kinds))], f.RetryAfter, f.Delay
}
