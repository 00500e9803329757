package memory

import (
	"context"
	"slices"
	"sync"
)

// Call is one recorded call to a memory driver.
type Call struct {
	// Op is the method name, e.g. "CreateUser".
	Op string
	// Key is the object the call was about ("" when none).
	Key string
	// Err is the error the call returned, nil on success.
	Err error
}

// Fault decides whether a call fails: it returns the error to return, or
// nil to let the call proceed.
type Fault func(ctx context.Context, op, key string) error

// recorder keeps the ordered call log and the injected faults of a driver.
type recorder struct {
	mu     sync.Mutex
	calls  []Call
	faults map[string][]Fault // op -> queue; "*" applies to every op
}

// FailNext makes the next n calls of op fail with err. Op "*" matches any
// operation.
func (r *recorder) FailNext(op string, n int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.faults == nil {
		r.faults = map[string][]Fault{}
	}
	for range n {
		r.faults[op] = append(r.faults[op], func(context.Context, string, string) error { return err })
	}
}

// AddFault installs a fault consulted on every call of op (or "*") until
// ClearFaults; it can fail some calls by rate, key or context.
func (r *recorder) AddFault(op string, f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.faults == nil {
		r.faults = map[string][]Fault{}
	}
	// A persistent fault is stored under a distinct key so failNext queues
	// are consumed first.
	r.faults["persistent:"+op] = append(r.faults["persistent:"+op], f)
}

// ClearFaults removes every injected fault.
func (r *recorder) ClearFaults() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = nil
}

// fault returns the injected error for this call, if any.
func (r *recorder) fault(ctx context.Context, op, key string) error {
	r.mu.Lock()
	var once Fault
	for _, k := range []string{op, "*"} {
		if q := r.faults[k]; len(q) > 0 {
			once = q[0]
			r.faults[k] = q[1:]
			break
		}
	}
	persistent := slices.Clone(r.faults["persistent:"+op])
	persistent = append(persistent, r.faults["persistent:*"]...)
	r.mu.Unlock()
	if once != nil {
		if err := once(ctx, op, key); err != nil {
			return err
		}
	}
	for _, f := range persistent {
		if err := f(ctx, op, key); err != nil {
			return err
		}
	}
	return nil
}

func (r *recorder) record(op, key string, err error) {
	r.mu.Lock()
	r.calls = append(r.calls, Call{Op: op, Key: key, Err: err})
	r.mu.Unlock()
}

// Calls returns a copy of the ordered call log.
func (r *recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// ResetCalls empties the call log.
func (r *recorder) ResetCalls() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}

// CountCalls returns how many calls of op were recorded.
func (r *recorder) CountCalls(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c.Op == op {
			n++
		}
	}
	return n
}
