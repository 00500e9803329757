package memory

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Compile-time proof of the requirements capabilities.
var (
	_ backend.DirectoryRequirements = (*Directory)(nil)
	_ backend.TenantRequirements    = (*Tenant)(nil)
	_ backend.SecretRotator         = (*Tenant)(nil)
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

// DefaultRoles returns the application permissions the memory tenant
// reports as granted unless SetGrantedRoles says otherwise: every
// permission the SDK's features use. It returns a new slice on every call.
func DefaultRoles() []string {
	return []string{
		"Application.ReadWrite.OwnedBy",
		"Domain.ReadWrite.All",
		"LicenseAssignment.ReadWrite.All",
		"Organization.Read.All",
		"User-PasswordProfile.ReadWrite.All",
		"User.ReadWrite.All",
	}
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
	secrets     []backend.ClientSecret // Text is never kept
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
		Roles:                 DefaultRoles(),
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

// AddSecret implements backend.SecretRotator: the tenant keeps the key ids
// of its application's secrets (never their text) so that rotation flows
// can be tested; nothing signs in with them. It needs
// Application.ReadWrite.OwnedBy or Application.ReadWrite.All among the
// granted roles (PermissionDenied otherwise), as Graph does.
func (t *Tenant) AddSecret(ctx context.Context, displayName string, end time.Time) (backend.ClientSecret, error) {
	const op = "AddSecret"
	if err := t.begin(ctx, op, ""); err != nil {
		return backend.ClientSecret{}, err
	}
	if err := t.mayRotate("tenant: add secret"); err != nil {
		return backend.ClientSecret{}, t.done(op, "", err)
	}
	start := t.clock()
	if end.IsZero() {
		end = start.AddDate(2, 0, 0)
	}
	text := "m" + strings.ReplaceAll(backend.NewGUID().String(), "-", "") + "~Q"
	sec := backend.ClientSecret{KeyID: backend.NewGUID().String(), DisplayName: displayName, Hint: text[:3], Start: start, End: end.UTC()}
	t.reqs.mu.Lock()
	t.reqs.secrets = append(t.reqs.secrets, sec)
	t.reqs.mu.Unlock()
	sec.Text = text
	return sec, t.done(op, sec.KeyID, nil)
}

// RemoveSecret implements backend.SecretRotator.
func (t *Tenant) RemoveSecret(ctx context.Context, keyID string) error {
	const op = "RemoveSecret"
	if err := t.begin(ctx, op, keyID); err != nil {
		return err
	}
	if err := t.mayRotate("tenant: remove secret"); err != nil {
		return t.done(op, keyID, err)
	}
	t.reqs.mu.Lock()
	n := len(t.reqs.secrets)
	t.reqs.secrets = slices.DeleteFunc(t.reqs.secrets, func(s backend.ClientSecret) bool { return strings.EqualFold(s.KeyID, keyID) })
	removed := len(t.reqs.secrets) < n
	t.reqs.mu.Unlock()
	if !removed {
		return t.done(op, keyID, backend.Errorf(backend.NotFound, "tenant: remove secret", keyID, "the application has no secret with key id %s", keyID))
	}
	return t.done(op, keyID, nil)
}

// SecretKeyIDs returns the key ids of the application's secrets.
func (t *Tenant) SecretKeyIDs() []string {
	t.reqs.mu.Lock()
	defer t.reqs.mu.Unlock()
	var out []string
	for _, s := range t.reqs.secrets {
		out = append(out, s.KeyID)
	}
	return out
}

func (t *Tenant) mayRotate(eop string) error {
	t.reqs.mu.Lock()
	defer t.reqs.mu.Unlock()
	roles := DefaultRoles()
	if t.reqs.rolesSet {
		roles = t.reqs.roles
	}
	if slices.ContainsFunc(roles, func(r string) bool {
		return strings.EqualFold(r, "Application.ReadWrite.OwnedBy") || strings.EqualFold(r, "Application.ReadWrite.All")
	}) {
		return nil
	}
	return backend.Errorf(backend.PermissionDenied, eop, "", "Insufficient privileges to complete the operation.")
}
