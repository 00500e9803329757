package memory

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Compile-time proof of the requirements capabilities.
var (
	_ backend.DirectoryRequirements = (*Directory)(nil)
	_ backend.TenantRequirements    = (*Tenant)(nil)
)

// MappingAttribute is the attribute the memory directory reports as the
// mapping attribute, the same as the LDAP driver's default.
const MappingAttribute = "msDS-cloudExtensionAttribute1"

// dirRequirements holds the settable facts of RequirementFacts; the zero
// value is a healthy domain.
type dirRequirements struct {
	mu            sync.Mutex
	schemaMissing bool
	readOnly      bool
	clockOffset   time.Duration
}

// SetMappingAttributeMissing makes RequirementFacts report that the schema
// lacks the mapping attribute (an old schema).
func (d *Directory) SetMappingAttributeMissing(missing bool) {
	d.reqs.mu.Lock()
	defer d.reqs.mu.Unlock()
	d.reqs.schemaMissing = missing
}

// SetMappingAttributeReadOnly makes RequirementFacts report that the bind
// account may not write the mapping attribute.
func (d *Directory) SetMappingAttributeReadOnly(readOnly bool) {
	d.reqs.mu.Lock()
	defer d.reqs.mu.Unlock()
	d.reqs.readOnly = readOnly
}

// SetClockOffset makes the domain controller's clock run ahead (or behind,
// negative) of the directory's Now by off.
func (d *Directory) SetClockOffset(off time.Duration) {
	d.reqs.mu.Lock()
	defer d.reqs.mu.Unlock()
	d.reqs.clockOffset = off
}

// RequirementFacts implements backend.DirectoryRequirements: the domain
// controllers are dc1..dcN of the domain (DirectoryOptions.DomainControllers),
// the server is dc1 (or a member server with NotDomainController).
func (d *Directory) RequirementFacts(ctx context.Context) (f backend.DirectoryFacts, err error) {
	const op, eop = "RequirementFacts", "directory: requirement facts"
	defer func() { d.record(op, "", err) }()
	if err = d.dirEnter(ctx, op, eop, ""); err != nil {
		return backend.DirectoryFacts{}, err
	}
	for i := 1; i <= d.info.DomainControllers; i++ {
		f.DomainControllers = append(f.DomainControllers, "dc"+strconv.Itoa(i)+"."+d.info.DNSName)
	}
	slices.Sort(f.DomainControllers)
	f.Server = "dc1." + d.info.DNSName
	if !d.info.ServerIsDomainController {
		f.Server = "member1." + d.info.DNSName
	}
	d.reqs.mu.Lock()
	defer d.reqs.mu.Unlock()
	f.MappingAttribute = MappingAttribute
	f.SchemaHasMappingAttribute = !d.reqs.schemaMissing
	f.CanWriteMappingAttribute = !d.reqs.schemaMissing && !d.reqs.readOnly
	f.ServerTime = d.now().Add(d.reqs.clockOffset).UTC()
	return f, nil
}

// DefaultRoles are the application permissions the memory tenant reports
// as granted unless SetGrantedRoles says otherwise: every permission the
// SDK's features use.
var DefaultRoles = []string{
	"Application.ReadWrite.OwnedBy",
	"Domain.ReadWrite.All",
	"LicenseAssignment.ReadWrite.All",
	"Organization.Read.All",
	"User-PasswordProfile.ReadWrite.All",
	"User.ReadWrite.All",
}

// tenantRequirements holds the settable facts of RequirementFacts; the
// zero value is a cloud-only tenant granting DefaultRoles.
type tenantRequirements struct {
	mu          sync.Mutex
	syncEnabled bool
	lastSync    time.Time
	roles       []string
	rolesSet    bool
	clockOffset time.Duration
	clientID    string
}

// SetDirectorySync makes the tenant report organization.onPremisesSyncEnabled
// (directory synchronization by Entra Connect) and its last sync time.
func (t *Tenant) SetDirectorySync(enabled bool, lastSync time.Time) {
	t.reqs.mu.Lock()
	defer t.reqs.mu.Unlock()
	t.reqs.syncEnabled, t.reqs.lastSync = enabled, lastSync
}

// SetGrantedRoles sets the application permissions the tenant reports as
// granted (nil roles: none).
func (t *Tenant) SetGrantedRoles(roles ...string) {
	t.reqs.mu.Lock()
	defer t.reqs.mu.Unlock()
	t.reqs.roles, t.reqs.rolesSet = slices.Clone(roles), true
}

// SetClientID sets the application (client) id the tenant reports.
func (t *Tenant) SetClientID(id string) {
	t.reqs.mu.Lock()
	defer t.reqs.mu.Unlock()
	t.reqs.clientID = id
}

// SetClockOffset makes the service's clock run ahead (or behind) of the
// tenant's Now by off.
func (t *Tenant) SetClockOffset(off time.Duration) {
	t.reqs.mu.Lock()
	defer t.reqs.mu.Unlock()
	t.reqs.clockOffset = off
}

// RequirementFacts implements backend.TenantRequirements.
func (t *Tenant) RequirementFacts(ctx context.Context) (backend.TenantFacts, error) {
	const op = "RequirementFacts"
	if err := t.begin(ctx, op, ""); err != nil {
		return backend.TenantFacts{}, err
	}
	t.reqs.mu.Lock()
	f := backend.TenantFacts{
		TenantID:              t.id,
		ClientID:              t.reqs.clientID,
		OnPremisesSyncEnabled: t.reqs.syncEnabled,
		OnPremisesLastSync:    t.reqs.lastSync,
		Roles:                 slices.Clone(DefaultRoles),
		RolesKnown:            true,
		ServerTime:            t.clock().Add(t.reqs.clockOffset),
	}
	if t.reqs.rolesSet {
		f.Roles = slices.Clone(t.reqs.roles)
	}
	t.reqs.mu.Unlock()
	slices.Sort(f.Roles)
	return f, t.done(op, "", nil)
}
