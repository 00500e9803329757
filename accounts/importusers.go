package accounts

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/internal/atomicfile"
)

// ImportPlan proposes a network user for each online account that has none.
// Edit it (change a SAMAccountName, clear Selected) before ApplyImport.
type ImportPlan struct {
	Items []ImportItem
}

// ImportItem is one online account of an ImportPlan.
type ImportItem struct {
	OnlineUserID string
	OnlineID     string
	DisplayName  string
	// SAMAccountName is the proposed user name, from the online ID.
	SAMAccountName string
	Selected       bool
	// Problem names the rule that stops this item: ReasonSAMInvalid,
	// ReasonSAMTaken, ReasonOnlineLinked, or for the display name
	// backend.ReasonNameCharacters or backend.ReasonCNLength (edit
	// DisplayName, then select the item).
	Problem backend.Reason
	// Interrupted marks an import an earlier run left half done (the user
	// exists, the online account is not anchored yet); it is selected, and
	// applying finishes it with a new temporary password.
	Interrupted bool
	Detail      string
	// Warning says what the administrator should check, e.g. a user name
	// cut to Active Directory's 20 characters.
	Warning string
}

// PlanImport lists the online accounts that no network user has, each with
// a proposed user name taken from its online ID. It writes nothing.
func (s *Service) PlanImport(ctx context.Context) (*ImportPlan, error) {
	const op = "accounts: plan import"
	mappedIDs := map[string]backend.DirectoryUser{}
	guids := map[string]bool{}
	sams := map[string]bool{}
	for u, err := range s.dir.ListUsers(ctx) {
		if err != nil {
			return nil, backend.WithOp(err, op, "")
		}
		if m, _ := ParseMapping(u.OnlineAccount); m.ID != "" {
			mappedIDs[m.ID] = u
		}
		guids[u.ID.ImmutableID()] = true
		sams[strings.ToLower(u.SAMAccountName)] = true
	}
	plan := &ImportPlan{}
	proposed := map[string]bool{}
	for ou, err := range s.tenant.ListUsers(ctx) {
		if err != nil {
			return nil, backend.WithOp(err, op, "")
		}
		if owner, ok := mappedIDs[ou.ID]; ok && ou.ImmutableID == "" && owner.MustChangePassword {
			// An earlier import created the user and stopped before the
			// anchor was set: nobody may know the user's password.
			plan.Items = append(plan.Items, ImportItem{OnlineUserID: ou.ID, OnlineID: ou.UserPrincipalName, DisplayName: ou.DisplayName,
				SAMAccountName: owner.SAMAccountName, Selected: true, Interrupted: true,
				Detail: "an earlier import created " + owner.SAMAccountName + " and was interrupted; applying gives it a new temporary password and finishes the link"})
			continue
		}
		if _, ok := mappedIDs[ou.ID]; ok || (ou.ImmutableID != "" && guids[ou.ImmutableID]) {
			continue
		}
		sam, cut := proposeSAM(ou.UserPrincipalName)
		it := ImportItem{OnlineUserID: ou.ID, OnlineID: ou.UserPrincipalName, DisplayName: ou.DisplayName,
			SAMAccountName: sam, Selected: true}
		if cut {
			it.Warning = "the user name was cut to " + sam + " (Active Directory allows 20 characters): check it or type another"
		}
		switch {
		case ou.ImmutableID != "":
			it.Problem, it.Detail = ReasonOnlineLinked, "the account is linked to a user of another directory (onPremisesImmutableId is set); it cannot be imported"
		case checkSAM("", it.SAMAccountName) != nil:
			it.Problem, it.Detail = ReasonSAMInvalid, "no valid user name can be made from this online ID; type one"
		case sams[strings.ToLower(it.SAMAccountName)] || proposed[strings.ToLower(it.SAMAccountName)]:
			it.Problem, it.Detail = ReasonSAMTaken, "the user name "+it.SAMAccountName+" is taken; type another"
		default:
			// The display name becomes the user's common name: say now
			// what the directory would refuse, rather than fail the apply
			// (it is never cut here: two cut names could collide).
			it.Problem, it.Detail = importDisplayNameProblem(it.DisplayName)
		}
		it.Selected = it.Problem == ""
		if it.Selected {
			proposed[strings.ToLower(it.SAMAccountName)] = true
		}
		plan.Items = append(plan.Items, it)
	}
	return plan, nil
}

// importDisplayNameProblem returns the rule an online display name breaks
// as a network user's display name and common name, or "".
func importDisplayNameProblem(name string) (backend.Reason, string) {
	if backend.CheckName("", "", "", name) != nil {
		return backend.ReasonNameCharacters, "the display name holds a control character or bytes that are not UTF-8, which Active Directory cannot show: type another display name"
	}
	if n := utf8.RuneCountInString(name); n > backend.MaxCN {
		return backend.ReasonCNLength, fmt.Sprintf("the display name has %d characters and Active Directory's common name at most %d: type a shorter display name", n, backend.MaxCN)
	}
	return "", ""
}

// PasswordSink receives each new user's temporary password, to hand it to
// the user. It must keep it safe.
type PasswordSink func(ctx context.Context, user, onlineID, password string) error

// ImportOptions tell ApplyImport where the temporary passwords go: exactly
// one of PasswordDir and PasswordSink.
type ImportOptions struct {
	// PasswordDir receives one file per new user, <user>.txt, mode 0600,
	// with the user name, online ID and temporary password. It is created
	// (mode 0700) when missing, and refused before any change when others
	// can write to it.
	PasswordDir string
	// PasswordSink receives them instead.
	PasswordSink PasswordSink
	// Progress is called once per item when it ends.
	Progress func(Progress)
	// ResultsDir, when set, receives a results file for the failures; it
	// is created (mode 0700) when missing and checked before any change.
	ResultsDir string
}

// ApplyImport creates a network user for each selected item, with a strong
// random temporary password that must be changed at next logon, the mapping
// recorded on both sides, and the password handed to the sink or written to
// its own file. When a password cannot be handed over, the new user is
// deleted again, so no one is left with a password nobody knows. Run again
// after an interruption, it skips the users it already created.
func (s *Service) ApplyImport(ctx context.Context, plan *ImportPlan, opts *ImportOptions) (*Result, error) {
	const op = "accounts: apply import"
	if plan == nil {
		return nil, backend.Invalid(op, "", ReasonPlanRequired, "a plan from PlanImport is required")
	}
	if opts == nil || (opts.PasswordDir == "") == (opts.PasswordSink == nil) {
		return nil, backend.Invalid(op, "", ReasonPasswordDestination, "set exactly one of PasswordDir and PasswordSink: the temporary passwords must go somewhere")
	}
	if opts.PasswordDir != "" {
		if err := prepareDir(op, opts.PasswordDir, true); err != nil {
			return nil, err
		}
	}
	if opts.ResultsDir != "" {
		if err := prepareDir(op, opts.ResultsDir, false); err != nil {
			return nil, err
		}
	}
	info, err := s.dir.Info(ctx)
	if err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	res := &Result{Operation: OperationImport, Started: s.now()}
	var items []*ImportItem
	var results []*ItemResult
	seen := map[string]bool{}
	for i := range plan.Items {
		it := &plan.Items[i]
		if !it.Selected {
			continue
		}
		r := &ItemResult{User: it.SAMAccountName, OnlineID: it.OnlineID, OnlineUserID: it.OnlineUserID}
		res.Items = append(res.Items, r)
		if err := checkSAM(op, it.SAMAccountName); err != nil {
			r.setError(err)
			continue
		}
		if seen[strings.ToLower(it.SAMAccountName)] {
			r.setError(backend.Invalid(op, it.SAMAccountName, ReasonSAMTaken, "the plan uses this user name twice"))
			continue
		}
		seen[strings.ToLower(it.SAMAccountName)] = true
		items = append(items, it)
		results = append(results, r)
	}
	total, done := len(res.Items), len(res.Items)-len(items)
	for k, it := range items {
		if err := ctx.Err(); err != nil {
			res.finish()
			return res, backend.Wrap(err, backend.Canceled, op, "")
		}
		if err := s.importOne(ctx, op, it, info, opts); err != nil {
			results[k].setError(err)
		} else {
			results[k].Status = StatusDone
		}
		done++
		if opts.Progress != nil {
			opts.Progress(Progress{Item: it.SAMAccountName, OnlineID: it.OnlineID, Status: results[k].Status, Err: results[k].Err, Done: done, Total: total})
		}
	}
	res.finish()
	if opts.ResultsDir != "" && res.Failed > 0 {
		files, err := res.WriteFiles(opts.ResultsDir)
		res.ResultsFiles = files
		if err != nil {
			return res, backend.WithOp(err, op, opts.ResultsDir)
		}
	}
	return res, nil
}

func (s *Service) importOne(ctx context.Context, op string, it *ImportItem, info backend.DomainInfo, opts *ImportOptions) error {
	ou, err := s.getOnline(ctx, op, it.OnlineUserID)
	if err != nil {
		return backend.WithOp(err, op, it.OnlineID)
	}
	// Done, or half done, by an earlier run?
	if existing, err := s.dir.GetUserBySAMAccountName(ctx, it.SAMAccountName); err == nil {
		m, _ := ParseMapping(existing.OnlineAccount)
		switch {
		case m.ID == ou.ID && ou.ImmutableID == existing.ID.ImmutableID():
			return nil
		case m.ID == ou.ID && ou.ImmutableID == "":
			// Interrupted after creating the user: nobody may know its
			// password, so give it a new one and finish.
			pw := GeneratePassword(16)
			if err := s.write(ctx, op, ev(AuditResetPassword, audit.SideDirectory, existing.SAMAccountName, ""), func() error {
				return s.dir.ResetPassword(ctx, existing.ID, pw, true)
			}); err != nil {
				return backend.WithOp(err, op, it.SAMAccountName)
			}
			return s.finishImport(ctx, op, it, existing, ou, pw, opts, func() {})
		}
		return backend.Invalid(op, it.SAMAccountName, ReasonSAMTaken, "the user name is taken by another user")
	} else if backend.KindOf(err) != backend.NotFound {
		return backend.WithOp(err, op, it.SAMAccountName)
	}
	if ou.ImmutableID != "" {
		return backend.Invalid(op, it.OnlineID, ReasonOnlineLinked, "the online account is linked to another directory")
	}
	upn := ou.UserPrincipalName
	if _, err := s.dir.GetUserByUPN(ctx, upn); err == nil {
		upn = it.SAMAccountName + "@" + info.DNSName
	}
	pw := GeneratePassword(16)
	m := Mapping{ID: ou.ID, UPN: ou.UserPrincipalName, State: MappingAssigned}
	var du backend.DirectoryUser
	err = s.write(ctx, op, ev(AuditCreateUser, audit.SideDirectory, it.SAMAccountName, ou.UserPrincipalName), func() (e error) {
		du, e = s.dir.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: it.SAMAccountName, UserPrincipalName: upn,
			DisplayName: it.DisplayName, GivenName: ou.GivenName, Surname: ou.Surname,
			Password: pw, MustChangePassword: true, OnlineAccount: m.String()})
		return
	})
	if err != nil {
		return backend.WithOp(err, op, it.SAMAccountName)
	}
	undo := func() {
		if derr := s.deleteDirUser(ctx, op, du); derr != nil {
			s.log.ErrorContext(ctx, "rollback: cannot delete the imported user", "user", du.SAMAccountName, "err", derr)
		}
	}
	return s.finishImport(ctx, op, it, du, ou, pw, opts, undo)
}

// finishImport hands the password over and links the online account; on
// failure it calls undo and removes the password file.
func (s *Service) finishImport(ctx context.Context, op string, it *ImportItem, du backend.DirectoryUser, ou backend.OnlineUser, pw string, opts *ImportOptions, undo func()) error {
	if err := s.deliverPassword(ctx, opts, du.SAMAccountName, ou.UserPrincipalName, pw); err != nil {
		undo()
		return backend.WithOp(err, op, it.SAMAccountName)
	}
	imm := du.ID.ImmutableID()
	if err := s.write(ctx, op, ev(AuditSetAnchor, audit.SideTenant, du.SAMAccountName, ou.UserPrincipalName), func() error {
		return s.tenant.UpdateUser(ctx, ou.ID, backend.OnlineUserUpdate{ImmutableID: &imm})
	}); err != nil {
		undo()
		if opts.PasswordDir != "" {
			_ = os.Remove(passwordFile(opts.PasswordDir, du.SAMAccountName))
		}
		return backend.WithOp(err, op, it.OnlineID)
	}
	if err := s.recordManaged(ctx, op, du, ou); err != nil {
		return err
	}
	s.markSynced(ctx, du.ID, ou)
	return nil
}

func passwordFile(dir, sam string) string { return filepath.Join(dir, sam+".txt") }

func (s *Service) deliverPassword(ctx context.Context, opts *ImportOptions, sam, onlineID, pw string) error {
	if opts.PasswordSink != nil {
		return opts.PasswordSink(ctx, sam, onlineID, pw)
	}
	body := fmt.Sprintf("User name: %s\nOnline ID: %s\nTemporary password: %s\n\nSign in to the network with this password and change it when asked.\n"+
		"The new password then works for Microsoft 365 too. Never change it in the Microsoft 365 portal.\n", sam, onlineID, pw)
	return atomicfile.Write(passwordFile(opts.PasswordDir, sam), []byte(body), 0o600)
}
