package accounts

import (
	"fmt"
	"math"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Guard bounds one kind of mass change a reconcile may make in one run:
// it stops when the run would change more objects than
//
//	min(Max, max(1, floor(Percent% of the managed online accounts)))
//
// With the defaults (Max 10, Percent 10) a 40-user company may lose at most
// 4 accounts in a run, a 5-user company 1, a 500-user company 10.
type Guard struct {
	// Max is the most objects one run may change (default 10; negative: no
	// absolute limit).
	Max int
	// Percent is the most objects one run may change as a percentage of
	// the online accounts the SDK manages (default 10; negative: no
	// percentage limit). It never allows less than one object.
	Percent float64
}

// Guards are the reconcile's limits on mass changes, on by default.
// Licences are never removed by a reconcile (a disabled user keeps its
// licence and data, as a deleted account's licence is freed only with the
// account), so deletions and disables are the mass changes to guard.
type Guards struct {
	// Deletions bounds the online accounts deleted.
	Deletions Guard
	// Disables bounds the online accounts whose sign-in is blocked.
	Disables Guard
	// MinDirectoryPercent stops a full reconcile whose directory listing
	// holds fewer of the managed accounts' users than this percentage of
	// them (default 50; negative: off). A listing of zero users always
	// stops when the SDK manages accounts.
	MinDirectoryPercent float64
}

func (g Guard) withDefaults() Guard {
	if g.Max == 0 {
		g.Max = 10
	}
	if g.Percent == 0 {
		g.Percent = 10
	}
	return g
}

func (g Guards) withDefaults() Guards {
	g.Deletions = g.Deletions.withDefaults()
	g.Disables = g.Disables.withDefaults()
	if g.MinDirectoryPercent == 0 {
		g.MinDirectoryPercent = 50
	}
	return g
}

// Limit returns how many objects a run may change when the SDK manages
// base online accounts, and false when the guard sets no limit.
func (g Guard) Limit(base int) (int, bool) {
	g = g.withDefaults()
	limit, limited := math.MaxInt, false
	if g.Max > 0 {
		limit, limited = g.Max, true
	}
	if g.Percent > 0 {
		p := max(1, int(math.Floor(g.Percent*float64(base)/100)))
		if p < limit {
			limit = p
		}
		limited = true
	}
	return limit, limited
}

// GuardStop is a guard that stops (or would stop) a reconcile.
type GuardStop struct {
	// Reason is ReasonDeletionGuard, ReasonDisableGuard or
	// ReasonDirectorySuspicious.
	Reason backend.Reason
	// Count objects would change; Limit is what the guard allows; Base is
	// the number of managed online accounts the percentage is taken of.
	Count, Limit, Base int
	// Message says what happened and what to do.
	Message string
}

func (g GuardStop) err(op string) error {
	return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Reason: g.Reason, Msg: g.Message}
}

// checkGuards returns the guards plan breaks under opts.
func (s *Service) checkGuards(p *ReconcilePlan, o ReconcileOptions) []GuardStop {
	g := s.opts.Guards
	var stops []GuardStop
	if p.Full && !o.AcceptDirectory && p.Managed > 0 {
		seen := p.ManagedSeen
		if p.DirectoryUsers == 0 || (g.MinDirectoryPercent > 0 && float64(seen)*100 < g.MinDirectoryPercent*float64(p.Managed)) {
			stops = append(stops, GuardStop{Reason: ReasonDirectorySuspicious, Count: seen, Base: p.Managed,
				Message: fmt.Sprintf("reconcile stopped: the directory listed %d users, and only %d of the %d users whose online accounts the SDK manages; "+
					"nothing was changed: check the directory connection (base DN, permissions), or pass ReconcileOptions.AcceptDirectory if the listing is right",
					p.DirectoryUsers, seen, p.Managed)})
		}
	}
	del, dis := 0, 0
	for _, a := range p.Actions {
		switch a.Type {
		case ReconcileDelete:
			del++
		case ReconcileDisable:
			dis++
		}
	}
	if p.FirstRun && !o.AllowFirstRunDeletions {
		del = 0 // held back, not applied
	}
	if limit, ok := g.Deletions.Limit(p.Managed); ok && del > limit && !o.AllowDeletions {
		stops = append(stops, GuardStop{Reason: ReasonDeletionGuard, Count: del, Limit: limit, Base: p.Managed,
			Message: fmt.Sprintf("reconcile stopped: %d of %d managed online accounts would be deleted (limit %d); nothing was changed: "+
				"review with PlanReconcile and pass ReconcileOptions.AllowDeletions to apply", del, p.Managed, limit)})
	}
	if limit, ok := g.Disables.Limit(p.Managed); ok && dis > limit && !o.AllowDisables {
		stops = append(stops, GuardStop{Reason: ReasonDisableGuard, Count: dis, Limit: limit, Base: p.Managed,
			Message: fmt.Sprintf("reconcile stopped: %d of %d managed online accounts would be disabled (limit %d); nothing was changed: "+
				"review with PlanReconcile and pass ReconcileOptions.AllowDisables to apply", dis, p.Managed, limit)})
	}
	return stops
}
