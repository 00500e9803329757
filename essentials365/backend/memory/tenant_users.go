package memory

import (
	"context"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// lookupLocked finds a live user by object id or UPN (case-insensitive).
func (t *Tenant) lookupLocked(idOrUPN string) (*tenantUser, bool) {
	k := strings.ToLower(strings.TrimSpace(idOrUPN))
	if u, ok := t.users[k]; ok && !u.deleted {
		return u, true
	}
	if u, ok := t.byUPN[k]; ok && !u.deleted {
		return u, true
	}
	return nil, false
}

// snapshot returns a copy of the user safe to hand out.
func (u *tenantUser) snapshot() backend.OnlineUser {
	out := u.user
	out.AssignedLicenses = tenantCloneLicenses(u.user.AssignedLicenses)
	if u.deleted {
		out.DeletedAt = u.deletedAt
	}
	return out
}

func tenantCloneLicenses(in []backend.AssignedLicense) []backend.AssignedLicense {
	if len(in) == 0 {
		return nil
	}
	out := make([]backend.AssignedLicense, len(in))
	for i, l := range in {
		out[i] = backend.AssignedLicense{SKUID: l.SKUID, DisabledPlans: slices.Clone(l.DisabledPlans)}
	}
	return out
}

// GetUser returns the live user with that object id or UPN.
func (t *Tenant) GetUser(ctx context.Context, idOrUPN string) (backend.OnlineUser, error) {
	const op = "GetUser"
	if err := t.begin(ctx, op, idOrUPN); err != nil {
		return backend.OnlineUser{}, err
	}
	t.mu.Lock()
	t.purgeLocked()
	u, ok := t.lookupLocked(idOrUPN)
	var out backend.OnlineUser
	if ok {
		out = u.snapshot()
	}
	t.mu.Unlock()
	if !ok {
		return backend.OnlineUser{}, t.done(op, idOrUPN, tenantNotFound(op, idOrUPN))
	}
	return out, t.done(op, idOrUPN, nil)
}

// GetUserByImmutableID returns the live user whose onPremisesImmutableId is
// id.
func (t *Tenant) GetUserByImmutableID(ctx context.Context, id string) (backend.OnlineUser, error) {
	const op = "GetUserByImmutableID"
	if err := t.begin(ctx, op, id); err != nil {
		return backend.OnlineUser{}, err
	}
	t.mu.Lock()
	t.purgeLocked()
	u, ok := t.byImmutable[id]
	ok = ok && id != "" && !u.deleted
	var out backend.OnlineUser
	if ok {
		out = u.snapshot()
	}
	t.mu.Unlock()
	if !ok {
		return backend.OnlineUser{}, t.done(op, id, backend.Errorf(backend.NotFound, op, id, "no user has onPremisesImmutableId %q", id))
	}
	return out, t.done(op, id, nil)
}

// ListUsers streams the live users in creation order, TenantOptions.PageSize
// at a time. Each page is copied under the lock, so writes between pages
// are allowed; a user created while iterating may or may not be seen. Each
// page is one call in the call log (as each is one request to Graph), and
// faults of ListUsers apply to each page.
func (t *Tenant) ListUsers(ctx context.Context) iter.Seq2[backend.OnlineUser, error] {
	const op = "ListUsers"
	return func(yield func(backend.OnlineUser, error) bool) {
		next := 0
		for {
			// Each page is one call, as each is one request to Graph: it
			// is recorded and faults apply to it.
			if err := t.begin(ctx, op, ""); err != nil {
				yield(backend.OnlineUser{}, err)
				return
			}
			t.mu.Lock()
			t.purgeLocked()
			page := make([]backend.OnlineUser, 0, t.pageSize)
			for next < len(t.order) && len(page) < t.pageSize {
				u := t.order[next]
				next++
				if !u.deleted && !u.purged {
					page = append(page, u.snapshot())
				}
			}
			last := next >= len(t.order)
			t.mu.Unlock()
			t.done(op, "", nil)
			for _, u := range page {
				if !yield(u, nil) {
					return
				}
			}
			if last {
				return
			}
		}
	}
}

// tenantSplitAddress splits local@domain at its last '@'.
func tenantSplitAddress(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return "", "", false
	}
	return addr[:i], addr[i+1:], true
}

// tenantCheckUPNSyntax validates a UPN's local part and that it has a
// domain part.
func tenantCheckUPNSyntax(op, upn string) error {
	local, domain, ok := tenantSplitAddress(upn)
	if !ok || domain == "" {
		return backend.Invalid(op, upn, backend.ReasonUPNSyntax, tenantMsgUPNInvalid)
	}
	// A userPrincipalName may begin with '$' (Graph documents how to
	// address one: https://learn.microsoft.com/graph/api/user-get).
	if rest, ok := strings.CutPrefix(local, "$"); ok && rest != "" {
		local = rest
	}
	switch backend.OnlineLocalPartRule(local) {
	case "characters":
		return backend.Invalid(op, upn, backend.ReasonUPNCharacters, tenantMsgUPNInvalid)
	case "syntax":
		return backend.Invalid(op, upn, backend.ReasonUPNSyntax, tenantMsgUPNInvalid)
	}
	return nil
}

// checkUPNDomainLocked checks that the UPN's domain is a verified domain of
// the tenant.
func (t *Tenant) checkUPNDomainLocked(op, upn string) error {
	_, domain, _ := tenantSplitAddress(upn)
	d := t.domainLocked(domain)
	if d == nil {
		return backend.Invalid(op, upn, backend.ReasonUPNDomainUnknown, tenantMsgUPNDomain)
	}
	if !d.verified {
		return backend.Invalid(op, upn, backend.ReasonUPNDomainUnverified, tenantMsgUPNDomain)
	}
	return nil
}

// tenantUsageLocationOK accepts a two-letter country code.
func tenantUsageLocationOK(loc string) bool {
	if len(loc) != 2 {
		return false
	}
	for _, r := range loc {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

// tenantNewID returns a new object id.
func tenantNewID() string { return backend.NewGUID().String() }

// CreateUser creates an online user, keeping Graph's rules: unique UPN on a
// verified domain, display name, mailNickname, password policy, unique
// immutable id.
func (t *Tenant) CreateUser(ctx context.Context, nu backend.NewOnlineUser) (backend.OnlineUser, error) {
	const op = "CreateUser"
	key := nu.UserPrincipalName
	if err := t.begin(ctx, op, key); err != nil {
		return backend.OnlineUser{}, err
	}
	u, err := t.createUser(op, nu)
	return u, t.done(op, key, err)
}

func (t *Tenant) createUser(op string, nu backend.NewOnlineUser) (backend.OnlineUser, error) {
	key := nu.UserPrincipalName
	upn := strings.TrimSpace(nu.UserPrincipalName)
	if err := tenantCheckUPNSyntax(op, upn); err != nil {
		return backend.OnlineUser{}, err
	}
	if strings.TrimSpace(nu.DisplayName) == "" {
		return backend.OnlineUser{}, backend.Invalid(op, key, backend.ReasonDisplayNameRequired, tenantMsgDisplayName)
	}
	nick := nu.MailNickname
	if nick == "" {
		nick, _, _ = tenantSplitAddress(upn)
	}
	if nick == "" || len(nick) > 64 || strings.ContainsAny(nick, " @\t\r\n\"\\,;:<>[]()") {
		return backend.OnlineUser{}, backend.Invalid(op, key, backend.ReasonMailNickname, "Invalid value specified for property 'mailNickname' of resource 'User'.")
	}
	if nu.UsageLocation != "" && !tenantUsageLocationOK(nu.UsageLocation) {
		return backend.OnlineUser{}, backend.Invalid(op, key, backend.ReasonUsageLocation, "Invalid value specified for property 'usageLocation' of resource 'User'.")
	}
	if !backend.OnlinePasswordOK(nu.Password) {
		return backend.OnlineUser{}, backend.Invalid(op, key, backend.ReasonPasswordPolicy, tenantMsgPassword)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	if err := t.checkUPNDomainLocked(op, upn); err != nil {
		return backend.OnlineUser{}, err
	}
	if _, taken := t.byUPN[strings.ToLower(upn)]; taken {
		return backend.OnlineUser{}, backend.Errorf(backend.AlreadyExists, op, key, tenantMsgUPNTaken)
	}
	if _, taken := t.byAlias[strings.ToLower(upn)]; taken || t.mail.groupAddressTakenLocked(strings.ToLower(upn)) {
		return backend.OnlineUser{}, backend.Errorf(backend.AlreadyExists, op, key, "Another object with the same value for property proxyAddresses already exists.")
	}
	if nu.ImmutableID != "" {
		if _, taken := t.byImmutable[nu.ImmutableID]; taken {
			return backend.OnlineUser{}, backend.Errorf(backend.AlreadyExists, op, key, tenantMsgImmutableTaken)
		}
	}
	now := t.clock()
	t.seq++
	u := &tenantUser{
		user: backend.OnlineUser{
			ID:                 tenantNewID(),
			UserPrincipalName:  upn,
			DisplayName:        nu.DisplayName,
			GivenName:          nu.GivenName,
			Surname:            nu.Surname,
			MailNickname:       nick,
			UsageLocation:      strings.ToUpper(nu.UsageLocation),
			AccountEnabled:     !nu.Disabled,
			ImmutableID:        nu.ImmutableID,
			LastPasswordChange: now,
		},
		password:    nu.Password,
		forceChange: nu.ForceChangePassword,
		seq:         t.seq,
		aliases:     map[string]string{},
	}
	t.users[u.user.ID] = u
	t.order = append(t.order, u)
	t.byUPN[strings.ToLower(upn)] = u
	if nu.ImmutableID != "" {
		t.byImmutable[nu.ImmutableID] = u
	}
	t.log.Debug("memory tenant created user", "id", u.user.ID, "upn", upn)
	return u.snapshot(), nil
}

// CreateUsers creates each user independently; results and errors pair with
// the input by index. Each item is checked against the faults of
// "CreateUser" and recorded as a "CreateUser" call, so injected faults work
// the same for single and batched creates. A fault on "CreateUsers" fails
// every item.
func (t *Tenant) CreateUsers(ctx context.Context, users []backend.NewOnlineUser) ([]backend.OnlineUser, []error) {
	const op = "CreateUsers"
	out := make([]backend.OnlineUser, len(users))
	errs := make([]error, len(users))
	if err := t.begin(ctx, op, ""); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	t.record(op, "", nil)
	for i, nu := range users {
		out[i], errs[i] = t.CreateUser(ctx, nu)
	}
	return out, errs
}

// UpdateUser changes the fields of upd that are set. A password change moves
// LastPasswordChange to now.
func (t *Tenant) UpdateUser(ctx context.Context, id string, upd backend.OnlineUserUpdate) error {
	const op = "UpdateUser"
	if err := t.begin(ctx, op, id); err != nil {
		return err
	}
	return t.done(op, id, t.updateUser(op, id, upd))
}

func (t *Tenant) updateUser(op, id string, upd backend.OnlineUserUpdate) error {
	if upd.DisplayName != nil && strings.TrimSpace(*upd.DisplayName) == "" {
		return backend.Invalid(op, id, backend.ReasonDisplayNameRequired, tenantMsgDisplayName)
	}
	if upd.UsageLocation != nil && *upd.UsageLocation != "" && !tenantUsageLocationOK(*upd.UsageLocation) {
		return backend.Invalid(op, id, backend.ReasonUsageLocation, "Invalid value specified for property 'usageLocation' of resource 'User'.")
	}
	if upd.Password != nil && !backend.OnlinePasswordOK(upd.Password.Password) {
		return backend.Invalid(op, id, backend.ReasonPasswordPolicy, tenantMsgPassword)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	u, ok := t.lookupLocked(id)
	if !ok {
		return tenantNotFound(op, id)
	}
	if upd.UsageLocation != nil && *upd.UsageLocation == "" && len(u.user.AssignedLicenses) > 0 {
		return backend.Errorf(backend.FailedPrecondition, op, id, "%s", "usageLocation cannot be removed from a user who holds licenses.")
	}
	if upd.ImmutableID != nil && *upd.ImmutableID != "" && *upd.ImmutableID != u.user.ImmutableID {
		if _, taken := t.byImmutable[*upd.ImmutableID]; taken {
			return backend.Errorf(backend.AlreadyExists, op, id, tenantMsgImmutableTaken)
		}
	}
	// Every check passed: apply.
	if upd.AccountEnabled != nil {
		u.user.AccountEnabled = *upd.AccountEnabled
	}
	if upd.DisplayName != nil {
		u.user.DisplayName = *upd.DisplayName
	}
	if upd.UsageLocation != nil {
		u.user.UsageLocation = strings.ToUpper(*upd.UsageLocation)
	}
	if upd.ImmutableID != nil {
		if u.user.ImmutableID != "" {
			delete(t.byImmutable, u.user.ImmutableID)
		}
		u.user.ImmutableID = *upd.ImmutableID
		if u.user.ImmutableID != "" {
			t.byImmutable[u.user.ImmutableID] = u
		}
	}
	if upd.Password != nil {
		u.password = upd.Password.Password
		u.forceChange = upd.Password.ForceChangePassword
		u.user.LastPasswordChange = t.clock()
	}
	t.seq++
	u.seq = t.seq
	t.log.Debug("memory tenant updated user", "id", u.user.ID)
	return nil
}

// ChangePasswordInPortal simulates the user changing the password in the
// Office 365 portal: the password and LastPasswordChange change, and the
// user shows up in Changes. It honours ctx and the faults of op
// "ChangePasswordInPortal"; the password policy applies.
func (t *Tenant) ChangePasswordInPortal(ctx context.Context, idOrUPN, newPassword string) error {
	const op = "ChangePasswordInPortal"
	if err := t.begin(ctx, op, idOrUPN); err != nil {
		return err
	}
	return t.done(op, idOrUPN, t.updateUser(op, idOrUPN, backend.OnlineUserUpdate{
		Password: &backend.PasswordProfile{Password: newPassword},
	}))
}

// CheckPassword reports whether password is the live user's current
// password. It exists for tests of password synchronization and is not
// recorded in the call log.
func (t *Tenant) CheckPassword(idOrUPN, password string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.lookupLocked(idOrUPN)
	return ok && u.password == password
}

// DeleteUser moves the user to deleted items: it can be restored for 30
// days, its UPN stays reserved, its seats are released and its aliases are
// removed.
func (t *Tenant) DeleteUser(ctx context.Context, id string) error {
	const op = "DeleteUser"
	if err := t.begin(ctx, op, id); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	u, ok := t.lookupLocked(id)
	if !ok {
		return t.done(op, id, tenantNotFound(op, id))
	}
	t.countSeatsLocked(u, -1)
	u.deleted = true
	u.deletedAt = t.clock()
	t.deleted[u.user.ID] = u
	for k := range u.aliases {
		delete(t.byAlias, k)
	}
	u.aliases = map[string]string{}
	t.seq++
	u.seq = t.seq
	t.log.Debug("memory tenant deleted user", "id", u.user.ID)
	return t.done(op, id, nil)
}

// RestoreUser restores a user deleted less than 30 days ago, with its
// licenses; FailedPrecondition (backend.ReasonNoFreeLicense) when a seat it held
// is no longer free.
func (t *Tenant) RestoreUser(ctx context.Context, id string) (backend.OnlineUser, error) {
	const op = "RestoreUser"
	if err := t.begin(ctx, op, id); err != nil {
		return backend.OnlineUser{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	u, ok := t.users[strings.ToLower(id)]
	if !ok || !u.deleted {
		return backend.OnlineUser{}, t.done(op, id, tenantNotFound(op, id))
	}
	for _, l := range u.user.AssignedLicenses {
		s := t.skuLocked(l.SKUID)
		if s != nil && t.consumedLocked(s.sku.SKUID) >= s.sku.Enabled {
			return backend.OnlineUser{}, t.done(op, id, tenantNoSeat(op, id, s.sku))
		}
	}
	u.deleted = false
	u.deletedAt = time.Time{}
	delete(t.deleted, u.user.ID)
	t.countSeatsLocked(u, +1)
	t.seq++
	u.seq = t.seq
	t.log.Debug("memory tenant restored user", "id", u.user.ID)
	return u.snapshot(), t.done(op, id, nil)
}

// ListDeletedUsers lists the users that can still be restored, oldest
// deletion first, with DeletedAt set.
func (t *Tenant) ListDeletedUsers(ctx context.Context) ([]backend.OnlineUser, error) {
	const op = "ListDeletedUsers"
	if err := t.begin(ctx, op, ""); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.purgeLocked()
	var out []backend.OnlineUser
	for _, u := range t.order {
		if u.deleted && !u.purged {
			out = append(out, u.snapshot())
		}
	}
	t.mu.Unlock()
	slices.SortStableFunc(out, func(a, b backend.OnlineUser) int { return a.DeletedAt.Compare(b.DeletedAt) })
	return out, t.done(op, "", nil)
}
