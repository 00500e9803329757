package accounts

import (
	"context"
	"strings"

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

func (s *Service) planOnline(ctx context.Context, op string, c OnlineChoice, sam string, id backend.GUID) (onlinePlan, error) {
	var p onlinePlan
	if c.NewOnlineID != "" && c.Existing != "" {
		return p, backend.Invalid(op, sam, "online-choice", "choose a new online ID or an existing account, not both")
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
	if c.Existing != "" {
		ou, err := s.getOnline(ctx, op, c.Existing)
		if err != nil {
			return p, backend.WithOp(err, op, c.Existing)
		}
		if ou.ImmutableID != "" && ou.ImmutableID != id.ImmutableID() {
			return p, backend.Invalid(op, ou.UserPrincipalName, RuleOnlineLinked, "the online account is already linked to another user")
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
			return p, backend.WithOp(&backend.Error{Kind: backend.AlreadyExists, Reason: RuleOnlineIDTaken,
				Msg: "an online account named " + ou.UserPrincipalName + " already exists; choose another ID or assign it as Existing"}, op, p.newID)
		} else if backend.KindOf(err) != backend.NotFound {
			return p, backend.WithOp(err, op, p.newID)
		}
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
		return p, backend.Invalid(op, sam, RuleUsageLocation, "licensing needs a usage location: set OnlineChoice.UsageLocation or Options.UsageLocation")
	}
	return p, nil
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
	if m, _ := ParseMapping(owner.OnlineAccount); m.ID == ou.ID && m.State == Assigned {
		return backend.Invalid(op, ou.UserPrincipalName, RuleAlreadyMapped, "the online account is assigned to %s", owner.SAMAccountName)
	}
	return nil
}

// applyOnline creates or adopts the online account and licenses it. It
// returns the account and an undo function for rollback.
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
			Password: password, ImmutableID: u.ID.ImmutableID()}
		users, errs := s.createOnline(ctx, []backend.NewOnlineUser{nu})
		if errs[0] != nil {
			return ou, undo, backend.WithOp(errs[0], op, p.newID)
		}
		ou = users[0]
		undo = func() {
			if err := s.do(ctx, op, ou.ID, func() error { return s.tenant.DeleteUser(ctx, ou.ID) }); err != nil {
				s.log.ErrorContext(ctx, "rollback: cannot delete the new online account", "online", ou.UserPrincipalName, "err", err)
			}
		}
	} else {
		ou = *p.existing
		prev := ou
		imm, on := u.ID.ImmutableID(), true
		upd := backend.OnlineUserUpdate{ImmutableID: &imm, AccountEnabled: &on}
		if password != "" {
			upd.Password = &backend.PasswordProfile{Password: password}
		}
		if ou.UsageLocation == "" && p.loc != "" {
			upd.UsageLocation = &p.loc
		}
		if err := s.do(ctx, op, ou.ID, func() error { return s.tenant.UpdateUser(ctx, ou.ID, upd) }); err != nil {
			return ou, undo, backend.WithOp(err, op, ou.UserPrincipalName)
		}
		undo = func() {
			back := backend.OnlineUserUpdate{ImmutableID: &prev.ImmutableID, AccountEnabled: &prev.AccountEnabled}
			if err := s.do(ctx, op, prev.ID, func() error { return s.tenant.UpdateUser(ctx, prev.ID, back) }); err != nil {
				s.log.ErrorContext(ctx, "rollback: cannot restore the online account", "online", prev.UserPrincipalName, "err", err)
			}
		}
	}
	if add := missingAssignments(ou, p.lics); len(add) > 0 {
		users, errs := s.assignOnline(ctx, []backend.LicenseChange{{UserID: ou.ID, Add: add}})
		if errs[0] != nil {
			undo()
			return ou, func() {}, backend.WithOp(errs[0], op, ou.UserPrincipalName)
		}
		ou = users[0]
	}
	return ou, undo, nil
}

// CreateUser creates a network user and, when u.Online is set, gives it a
// new or an existing online account with the same password. Every check
// (names, password policies, domain, licenses) runs before any change; if a
// later step fails, what was done is undone.
func (s *Service) CreateUser(ctx context.Context, u NewUser) (UserStatus, error) {
	const op = "accounts: create user"
	if err := checkSAM(op, u.SAMAccountName); err != nil {
		return UserStatus{}, err
	}
	if u.UserPrincipalName == "" {
		info, err := s.dir.Info(ctx)
		if err != nil {
			return UserStatus{}, backend.WithOp(err, op, u.SAMAccountName)
		}
		u.UserPrincipalName = u.SAMAccountName + "@" + info.DNSName
	}
	var p onlinePlan
	if u.Online != nil {
		probe := backend.DirectoryUser{SAMAccountName: u.SAMAccountName, OnlineAccount: "e365:1;id=new;upn=new;state=assigned"}
		if err := s.checkOnlinePassword(ctx, op, probe, u.Password); err != nil {
			return UserStatus{}, err
		}
		var err error
		if p, err = s.planOnline(ctx, op, *u.Online, u.SAMAccountName, backend.GUID{}); err != nil {
			return UserStatus{}, err
		}
	}
	var du backend.DirectoryUser
	err := s.do(ctx, op, u.SAMAccountName, func() (e error) {
		du, e = s.dir.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: u.SAMAccountName, UserPrincipalName: u.UserPrincipalName,
			DisplayName: u.DisplayName, GivenName: u.GivenName, Surname: u.Surname, Password: u.Password})
		return
	})
	if err != nil {
		return UserStatus{}, backend.WithOp(err, op, u.SAMAccountName)
	}
	if u.Online == nil {
		return s.baseStatus(du), nil
	}
	ou, undo, err := s.applyOnline(ctx, op, p, du, u.Password)
	if err == nil {
		err = s.recordMapping(ctx, op, du, ou)
		if err != nil {
			undo()
		}
	}
	if err != nil {
		if derr := s.do(ctx, op, du.SAMAccountName, func() error { return s.dir.DeleteUser(ctx, du.ID) }); derr != nil {
			s.log.ErrorContext(ctx, "rollback: cannot delete the new network user", "user", du.SAMAccountName, "err", derr)
		}
		return UserStatus{}, err
	}
	s.markSynced(ctx, du.ID, ou)
	du.OnlineAccount = Mapping{ID: ou.ID, UPN: ou.UserPrincipalName, State: Assigned}.String()
	st := s.baseStatus(du)
	s.fillOnline(ctx, &st, du, ou)
	return st, nil
}

func (s *Service) recordMapping(ctx context.Context, op string, u backend.DirectoryUser, ou backend.OnlineUser) error {
	m := Mapping{ID: ou.ID, UPN: ou.UserPrincipalName, State: Assigned}
	err := s.do(ctx, op, u.SAMAccountName, func() error { return s.dir.SetOnlineAccount(ctx, u.ID, m.String()) })
	return backend.WithOp(err, op, u.SAMAccountName)
}

// Assign gives an existing network user an online account: a new one, an
// existing one no user has, or (with a zero choice and an unassigned
// mapping) the account it had before. As the online password cannot be
// read from the network account, the user must change password at next
// logon; the change then reaches the online account.
func (s *Service) Assign(ctx context.Context, user string, c OnlineChoice) (UserStatus, error) {
	const op = "accounts: assign"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return UserStatus{}, err
	}
	m, err := ParseMapping(u.OnlineAccount)
	if err != nil {
		return UserStatus{}, backend.WithOp(err, op, u.SAMAccountName)
	}
	if m.State == Assigned {
		return UserStatus{}, backend.Invalid(op, u.SAMAccountName, RuleAlreadyMapped, "the user already has the online account %s; unassign it first", m.UPN)
	}
	if m.State == Unassigned && c.NewOnlineID == "" && c.Existing == "" {
		c.Existing = m.ID // give back the account it kept
	}
	p, err := s.planOnline(ctx, op, c, u.SAMAccountName, u.ID)
	if err != nil {
		return UserStatus{}, err
	}
	pw := ""
	if p.existing == nil {
		pw = GeneratePassword(16) // replaced by the user's next password change
	}
	ou, undo, err := s.applyOnline(ctx, op, p, u, pw)
	if err != nil {
		return UserStatus{}, err
	}
	if err := s.recordMapping(ctx, op, u, ou); err != nil {
		undo()
		return UserStatus{}, err
	}
	if err := s.do(ctx, op, u.SAMAccountName, func() error { return s.dir.SetMustChangePassword(ctx, u.ID, true) }); err != nil {
		return UserStatus{}, backend.WithOp(err, op, u.SAMAccountName)
	}
	s.markSynced(ctx, u.ID, ou)
	u.OnlineAccount = Mapping{ID: ou.ID, UPN: ou.UserPrincipalName, State: Assigned}.String()
	st := s.baseStatus(u)
	s.fillOnline(ctx, &st, u, ou)
	return st, nil
}

// Unassign takes the online account from a user without touching the
// network account: its licenses are removed (the seats are freed), sign-in
// is blocked, and the link between the user name and the online address is
// kept, so Assign can give it back.
func (s *Service) Unassign(ctx context.Context, user string) error {
	const op = "accounts: unassign"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return err
	}
	m, err := ParseMapping(u.OnlineAccount)
	if err != nil {
		return backend.WithOp(err, op, u.SAMAccountName)
	}
	if m.ID == "" {
		return backend.Errorf(backend.FailedPrecondition, op, u.SAMAccountName, "the user has no online account")
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
		if _, errs := s.assignOnline(ctx, []backend.LicenseChange{{UserID: ou.ID, Remove: rm}}); errs[0] != nil {
			return backend.WithOp(errs[0], op, u.SAMAccountName)
		}
	}
	off := false
	if err := s.do(ctx, op, ou.ID, func() error { return s.tenant.UpdateUser(ctx, ou.ID, backend.OnlineUserUpdate{AccountEnabled: &off}) }); err != nil {
		return backend.WithOp(err, op, u.SAMAccountName)
	}
	m.State = Unassigned
	err = s.do(ctx, op, u.SAMAccountName, func() error { return s.dir.SetOnlineAccount(ctx, u.ID, m.String()) })
	return backend.WithOp(err, op, u.SAMAccountName)
}
