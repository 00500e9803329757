package essentials365

import (
	"context"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/retry"
)

// IntegrateResult is what Integrate did.
type IntegrateResult struct {
	Record Record
	Report *Report
	// Import proposes a network user for each online account that has
	// none (accounts' PlanImport): the seed's path for an existing
	// subscription. Review it and run Accounts().ApplyImport. Nil when
	// there is nothing to import.
	Import *accounts.ImportPlan
}

// Integrate runs the requirements check and, when nothing fails, records
// the integration (tenant id and name, initial and default domains, client
// id, when) in the state store and opens the gate of the feature services.
// On a failed check it changes nothing and returns a FailedPrecondition
// error (ReasonRequirementsNotMet) whose *RequirementsError cause holds
// the report.
//
// Integrate is idempotent: on an integrated store it checks again and
// refreshes the record. On a disabled one it enables the integration
// again; the mappings kept in Active Directory adopt the same online
// accounts. A store integrated with another tenant is refused
// (ReasonOtherTenant): disable that integration first.
func (i *Integration) Integrate(ctx context.Context) (*IntegrateResult, error) {
	const op = "essentials365: integrate"
	i.mu.Lock()
	defer i.mu.Unlock()
	prev, err := i.Record(ctx)
	if err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	tenant := i.tenant.get()
	rep, err := i.check(ctx, tenant)
	if err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	if !rep.OK() {
		return &IntegrateResult{Record: prev, Report: rep}, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: rep.TenantID,
			Reason: ReasonRequirementsNotMet, Msg: "the requirements check failed; nothing was changed: fix the failed checks and integrate again",
			Err: &RequirementsError{Report: rep}}
	}
	if prev.State == StateIntegrated && prev.TenantID != rep.TenantID {
		return &IntegrateResult{Record: prev, Report: rep}, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: rep.TenantID,
			Reason: ReasonOtherTenant, Msg: "this state store is integrated with tenant " + prev.TenantID + ": disable that integration first"}
	}
	doms, err := retry.Value(ctx, i.retry, op, "", func() ([]backend.Domain, error) { return tenant.Domains(ctx) })
	if err != nil {
		return &IntegrateResult{Record: prev, Report: rep}, backend.WithOp(err, op, rep.TenantID)
	}
	now := i.now().UTC()
	rec := prev
	rec.TenantID, rec.TenantName, rec.ClientID = rep.TenantID, rep.TenantName, rep.ClientID
	rec.Domain, rec.Server = rep.Domain, rep.Server
	rec.InitialDomain, rec.DefaultDomain = "", ""
	for _, d := range doms {
		if d.IsInitial {
			rec.InitialDomain = d.Name
		}
		if d.IsDefault {
			rec.DefaultDomain = d.Name
		}
	}
	if prev.State != StateIntegrated || prev.TenantID != rep.TenantID {
		rec.Since = now
	}
	if rec.IntegratedAt.IsZero() || prev.TenantID != rep.TenantID {
		rec.IntegratedAt = now
	}
	rec.State = StateIntegrated
	rec.Warnings = rep.Warnings()
	rec.DiscardedPasswords = 0
	if err := i.putRecord(ctx, AuditIntegrate, rec); err != nil {
		return &IntegrateResult{Record: prev, Report: rep}, backend.WithOp(err, op, rep.TenantID)
	}
	i.gate.set(StateIntegrated)
	i.log.InfoContext(ctx, "integrated", "tenant", rec.TenantID, "warnings", len(rec.Warnings))
	res := &IntegrateResult{Record: rec, Report: rep}
	if rep.ImportCandidates > 0 {
		plan, err := i.accounts.PlanImport(ctx)
		if err != nil {
			// The integration is recorded; the plan can be made later.
			i.log.WarnContext(ctx, "cannot plan the import of existing online accounts", "err", err)
		} else if len(plan.Items) > 0 {
			res.Import = plan
		}
	}
	return res, nil
}
