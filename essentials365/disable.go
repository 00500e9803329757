package essentials365

import (
	"context"
	"strconv"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// DisableResult is what Disable did.
type DisableResult struct {
	Record Record
	// DiscardedPasswords counts the pending online password updates
	// discarded.
	DiscardedPasswords int
}

// Disable turns the integration off, as Essentials' "Disable Office 365
// integration" did, and makes no network call, so it works when the
// tenant cannot be reached:
//
//   - the record is marked disabled, with the time, first: from then on
//     every write through the feature services (of this process and of
//     any other sharing the state store) fails with FailedPrecondition
//     (ReasonIntegrationDisabled); password synchronization and reconcile
//     stop;
//   - the pending online password updates are then discarded (their
//     sealed values deleted from the store) and counted in the record.
//
// The cloud is left exactly as it is (no licence removed, no account
// blocked) and the mappings stay in Active Directory, so that Integrate
// later adopts the same online accounts. Disabling a disabled integration
// changes nothing but discards what is pending; disabling one that was
// never integrated fails with ReasonNotIntegrated.
func (i *Integration) Disable(ctx context.Context) (*DisableResult, error) {
	const op = "essentials365: disable integration"
	i.mu.Lock()
	defer i.mu.Unlock()
	rec, err := i.Record(ctx)
	if err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	if rec.State == StateNotIntegrated {
		return nil, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Reason: ReasonNotIntegrated,
			Msg: "there is no integration to disable in this state store"}
	}
	if rec.State != StateDisabled {
		// The record first: from now on every feature write, in this
		// process or another sharing the store, is refused.
		rec.State, rec.Since, rec.DiscardedPasswords = StateDisabled, i.now().UTC(), 0
		if err := i.putRecord(ctx, AuditDisable, rec); err != nil {
			return nil, backend.WithOp(err, op, rec.TenantID)
		}
	}
	i.gate.set(StateDisabled)
	n, err := i.accounts.DiscardAllPendingPasswords(ctx)
	i.trail.Record(ctx, audit.Event{Op: AuditDiscardPasswords, Side: audit.SideLocal, Target: rec.TenantID,
		Detail: map[string]string{"count": strconv.Itoa(n)}}, err)
	if n > 0 {
		rec.DiscardedPasswords += n
		if perr := i.putRecord(ctx, AuditDisable, rec); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		// Disabled already: nothing more reaches the cloud. Running
		// Disable again finishes the discard.
		return &DisableResult{Record: rec, DiscardedPasswords: n}, backend.WithOp(err, op, rec.TenantID)
	}
	i.log.InfoContext(ctx, "integration disabled", "tenant", rec.TenantID, "discardedPasswords", n)
	return &DisableResult{Record: rec, DiscardedPasswords: n}, nil
}
