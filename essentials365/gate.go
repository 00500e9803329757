package essentials365

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/essentials365/sdk/essentials365/backend"
)

// gate refuses writes through the feature services unless the integration
// is integrated. It reads the integration record from the state store at
// every check, so a Disable made by another process sharing the store
// stops this one's writes too; a record that cannot be read refuses the
// write.
type gate struct {
	mu    sync.RWMutex
	state State // the last state read, for Integration.State
	read  func(ctx context.Context) (Record, error)
}

func (g *gate) get() State {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.state
}

func (g *gate) set(s State) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.state = s
}

// check returns nil when writes may proceed, else the error naming why
// not: FailedPrecondition with ReasonIntegrationDisabled or
// ReasonNotIntegrated, or the state store's error.
func (g *gate) check(ctx context.Context, op, key string) error {
	rec, err := g.read(ctx)
	if err != nil {
		return backend.WithOp(err, op, key)
	}
	g.set(rec.State)
	switch rec.State {
	case StateIntegrated:
		return nil
	case StateDisabled:
		return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: key, Reason: ReasonIntegrationDisabled,
			Msg: "the Office 365 integration is disabled: nothing is written to Active Directory or Microsoft 365 through it; run Integrate to enable it again"}
	}
	return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: key, Reason: ReasonNotIntegrated,
		Msg: "the Office 365 integration is not set up: run Integrate first"}
}

// tenantRef holds the tenant driver in use; ChangeCredential swaps it.
type tenantRef struct {
	p        atomic.Pointer[tenantBox]
	batch    bool // the first driver's capabilities, which every later one keeps
	domains  bool
	original backend.Tenant
}

type tenantBox struct{ t backend.Tenant }

func newTenantRef(t backend.Tenant) *tenantRef {
	r := &tenantRef{original: t}
	_, r.batch = t.(backend.BatchTenant)
	_, r.domains = t.(backend.DomainAdmin)
	r.p.Store(&tenantBox{t})
	return r
}

func (r *tenantRef) get() backend.Tenant { return r.p.Load().t }

func (r *tenantRef) set(t backend.Tenant) { r.p.Store(&tenantBox{t}) }

// accepts reports whether t has every capability of the tenant it would
// replace.
func (r *tenantRef) accepts(t backend.Tenant) bool {
	_, batch := t.(backend.BatchTenant)
	_, domains := t.(backend.DomainAdmin)
	return (batch || !r.batch) && (domains || !r.domains)
}

// gated returns the gated view of the tenant, with the same optional
// capabilities as the driver (backend.BatchTenant, backend.DomainAdmin).
func (r *tenantRef) gated(g *gate) backend.Tenant {
	t := &gatedTenant{g: g, r: r}
	switch {
	case r.batch && r.domains:
		return struct {
			*gatedTenant
			gatedBatch
			gatedDomains
		}{t, gatedBatch{t}, gatedDomains{t}}
	case r.batch:
		return struct {
			*gatedTenant
			gatedBatch
		}{t, gatedBatch{t}}
	case r.domains:
		return struct {
			*gatedTenant
			gatedDomains
		}{t, gatedDomains{t}}
	}
	return t
}

// gatedTenant passes reads to the tenant in use and checks the gate before
// every write.
type gatedTenant struct {
	g *gate
	r *tenantRef
}

func (t *gatedTenant) Organization(ctx context.Context) (backend.Organization, error) {
	return t.r.get().Organization(ctx)
}

func (t *gatedTenant) ListUsers(ctx context.Context) iter.Seq2[backend.OnlineUser, error] {
	return t.r.get().ListUsers(ctx)
}

func (t *gatedTenant) GetUser(ctx context.Context, idOrUPN string) (backend.OnlineUser, error) {
	return t.r.get().GetUser(ctx, idOrUPN)
}

func (t *gatedTenant) GetUserByImmutableID(ctx context.Context, id string) (backend.OnlineUser, error) {
	return t.r.get().GetUserByImmutableID(ctx, id)
}

func (t *gatedTenant) CreateUser(ctx context.Context, u backend.NewOnlineUser) (backend.OnlineUser, error) {
	if err := t.g.check(ctx, "tenant: create user", u.UserPrincipalName); err != nil {
		return backend.OnlineUser{}, err
	}
	return t.r.get().CreateUser(ctx, u)
}

func (t *gatedTenant) UpdateUser(ctx context.Context, id string, upd backend.OnlineUserUpdate) error {
	if err := t.g.check(ctx, "tenant: update user", id); err != nil {
		return err
	}
	return t.r.get().UpdateUser(ctx, id, upd)
}

func (t *gatedTenant) DeleteUser(ctx context.Context, id string) error {
	if err := t.g.check(ctx, "tenant: delete user", id); err != nil {
		return err
	}
	return t.r.get().DeleteUser(ctx, id)
}

func (t *gatedTenant) RestoreUser(ctx context.Context, id string) (backend.OnlineUser, error) {
	if err := t.g.check(ctx, "tenant: restore user", id); err != nil {
		return backend.OnlineUser{}, err
	}
	return t.r.get().RestoreUser(ctx, id)
}

func (t *gatedTenant) ListDeletedUsers(ctx context.Context) ([]backend.OnlineUser, error) {
	return t.r.get().ListDeletedUsers(ctx)
}

func (t *gatedTenant) SubscribedSKUs(ctx context.Context) ([]backend.SKU, error) {
	return t.r.get().SubscribedSKUs(ctx)
}

func (t *gatedTenant) AssignLicenses(ctx context.Context, id string, add []backend.LicenseAssignment, remove []string) (backend.OnlineUser, error) {
	if err := t.g.check(ctx, "tenant: assign licenses", id); err != nil {
		return backend.OnlineUser{}, err
	}
	return t.r.get().AssignLicenses(ctx, id, add, remove)
}

func (t *gatedTenant) Domains(ctx context.Context) ([]backend.Domain, error) {
	return t.r.get().Domains(ctx)
}

func (t *gatedTenant) Changes(ctx context.Context, watermark string) (backend.TenantChanges, error) {
	return t.r.get().Changes(ctx, watermark)
}

// gatedBatch adds backend.BatchTenant's writes.
type gatedBatch struct{ t *gatedTenant }

func (b gatedBatch) CreateUsers(ctx context.Context, users []backend.NewOnlineUser) ([]backend.OnlineUser, []error) {
	if err := b.t.g.check(ctx, "tenant: create users", ""); err != nil {
		return make([]backend.OnlineUser, len(users)), repeatErr(err, len(users))
	}
	return b.t.r.get().(backend.BatchTenant).CreateUsers(ctx, users)
}

func (b gatedBatch) AssignLicensesMany(ctx context.Context, changes []backend.LicenseChange) ([]backend.OnlineUser, []error) {
	if err := b.t.g.check(ctx, "tenant: assign licenses", ""); err != nil {
		return make([]backend.OnlineUser, len(changes)), repeatErr(err, len(changes))
	}
	return b.t.r.get().(backend.BatchTenant).AssignLicensesMany(ctx, changes)
}

func repeatErr(err error, n int) []error {
	errs := make([]error, n)
	for k := range errs {
		errs[k] = err
	}
	return errs
}

// gatedDomains adds backend.DomainAdmin.
type gatedDomains struct{ t *gatedTenant }

func (d gatedDomains) admin() backend.DomainAdmin { return d.t.r.get().(backend.DomainAdmin) }

func (d gatedDomains) AddDomain(ctx context.Context, name string) (backend.Domain, error) {
	if err := d.t.g.check(ctx, "tenant: add domain", name); err != nil {
		return backend.Domain{}, err
	}
	return d.admin().AddDomain(ctx, name)
}

func (d gatedDomains) VerificationRecords(ctx context.Context, name string) ([]backend.DNSRecord, error) {
	return d.admin().VerificationRecords(ctx, name)
}

func (d gatedDomains) VerifyDomain(ctx context.Context, name string) (backend.Domain, error) {
	if err := d.t.g.check(ctx, "tenant: verify domain", name); err != nil {
		return backend.Domain{}, err
	}
	return d.admin().VerifyDomain(ctx, name)
}

func (d gatedDomains) ServiceConfigurationRecords(ctx context.Context, name string) ([]backend.DNSRecord, error) {
	return d.admin().ServiceConfigurationRecords(ctx, name)
}

func (d gatedDomains) DeleteDomain(ctx context.Context, name string) error {
	if err := d.t.g.check(ctx, "tenant: delete domain", name); err != nil {
		return err
	}
	return d.admin().DeleteDomain(ctx, name)
}

func (d gatedDomains) SetDefaultDomain(ctx context.Context, name string) (backend.Domain, error) {
	if err := d.t.g.check(ctx, "tenant: set default domain", name); err != nil {
		return backend.Domain{}, err
	}
	return d.admin().SetDefaultDomain(ctx, name)
}

func (d gatedDomains) DomainReferences(ctx context.Context, name string) ([]string, error) {
	return d.admin().DomainReferences(ctx, name)
}

func (d gatedDomains) ForceDeleteDomain(ctx context.Context, name string, disableUserAccounts bool) error {
	if err := d.t.g.check(ctx, "tenant: force delete domain", name); err != nil {
		return err
	}
	return d.admin().ForceDeleteDomain(ctx, name, disableUserAccounts)
}

// gatedMail checks the gate before every Exchange write.
type gatedMail struct {
	g *gate
	m backend.Mail
}

func (m *gatedMail) ListAliases(ctx context.Context, upn string) ([]string, error) {
	return m.m.ListAliases(ctx, upn)
}

func (m *gatedMail) AddAlias(ctx context.Context, upn, address string) error {
	if err := m.g.check(ctx, "exchange: add address", upn); err != nil {
		return err
	}
	return m.m.AddAlias(ctx, upn, address)
}

func (m *gatedMail) RemoveAlias(ctx context.Context, upn, address string) error {
	if err := m.g.check(ctx, "exchange: remove address", upn); err != nil {
		return err
	}
	return m.m.RemoveAlias(ctx, upn, address)
}

// gatedDirectory passes reads to the directory and checks the gate before
// every write, so a feature service never changes one side when it may not
// change the other.
type gatedDirectory struct {
	backend.Directory
	g *gate
}

func (d *gatedDirectory) CreateUser(ctx context.Context, u backend.NewDirectoryUser) (backend.DirectoryUser, error) {
	if err := d.g.check(ctx, "directory: create user", ""); err != nil {
		return backend.DirectoryUser{}, err
	}
	return d.Directory.CreateUser(ctx, u)
}

func (d *gatedDirectory) SetEnabled(ctx context.Context, id backend.GUID, enabled bool) error {
	if err := d.g.check(ctx, "directory: set enabled", ""); err != nil {
		return err
	}
	return d.Directory.SetEnabled(ctx, id, enabled)
}

func (d *gatedDirectory) DeleteUser(ctx context.Context, id backend.GUID) error {
	if err := d.g.check(ctx, "directory: delete user", ""); err != nil {
		return err
	}
	return d.Directory.DeleteUser(ctx, id)
}

func (d *gatedDirectory) ResetPassword(ctx context.Context, id backend.GUID, password string, mustChange bool) error {
	if err := d.g.check(ctx, "directory: reset password", ""); err != nil {
		return err
	}
	return d.Directory.ResetPassword(ctx, id, password, mustChange)
}

func (d *gatedDirectory) ChangePassword(ctx context.Context, id backend.GUID, oldPassword, newPassword string) error {
	if err := d.g.check(ctx, "directory: change password", ""); err != nil {
		return err
	}
	return d.Directory.ChangePassword(ctx, id, oldPassword, newPassword)
}

func (d *gatedDirectory) SetMustChangePassword(ctx context.Context, id backend.GUID, mustChange bool) error {
	if err := d.g.check(ctx, "directory: set must change password", ""); err != nil {
		return err
	}
	return d.Directory.SetMustChangePassword(ctx, id, mustChange)
}

func (d *gatedDirectory) SetOnlineAccount(ctx context.Context, id backend.GUID, value string) error {
	if err := d.g.check(ctx, "directory: set online account", ""); err != nil {
		return err
	}
	return d.Directory.SetOnlineAccount(ctx, id, value)
}
