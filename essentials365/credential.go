package essentials365

import (
	"context"
	"time"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/retry"
)

// CredentialOptions tune ChangeCredential.
type CredentialOptions struct {
	// StoreSecret, when non-empty, is kept in the state store sealed with
	// the Sealer, for the program to read back with StoredSecret at its
	// next start. Default: nothing is stored (and a secret stored before
	// is deleted, as it no longer works); the caller supplies the
	// credential at each Open.
	StoreSecret string
}

// ChangeCredential replaces the tenant driver the integration uses with
// candidate (the same tenant reached with another credential: a new admin
// account's, a new client secret), as Essentials' "Change the Office 365
// administrator account" did. The candidate is checked first: it must
// reach the same tenant (ReasonOtherTenant otherwise), the required
// features' permissions must be granted, and it must have the optional
// capabilities of the driver it replaces. On any failure the old
// credential stays in use and the error's *RequirementsError cause, when
// present, holds the report.
func (i *Integration) ChangeCredential(ctx context.Context, candidate backend.Tenant, opts *CredentialOptions) (*Report, error) {
	const op = "essentials365: change credential"
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.changeCredential(ctx, op, candidate, opts)
}

func (i *Integration) changeCredential(ctx context.Context, op string, candidate backend.Tenant, opts *CredentialOptions) (*Report, error) {
	if candidate == nil {
		return nil, backend.Invalid(op, "", ReasonTenantRequired, "a tenant driver with the new credential is required")
	}
	var o CredentialOptions
	if opts != nil {
		o = *opts
	}
	rec, err := i.Record(ctx)
	if err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	if rec.State == StateNotIntegrated {
		return nil, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Reason: ReasonNotIntegrated,
			Msg: "there is no integration whose credential could change: run Integrate"}
	}
	if !i.tenant.accepts(candidate) {
		return nil, backend.Invalid(op, rec.TenantID, ReasonCapabilityMissing,
			"the new tenant driver lacks a capability (batching or domain management) of the one in use: build it with the same driver")
	}
	rep := &Report{CheckedAt: i.now().UTC()}
	tf, ok := i.checkTenant(ctx, rep, candidate)
	if ok {
		i.checkPermissions(rep, tf)
	}
	if !rep.OK() {
		return rep, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: rec.TenantID, Reason: ReasonRequirementsNotMet,
			Msg: "the new credential does not work; the old one stays in use", Err: &RequirementsError{Report: rep}}
	}
	if rep.TenantID != rec.TenantID {
		return rep, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: rep.TenantID, Reason: ReasonOtherTenant,
			Msg: "the new credential signs in to tenant " + rep.TenantID + ", not " + rec.TenantID + "; the old one stays in use"}
	}
	if err := i.storeSecret(ctx, op, rec.TenantID, o.StoreSecret); err != nil {
		return rep, err
	}
	rec.ClientID = rep.ClientID
	rec.CredentialChangedAt = i.now().UTC()
	if err := i.putRecord(ctx, AuditChangeCredential, rec); err != nil {
		return rep, backend.WithOp(err, op, rec.TenantID)
	}
	i.tenant.set(candidate)
	i.log.InfoContext(ctx, "credential changed", "tenant", rec.TenantID, "clientId", rec.ClientID)
	return rep, nil
}

// storeSecret seals and stores secret, or deletes a stored one when secret
// is empty.
func (i *Integration) storeSecret(ctx context.Context, op, tenantID, secret string) error {
	var err error
	if secret == "" {
		err = i.store.Delete(ctx, keyCredential)
	} else {
		var sealed []byte
		sealed, err = i.sealer.Seal([]byte(secret))
		if err == nil {
			err = i.store.Put(ctx, keyCredential, sealed)
		}
	}
	i.trail.Record(ctx, audit.Event{Op: AuditStoreCredential, Side: audit.SideLocal, Target: tenantID,
		Detail: map[string]string{"stored": boolString(secret != "")}}, err)
	if err != nil {
		return backend.WithOp(err, op, tenantID)
	}
	return nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// StoredSecret returns the secret ChangeCredential or RotateSecret stored
// (opened with the Sealer), or NotFound when none is stored.
func (i *Integration) StoredSecret(ctx context.Context) (string, error) {
	const op = "essentials365: read stored secret"
	sealed, err := i.store.Get(ctx, keyCredential)
	if err != nil {
		return "", backend.WithOp(err, op, "")
	}
	b, err := i.sealer.Open(sealed)
	if err != nil {
		return "", backend.WithOp(err, op, "")
	}
	return string(b), nil
}

// RotateOptions tune RotateSecret.
type RotateOptions struct {
	// NewTenant builds a tenant driver that signs in with secret (the same
	// driver, configuration and client id as the one in use). Required.
	NewTenant func(secret string) (backend.Tenant, error)
	// OldKeyID is the key id of the secret in use, removed once the new
	// one works. Default "": the old secret is left for the caller to
	// remove.
	OldKeyID string
	// DisplayName names the new secret; default "essentials365".
	DisplayName string
	// Lifetime is the new secret's validity; default the service's (two
	// years for Entra ID).
	Lifetime time.Duration
	// Store keeps the new secret sealed in the state store (see
	// StoredSecret). Default false.
	Store bool
}

// RotateSecret has the application add a new client secret to itself
// (backend.SecretRotator, Graph's addPassword), validates it with
// ChangeCredential's checks and switches to it; then it removes the old
// secret (OldKeyID). If the new secret does not work it is removed again
// and the old one stays in use. The new secret is returned once: keep it
// (Store, or the caller's own secret store).
func (i *Integration) RotateSecret(ctx context.Context, opts RotateOptions) (backend.ClientSecret, error) {
	const op = "essentials365: rotate secret"
	i.mu.Lock()
	defer i.mu.Unlock()
	if opts.NewTenant == nil {
		return backend.ClientSecret{}, backend.Invalid(op, "", ReasonNewTenantRequired, "RotateOptions.NewTenant is required to sign in with the new secret")
	}
	if err := i.gate.check(ctx, op, ""); err != nil {
		return backend.ClientSecret{}, err
	}
	rot, ok := i.tenant.get().(backend.SecretRotator)
	if !ok {
		return backend.ClientSecret{}, backend.Invalid(op, "", ReasonCapabilityMissing, "the tenant driver cannot rotate its secret (backend.SecretRotator)")
	}
	if tr, ok := rot.(backend.TenantRequirements); ok {
		f, err := retry.Value(ctx, i.retry, op, "", func() (backend.TenantFacts, error) { return tr.RequirementFacts(ctx) })
		if err != nil {
			return backend.ClientSecret{}, backend.WithOp(err, op, "")
		}
		if miss := MissingPermissions(f.Roles, FeatureSecretRotation)[FeatureSecretRotation]; f.RolesKnown && len(miss) > 0 {
			return backend.ClientSecret{}, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: f.ClientID, Reason: ReasonPermissionMissing,
				Msg: "the application may not change its own secrets: grant it " + miss[0] + " (and make its service principal an owner of its application) or Application.ReadWrite.All"}
		}
	}
	name := opts.DisplayName
	if name == "" {
		name = "essentials365"
	}
	var end time.Time
	if opts.Lifetime > 0 {
		end = i.now().Add(opts.Lifetime).UTC()
	}
	// Not retried: a retried add could leave a second secret behind.
	sec, err := rot.AddSecret(ctx, name, end)
	i.trail.Record(ctx, audit.Event{Op: AuditAddSecret, Side: audit.SideTenant, Target: sec.KeyID}, err)
	if err != nil {
		return backend.ClientSecret{}, backend.WithOp(err, op, "")
	}
	undo := func(cause error) (backend.ClientSecret, error) {
		rerr := i.retry.Do(ctx, op, sec.KeyID, func() error { return rot.RemoveSecret(ctx, sec.KeyID) })
		i.trail.Record(ctx, audit.Event{Op: AuditRemoveSecret, Side: audit.SideTenant, Target: sec.KeyID}, rerr)
		if rerr != nil {
			i.log.WarnContext(ctx, "cannot remove the new secret that did not work; remove it in the app registration", "keyId", sec.KeyID, "err", rerr)
		}
		return backend.ClientSecret{}, cause
	}
	candidate, err := opts.NewTenant(sec.Text)
	if err != nil {
		return undo(backend.WithOp(err, op, sec.KeyID))
	}
	stored := ""
	if opts.Store {
		stored = sec.Text
	}
	if _, err := i.changeCredential(ctx, op, candidate, &CredentialOptions{StoreSecret: stored}); err != nil {
		return undo(err)
	}
	if opts.OldKeyID != "" {
		err := i.retry.Do(ctx, op, opts.OldKeyID, func() error { return rot.RemoveSecret(ctx, opts.OldKeyID) })
		i.trail.Record(ctx, audit.Event{Op: AuditRemoveSecret, Side: audit.SideTenant, Target: opts.OldKeyID}, err)
		if err != nil {
			// The new secret works and is in use; the old one is only
			// left behind.
			i.log.WarnContext(ctx, "the old secret could not be removed; remove it in the app registration", "keyId", opts.OldKeyID, "err", err)
		}
	}
	return sec, nil
}
