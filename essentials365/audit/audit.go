// Package audit is the SDK's one audit trail. Every write that a service of
// the SDK makes to either side (the directory, the tenant, Exchange, a DNS
// zone, the local state) is reported once, after it was attempted, as an
// [Event]: to the caller's [Hook] and as a structured slog record at info
// level. An Event never holds a secret: no password, no sealed value, no
// client secret; its fields are names, identifiers and outcomes only.
//
// The schema is stable (Version); a vendor may persist events as JSON.
package audit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Version is the version of the Event schema.
const Version = 1

// Side names where a write went.
type Side string

// The sides a write can go to.
const (
	SideDirectory Side = "directory" // the on-premises Active Directory
	SideTenant    Side = "tenant"    // Microsoft 365 through Graph
	SideExchange  Side = "exchange"  // Exchange Online
	SideDNS       Side = "dns"       // a DNS zone
	SideLocal     Side = "local"     // the SDK's own state directory
)

// Outcome says how a write ended.
type Outcome string

// The outcomes of a write.
const (
	OutcomeSucceeded Outcome = "succeeded"
	OutcomeFailed    Outcome = "failed"
	// OutcomeDeferred: the write did not happen now but is kept and will be
	// retried (a pending password update).
	OutcomeDeferred Outcome = "deferred"
)

// Event is one write. Op is a short kebab-case verb phrase declared as a
// constant by the package that writes (e.g. accounts.AuditCreateOnlineAccount).
type Event struct {
	Version int       `json:"version"`
	Time    time.Time `json:"time"`
	// Package is the SDK package that made the write ("accounts").
	Package string `json:"package"`
	Op      string `json:"op"`
	Side    Side   `json:"side"`
	// User is the directory user concerned (sAMAccountName), if any.
	User string `json:"user,omitempty"`
	// OnlineID is the online account concerned (UPN), if any.
	OnlineID string `json:"onlineId,omitempty"`
	// Target names another object written: a group, a domain, a record,
	// a licence SKU.
	Target  string  `json:"target,omitempty"`
	Outcome Outcome `json:"outcome"`
	// Kind and Reason classify a failure; Error is its message.
	Kind   string         `json:"kind,omitempty"`
	Reason backend.Reason `json:"reason,omitempty"`
	Error  string         `json:"error,omitempty"`
	// Detail holds operation-specific facts (never secrets).
	Detail map[string]string `json:"detail,omitempty"`
}

// Hook receives every Event. It is called synchronously, after the write,
// from the goroutine that made it; it must be safe for concurrent use and
// should return quickly.
type Hook func(ctx context.Context, e Event)

// Trail sends events to a hook and a logger. The zero value sends nowhere;
// a nil *Trail is usable and does nothing.
type Trail struct {
	Package string
	Hook    Hook
	Logger  *slog.Logger
	Now     func() time.Time
}

// Record completes e (version, time, package, outcome and failure fields
// from err) and sends it.
func (t *Trail) Record(ctx context.Context, e Event, err error) {
	if t == nil {
		return
	}
	e.Version = Version
	if e.Time.IsZero() {
		if t.Now != nil {
			e.Time = t.Now()
		} else {
			e.Time = time.Now()
		}
	}
	if e.Package == "" {
		e.Package = t.Package
	}
	if err != nil {
		if e.Outcome == "" {
			e.Outcome = OutcomeFailed
		}
		e.Kind = backend.KindOf(err).String()
		e.Reason = backend.ReasonOf(err)
		e.Error = err.Error()
	} else if e.Outcome == "" {
		e.Outcome = OutcomeSucceeded
	}
	if t.Logger != nil {
		attrs := []slog.Attr{
			slog.String("package", e.Package), slog.String("op", e.Op), slog.String("side", string(e.Side)),
			slog.String("outcome", string(e.Outcome)),
		}
		for _, kv := range [][2]string{{"user", e.User}, {"onlineId", e.OnlineID}, {"target", e.Target}, {"kind", e.Kind}, {"reason", string(e.Reason)}, {"error", e.Error}} {
			if kv[1] != "" {
				attrs = append(attrs, slog.String(kv[0], kv[1]))
			}
		}
		for k, v := range e.Detail {
			attrs = append(attrs, slog.String("detail."+k, v))
		}
		t.Logger.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
	}
	if t.Hook != nil {
		t.Hook(ctx, e)
	}
}

// Recorder is a Hook that keeps events in memory, for tests and small
// programs. It is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Hook returns r as a Hook.
func (r *Recorder) Hook() Hook {
	return func(_ context.Context, e Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, e)
	}
}

// Events returns a copy of the events recorded so far.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}
