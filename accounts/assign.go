package accounts

import (
	"context"
	"fmt"
	"strings"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// OnlineChoice says which online account a user gets: a new one, or an
// existing one that no user has.
type OnlineChoice struct {
	// NewOnlineID creates a new online account with this ID. Leave both
	// NewOnlineID and Existing empty for a new account named after the user
	// at the default domain.
	NewOnlineID string
	// Existing names an existing online account (object id or online ID).
	Existing string
	// Licenses to give the account (services may be turned off).
	Licenses []LicenseChoice
	// NoLicense says on purpose that the account gets no licence. An
	// account that would end up without a licence needs it
	// (ReasonLicenseChoiceRequired otherwise).
	NoLicense bool
	// UsageLocation overrides Options.UsageLocation.
	UsageLocation string
}

// NewUser describes a network user to create.
type NewUser struct {
	SAMAccountName    string
	UserPrincipalName string // default: SAMAccountName@<the domain's DNS name>
	GivenName         string
	Surname           string
	DisplayName       string
	Password          string
	// Online, when set, gives the user an online account too, with the
	// same password.
	Online *OnlineChoice
}

// onlinePlan is an OnlineChoice checked before any change.
type onlinePlan struct {
	existing *backend.OnlineUser
	newID    string
	lics     []resolvedLicense
	loc      string
}

// planOnline checks an online choice for user id (zero for a user not
// created yet) before any change. An account that already carries the
// user's anchor (an earlier run was interrupted) is adopted rather than
// created again.
func (s *Service) planOnline(ctx context.Context, op string, c OnlineChoice, sam string, id backend.GUID) (onlinePlan, error) {
	var p onlinePlan
	if c.NewOnlineID != "" && c.Existing != "" {
		return p, backend.Invalid(op, sam, ReasonOnlineChoice, "choose a new online ID or an existing account, not both")
	}
	p.loc = c.UsageLocation
	if p.loc == "" {
		p.loc = s.opts.UsageLocation
	}
	skus, err := s.skus(ctx, op)
	if err != nil {
		return p, err
	}
	if p.lics, err = resolveLicenses(op, skus, c.Licenses); err != nil {
		return p, err
	}
	if c.Existing == "" && c.NewOnlineID == "" && !id.IsZero() {
		if ou, err := s.tenant.GetUserByImmutableID(ctx, id.ImmutableID()); err == nil {
			c.Existing = ou.ID // left by an interrupted run
		}
	}
	if c.Existing != "" {
		ou, err := s.getOnline(ctx, op, c.Existing)
		if err != nil {
			return p, backend.WithOp(err, op, c.Existing)
		}
		if ou.ImmutableID != "" && (id.IsZero() || ou.ImmutableID != id.ImmutableID()) {
			return p, backend.Invalid(op, ou.UserPrincipalName, ReasonOnlineLinked, "the online account is already linked to another user")
		}
		if err := s.checkUnassigned(ctx, op, ou); err != nil {
			return p, err
		}
		p.existing = &ou
	} else {
		doms, err := s.domains(ctx, op)
		if err != nil {
			return p, err
		}
		p.newID = c.NewOnlineID
		if p.newID == "" {
			p.newID = sam + "@" + doms.defaultDomain()
		}
		if err := doms.checkAddress(op, p.newID, "online-id"); err != nil {
			return p, err
		}
		if ou, err := s.getOnline(ctx, op, p.newID); err == nil {
			if id.IsZero() || ou.ImmutableID != id.ImmutableID() {
				return p, backend.WithOp(&backend.Error{Kind: backend.AlreadyExists, Reason: ReasonOnlineIDTaken,
					Msg: "an online account named " + ou.UserPrincipalName + " already exists; choose another ID or assign it as Existing"}, op, p.newID)
			}
			p.existing, p.newID = &ou, "" // created by an interrupted run: adopt it
		} else if backend.KindOf(err) != backend.NotFound {
			return p, backend.WithOp(err, op, p.newID)
		}
	}
	if len(p.lics) == 0 && !c.NoLicense && (p.existing == nil || !p.existing.Licensed()) {
		return p, backend.Invalid(op, sam, ReasonLicenseChoiceRequired,
			"no licence chosen: every online account uses a licence; set OnlineChoice.Licenses, or NoLicense to leave the account unlicensed on purpose")
	}
	need := map[string]int{}
	for _, l := range p.lics {
		if p.existing == nil || !hasLicense(*p.existing, l.sku.SKUID) {
			need[l.sku.SKUID]++
		}
	}
	if err := checkSeats(op, p.lics, need); err != nil {
		return p, err
	}
	if len(p.lics) > 0 && p.loc == "" && (p.existing == nil || p.existing.UsageLocation == "") {
		return p, usageLocationError(op, sam, "licensing needs a usage location: set OnlineChoice.UsageLocation or Options.UsageLocation")
	}
	return p, nil
}

// target is the online ID a plan gives the user.
func (p onlinePlan) target() string {
	if p.existing != nil {
		return p.existing.UserPrincipalName
	}
	return p.newID
}

// checkUnassigned fails when a directory user already records ou as its
// assigned online account.
func (s *Service) checkUnassigned(ctx context.Context, op string, ou backend.OnlineUser) error {
	if ou.ImmutableID == "" {
		return nil
	}
	g, err := backend.GUIDFromImmutableID(ou.ImmutableID)
	if err != nil {
		return nil
	}
	owner, err := s.dir.GetUser(ctx, g)
	if err != nil {
		return nil
	}
	if m, _ := ParseMapping(owner.OnlineAccount); m.ID == ou.ID && m.State == MappingAssigned {
		return backend.Invalid(op, ou.UserPrincipalName, ReasonAlreadyMapped, "the online account is assigned to %s", owner.SAMAccountName)
	}
	return nil
}

// applyOnline creates or adopts the online account (sign-in following the
// user's enabled state) and licenses it. It returns the account and an undo
// function for rollback; it does not undo by itself, so a half-made
// account that carries the user's anchor can be adopted by a rerun.
func (s *Service) applyOnline(ctx context.Context, op string, p onlinePlan, u backend.DirectoryUser, password string) (backend.OnlineUser, func(), error) {
	var ou backend.OnlineUser
	undo := func() {}
	if p.existing == nil {
		display := u.DisplayName
		if display == "" {
			display = u.SAMAccountName
		}
		local, _, _ := strings.Cut(p.newID, "@")
		nu := backend.NewOnlineUser{UserPrincipalName: p.newID, DisplayName: display, MailNickname: local, UsageLocation: p.loc,
			Password: password, ImmutableID: u.ID.ImmutableID(), Disabled: !u.Enabled}
		users, errs := s.createOnline(ctx, []backend.NewOnlineUser{nu})
		e := ev(AuditCreateOnline, audit.SideTenant, u.SAMAccountName, p.newID)
		e.Detail = map[string]string{"signIn": fmt.Sprint(u.Enabled)}
		s.record(ctx, e, errs[0])
		if errs[0] != nil {
			return ou, undo, backend.WithOp(errs[0], op, p.newID)
		}
		ou = users[0]
		undo = func() {
			if err := s.deleteOnline(ctx, op, u.SAMAccountName, ou); err != nil {
				s.log.ErrorContext(ctx, "rollback: cannot delete the new online account", "online", ou.UserPrincipalName, "err", err)
			}
		}
	} else {
		ou = *p.existing
		prev := ou
		imm, on := u.ID.ImmutableID(), u.Enabled
		upd := backend.OnlineUserUpdate{ImmutableID: &imm, AccountEnabled: &on}
		if password != "" {
			upd.Password = &backend.PasswordProfile{Password: password}
		}
		if ou.UsageLocation == "" && p.loc != "" {
			upd.UsageLocation = &p.loc
		}
		e := ev(AuditSetAnchor, audit.SideTenant, u.SAMAccountName, ou.UserPrincipalName)
		e.Detail = map[string]string{"signIn": fmt.Sprint(on), "password": fmt.Sprint(password != "")}
		if err := s.write(ctx, op, e, func() error { return s.tenant.UpdateUser(ctx, ou.ID, upd) }); err != nil {
			return ou, undo, backend.WithOp(err, op, ou.UserPrincipalName)
		}
		ou.ImmutableID, ou.AccountEnabled = imm, on
		if upd.UsageLocation != nil {
			ou.UsageLocation = p.loc
		}
		undo = func() {
			back := backend.OnlineUserUpdate{ImmutableID: &prev.ImmutableID, AccountEnabled: &prev.AccountEnabled}
			if err := s.write(ctx, op, ev(AuditSetAnchor, audit.SideTenant, u.SAMAccountName, prev.UserPrincipalName), func() error {
				return s.tenant.UpdateUser(ctx, prev.ID, back)
			}); err != nil {
				s.log.ErrorContext(ctx, "rollback: cannot restore the online account", "online", prev.UserPrincipalName, "err", err)
			}
		}
	}
	if add := missingAssignments(ou, p.lics); len(add) > 0 {
		users, errs := s.assignOnline(ctx, []backend.LicenseChange{{UserID: ou.ID, Add: add}})
		e := ev(AuditAssignLicenses, audit.SideTenant, u.SAMAccountName, ou.UserPrincipalName)
		e.Target = skuList(add)
		s.record(ctx, e, errs[0])
		if errs[0] != nil {
			return ou, undo, backend.WithOp(errs[0], op, ou.UserPrincipalName)
		}
		ou = users[0]
	}
	return ou, undo, nil
}

// definite reports whether err is a refusal that running the same call
// again would meet again (the input breaks a rule, the state forbids it),
// as opposed to an interruption worth resuming.
func definite(err error) bool {
	switch backend.KindOf(err) {
	case backend.InvalidArgument, backend.AlreadyExists, backend.FailedPrecondition:
		return true
	}
	return false
}

// CreateUser creates a network user and, when u.Online is set, gives it a
// new or an existing online account with the same password. Every check
// (names, password policies, domain, licenses) runs before any change. If
// a later step is refused (a rule, a missing seat), what was done is
// undone. If it is interrupted (an outage, a permission, the process
// stopped), what was done is kept, the network user marked "creating"
// (MappingCreating), and running the same CreateUser again finishes it
// (ReasonInterrupted).
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (UserStatus, error) {
	const op = "accounts: create user"
	if err := checkSAM(op, nu.SAMAccountName); err != nil {
		return UserStatus{}, err
	}
	if nu.UserPrincipalName == "" {
		info, err := s.dir.Info(ctx)
		if err != nil {
			return UserStatus{}, backend.WithOp(err, op, nu.SAMAccountName)
		}
		nu.UserPrincipalName = nu.SAMAccountName + "@" + info.DNSName
	}
	intent := keyCreating + strings.ToLower(nu.SAMAccountName)
	du, resume, finished, err := s.findCreating(ctx, op, nu, intent)
	if err != nil {
		return UserStatus{}, err
	}
	if finished {
		return s.Status(ctx, du.ID.String())
	}
	var p onlinePlan
	if nu.Online != nil {
		probe := backend.DirectoryUser{SAMAccountName: nu.SAMAccountName, OnlineAccount: Mapping{ID: "new", UPN: "new", State: MappingAssigned}.String()}
		if err := s.checkOnlinePassword(ctx, op, probe, nu.Password); err != nil {
			return UserStatus{}, err
		}
		if p, err = s.planOnline(ctx, op, *nu.Online, nu.SAMAccountName, du.ID); err != nil {
			return UserStatus{}, err
		}
	}
	if du, err = s.writeNetworkUser(ctx, op, nu, p, du, resume, intent); err != nil {
		return UserStatus{}, err
	}
	if nu.Online == nil {
		return s.baseStatus(du), nil
	}
	return s.finishCreate(ctx, op, nu, p, du, intent)
}

// findCreating looks for the network user nu names: none (a zero user), one
// an earlier CreateUser left half created (resume), or one an earlier run
// finished before forgetting its intent (finished). Any other user of
// that name is AlreadyExists (ReasonNameTaken).
func (s *Service) findCreating(ctx context.Context, op string, nu NewUser, intent string) (du backend.DirectoryUser, resume, finished bool, err error) {
	u, err := s.dir.GetUserBySAMAccountName(ctx, nu.SAMAccountName)
	switch {
	case err == nil:
		m, _ := ParseMapping(u.OnlineAccount)
		if _, ierr := s.store.Get(ctx, intent); ierr == nil && m.State == MappingAssigned && nu.Online != nil {
			// An earlier run finished every step (the mapping is written
			// last) and stopped before forgetting its intent.
			_ = s.store.Delete(ctx, intent)
			return u, false, true, nil
		}
		if m.State != MappingCreating || nu.Online == nil {
			return du, false, false, &backend.Error{Kind: backend.AlreadyExists, Op: op, Key: nu.SAMAccountName, Reason: ReasonNameTaken,
				Msg: "a network user with this name exists already and was not left half-created by CreateUser; choose another name, or give it an online account with Assign"}
		}
		return u, true, false, nil
	case backend.KindOf(err) != backend.NotFound:
		return du, false, false, backend.WithOp(err, op, nu.SAMAccountName)
	}
	return du, false, false, nil
}

// writeNetworkUser creates the network user, marked "creating" and its
// intent recorded when an online account follows; resuming, it sets the
// password given again instead, so both sides get it.
func (s *Service) writeNetworkUser(ctx context.Context, op string, nu NewUser, p onlinePlan, du backend.DirectoryUser, resume bool, intent string) (backend.DirectoryUser, error) {
	if resume {
		if err := s.write(ctx, op, ev(AuditResetPassword, audit.SideDirectory, du.SAMAccountName, ""), func() error {
			return s.dir.ResetPassword(ctx, du.ID, nu.Password, false)
		}); err != nil {
			return du, backend.WithOp(err, op, du.SAMAccountName)
		}
		return du, nil
	}
	marker := ""
	if nu.Online != nil {
		marker = Mapping{UPN: p.target(), State: MappingCreating}.String()
		if err := s.store.Put(ctx, intent, []byte(p.target())); err != nil {
			return du, backend.WithOp(err, op, nu.SAMAccountName)
		}
	}
	err := s.write(ctx, op, ev(AuditCreateUser, audit.SideDirectory, nu.SAMAccountName, p.target()), func() (e error) {
		du, e = s.dir.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: nu.SAMAccountName, UserPrincipalName: nu.UserPrincipalName,
			DisplayName: nu.DisplayName, GivenName: nu.GivenName, Surname: nu.Surname, Password: nu.Password, OnlineAccount: marker})
		return
	})
	if err != nil {
		return du, backend.WithOp(err, op, nu.SAMAccountName)
	}
	return du, nil
}

// finishCreate gives the new network user du its online account and links
// them. A refusal that running again would meet again undoes everything;
// an interruption keeps what was done, for the same CreateUser to finish.
func (s *Service) finishCreate(ctx context.Context, op string, nu NewUser, p onlinePlan, du backend.DirectoryUser, intent string) (UserStatus, error) {
	ou, undo, err := s.applyOnline(ctx, op, p, du, nu.Password)
	if err == nil {
		err = s.finishLink(ctx, op, du, ou, false)
	}
	if err != nil && definite(err) {
		// Running it again would fail again: undo what was done.
		undo()
		if derr := s.deleteDirUser(ctx, op, du); derr != nil {
			s.log.ErrorContext(ctx, "rollback: cannot delete the new network user", "user", du.SAMAccountName, "err", derr)
		} else {
			_ = s.store.Delete(ctx, intent)
		}
		return UserStatus{}, err
	}
	if err != nil {
		// Interrupted (a permission, an outage, a cancel): keep what was
		// done, marked "creating", so the same call finishes it.
		return UserStatus{}, &backend.Error{Kind: backend.KindOf(err), Op: op, Key: nu.SAMAccountName, Reason: ReasonInterrupted, Err: err,
			Msg: "CreateUser stopped half way; fix the cause and run the same CreateUser again to finish it (nothing is created twice)"}
	}
	_ = s.store.Delete(ctx, intent)
	return s.Status(ctx, du.ID.String())
}

// Assign gives an existing network user an online account: a new one, an
// existing one no user has, or (with a zero choice and an unassigned
// mapping) the account it had before. The online account follows the
// user's enabled state (a disabled user's account is created with sign-in
// blocked). As the online password cannot be read from the network
// account, the user must change password at next logon; the change then
// reaches the online account. The mapping is recorded last: an Assign that
// stopped half way is finished by running it again. It returns the user's
// status as it is after the change.
func (s *Service) Assign(ctx context.Context, user string, c OnlineChoice) (UserStatus, error) {
	const op = "accounts: assign online account"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return UserStatus{}, err
	}
	m, err := ParseMapping(u.OnlineAccount)
	if err != nil {
		return UserStatus{}, backend.WithOp(err, op, u.SAMAccountName)
	}
	switch m.State {
	case MappingAssigned:
		if (c.NewOnlineID == "" && c.Existing == "") || strings.EqualFold(c.NewOnlineID, m.UPN) || c.Existing == m.ID || strings.EqualFold(c.Existing, m.UPN) {
			// Done already (by an earlier run: the mapping is written
			// last): running it again changes nothing.
			return s.Status(ctx, u.ID.String())
		}
		return UserStatus{}, backend.Invalid(op, u.SAMAccountName, ReasonAlreadyMapped, "the user already has the online account %s; unassign it first", m.UPN)
	case MappingCreating:
		return UserStatus{}, backend.Invalid(op, u.SAMAccountName, ReasonAlreadyMapped, "CreateUser was interrupted for this user: run the same CreateUser again to finish it")
	case MappingUnassigned:
		if c.NewOnlineID == "" && c.Existing == "" {
			c.Existing = m.ID // give back the account it kept
		}
	}
	p, err := s.planOnline(ctx, op, c, u.SAMAccountName, u.ID)
	if err != nil {
		return UserStatus{}, err
	}
	pw := ""
	if p.existing == nil {
		pw = GeneratePassword(16) // replaced by the user's next password change
	}
	// A failure after this point is not undone: the account carries the
	// user's anchor, so running Assign again adopts it and finishes.
	ou, _, err := s.applyOnline(ctx, op, p, u, pw)
	if err != nil {
		return UserStatus{}, err
	}
	if err := s.finishLink(ctx, op, u, ou, true); err != nil {
		return UserStatus{}, err
	}
	return s.Status(ctx, u.ID.String())
}

// Unassign takes the online account from a user without touching the
// network account: its licenses are removed (the seats are freed), sign-in
// is blocked, and the link between the user name and the online address is
// kept, so Assign can give it back.
func (s *Service) Unassign(ctx context.Context, user string) error {
	const op = "accounts: unassign online account"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return err
	}
	m, err := ParseMapping(u.OnlineAccount)
	if err != nil {
		return backend.WithOp(err, op, u.SAMAccountName)
	}
	if m.ID == "" {
		return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: u.SAMAccountName, Reason: ReasonNoOnlineAccount,
			Msg: "the user has no online account to unassign"}
	}
	ou, err := s.getOnline(ctx, op, m.ID)
	if err != nil {
		return backend.WithOp(err, op, u.SAMAccountName)
	}
	if len(ou.AssignedLicenses) > 0 {
		var rm []string
		for _, l := range ou.AssignedLicenses {
			rm = append(rm, l.SKUID)
		}
		_, errs := s.assignOnline(ctx, []backend.LicenseChange{{UserID: ou.ID, Remove: rm}})
		e := ev(AuditRemoveLicenses, audit.SideTenant, u.SAMAccountName, ou.UserPrincipalName)
		e.Target = strings.Join(rm, ",")
		s.record(ctx, e, errs[0])
		if errs[0] != nil {
			return backend.WithOp(errs[0], op, u.SAMAccountName)
		}
	}
	if ou.AccountEnabled {
		if err := s.setEnabledOnline(ctx, op, u.SAMAccountName, ou, false); err != nil {
			return backend.WithOp(err, op, u.SAMAccountName)
		}
	}
	m.State = MappingUnassigned
	return s.setMapping(ctx, op, u, m)
}
