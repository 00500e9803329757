package accounts

import (
	"context"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// BulkPlan proposes an online account for each user that has none. Edit
// it (change an OnlineID, clear Selected) before passing it to
// ApplyBulkCreate.
type BulkPlan struct {
	// Domain is the domain the proposed online IDs use.
	Domain string
	Items  []PlanItem
}

// PlanItem is one user of a BulkPlan.
type PlanItem struct {
	UserID         backend.GUID
	SAMAccountName string
	DisplayName    string
	GivenName      string
	Surname        string
	// OnlineID is the proposed online ID (user name at Domain).
	OnlineID string
	// Selected users get an account; items with a Problem start
	// unselected.
	Selected bool
	// Problem names the rule that stops this item ("" when none): one of
	// RuleOnlineIDTaken, RuleOnlineIDCharacters, RuleOnlineIDSyntax,
	// RuleAlreadyMapped, RuleUserDisabled, RuleDomainUnverified.
	Problem string
	// Detail explains the problem and what to do.
	Detail string
}

// PlanOptions tune PlanBulkCreate.
type PlanOptions struct {
	// Domain overrides the domain of the proposed online IDs (default: the
	// verified custom domain, else the initial onmicrosoft.com domain).
	Domain string
}

// tenantIndex is one pass over the tenant's users.
type tenantIndex struct {
	byUPN       map[string]backend.OnlineUser
	byImmutable map[string]backend.OnlineUser
}

func (s *Service) indexTenant(ctx context.Context, op string) (tenantIndex, error) {
	idx := tenantIndex{byUPN: map[string]backend.OnlineUser{}, byImmutable: map[string]backend.OnlineUser{}}
	for u, err := range s.tenant.ListUsers(ctx) {
		if err != nil {
			return idx, backend.WithOp(err, op, "")
		}
		idx.byUPN[strings.ToLower(u.UserPrincipalName)] = u
		if u.ImmutableID != "" {
			idx.byImmutable[u.ImmutableID] = u
		}
	}
	return idx, nil
}

// PlanBulkCreate lists the users that have no online account, each with a
// proposed online ID, and flags the ones that cannot get one as proposed.
// It writes nothing.
func (s *Service) PlanBulkCreate(ctx context.Context, opts *PlanOptions) (*BulkPlan, error) {
	const op = "accounts: plan bulk create"
	doms, err := s.domains(ctx, op)
	if err != nil {
		return nil, err
	}
	domain := doms.defaultDomain()
	if opts != nil && opts.Domain != "" {
		domain = strings.ToLower(opts.Domain)
		if err := doms.checkAddress(op, "user@"+domain, "online-id"); err != nil {
			return nil, err
		}
	}
	idx, err := s.indexTenant(ctx, op)
	if err != nil {
		return nil, err
	}
	plan := &BulkPlan{Domain: domain}
	for u, err := range s.dir.ListUsers(ctx) {
		if err != nil {
			return nil, backend.WithOp(err, op, "")
		}
		m, merr := ParseMapping(u.OnlineAccount)
		if merr == nil && m.State == Assigned {
			continue // already has its online account
		}
		it := PlanItem{UserID: u.ID, SAMAccountName: u.SAMAccountName, DisplayName: u.DisplayName, GivenName: u.GivenName,
			Surname: u.Surname, OnlineID: u.SAMAccountName + "@" + domain, Selected: true}
		switch {
		case merr != nil:
			it.Problem, it.Detail = RuleAlreadyMapped, "the mapping attribute holds a value this SDK did not write; clear it first"
		case m.State == Unassigned:
			it.Problem, it.Detail = RuleAlreadyMapped, "the user keeps an unassigned online account ("+m.UPN+"); use Assign to give it back"
		case idx.byImmutable[u.ID.ImmutableID()].ID != "":
			// An earlier run created the account and stopped before
			// recording it: propose to finish the job.
			it.OnlineID = idx.byImmutable[u.ID.ImmutableID()].UserPrincipalName
			it.Detail = "the online account already exists with this user's anchor (an earlier run was interrupted); applying records it"
		case !u.Enabled:
			it.Problem, it.Detail = RuleUserDisabled, "the user account is disabled; enable it first or select it on purpose"
		default:
			it.Problem, it.Detail = s.checkOnlineID(doms, idx, it.OnlineID, u.ID)
		}
		it.Selected = it.Problem == ""
		plan.Items = append(plan.Items, it)
	}
	return plan, nil
}

// checkOnlineID returns the problem with an online ID for user id, if any.
func (s *Service) checkOnlineID(doms domainSet, idx tenantIndex, onlineID string, id backend.GUID) (rule, detail string) {
	if err := doms.checkAddress("", onlineID, "online-id"); err != nil {
		var e *backend.Error
		if asError(err, &e) {
			return string(e.Reason), e.Msg
		}
		return RuleOnlineIDSyntax, err.Error()
	}
	if taken, ok := idx.byUPN[strings.ToLower(onlineID)]; ok && taken.ImmutableID != id.ImmutableID() {
		return RuleOnlineIDTaken, "an online account named " + taken.UserPrincipalName + " already exists: choose another online ID, or assign that account to the user"
	}
	return "", ""
}

// BulkOptions tune ApplyBulkCreate.
type BulkOptions struct {
	// Licenses to give every new account, with services turned off.
	Licenses []LicenseChoice
	// UsageLocation overrides Options.UsageLocation.
	UsageLocation string
	// Progress is called after each item with the number done and the
	// total of selected items.
	Progress func(done, total int)
	// ResultsDir, when set, receives a results file (CSV and JSON) listing
	// what failed, the reason and the action to take.
	ResultsDir string
}

// ApplyBulkCreate creates the selected online accounts of plan. First it
// checks that every chosen SKU has a free seat for each new account, and
// fails before any change, naming what is missing, when one has not. Then,
// for each item: creates the online account (onPremisesImmutableId = the
// user's objectGUID), licenses it, records the mapping on the user, and sets
// the user to change password at next logon so the new password reaches the
// online account. Items are independent; each gets an ItemResult.
//
// ApplyBulkCreate is idempotent: run again after an interruption, it finds
// the accounts it already created (by immutableId) and creates nothing
// twice.
func (s *Service) ApplyBulkCreate(ctx context.Context, plan *BulkPlan, opts *BulkOptions) (*Result, error) {
	const op = "accounts: apply bulk create"
	if plan == nil {
		return nil, backend.Invalid(op, "", "plan-required", "a plan from PlanBulkCreate is required")
	}
	var o BulkOptions
	if opts != nil {
		o = *opts
	}
	loc := o.UsageLocation
	if loc == "" {
		loc = s.opts.UsageLocation
	}
	if len(o.Licenses) > 0 && loc == "" {
		return nil, backend.Invalid(op, "", RuleUsageLocation, "licensing needs a usage location: set BulkOptions.UsageLocation or Options.UsageLocation (e.g. \"FR\")")
	}
	doms, err := s.domains(ctx, op)
	if err != nil {
		return nil, err
	}
	skus, err := s.skus(ctx, op)
	if err != nil {
		return nil, err
	}
	lics, err := resolveLicenses(op, skus, o.Licenses)
	if err != nil {
		return nil, err
	}
	idx, err := s.indexTenant(ctx, op)
	if err != nil {
		return nil, err
	}

	res := &Result{Operation: "bulk-create"}
	var work []*bulkWork
	seenID := map[string]string{}
	need := map[string]int{}
	for _, it := range plan.Items {
		if !it.Selected {
			continue
		}
		w := &bulkWork{item: it, res: ItemResult{User: it.SAMAccountName, OnlineID: it.OnlineID}}
		res.Items = append(res.Items, &w.res)
		key := strings.ToLower(it.OnlineID)
		if other, dup := seenID[key]; dup {
			w.fail(backend.Invalid(op, it.OnlineID, RuleOnlineIDTaken, "the plan gives this online ID to %s too", other))
			continue
		}
		seenID[key] = it.SAMAccountName
		if rule, detail := s.checkOnlineID(doms, idx, it.OnlineID, it.UserID); rule != "" {
			w.fail(backend.Invalid(op, it.OnlineID, backend.Reason(rule), "%s", detail))
			continue
		}
		if existing, ok := idx.byImmutable[it.UserID.ImmutableID()]; ok {
			w.online = existing // created by an earlier run
			if s.alreadyDone(ctx, it.UserID, existing, lics) {
				// Finished by an earlier run: touch nothing (the user may
				// have changed the password since).
				w.res.OnlineUserID, w.res.Status = existing.ID, StatusDone
				continue
			}
		}
		for _, l := range lics {
			if !hasLicense(w.online, l.sku.SKUID) {
				need[l.sku.SKUID]++
			}
		}
		work = append(work, w)
	}
	if err := checkSeats(op, lics, need); err != nil {
		return nil, err
	}

	total := len(res.Items)
	done := total - len(work) // items that failed validation or were done before
	report := func() {
		if o.Progress != nil {
			o.Progress(done, total)
		}
	}
	report()
	for start := 0; start < len(work); start += s.opts.BatchSize {
		chunk := work[start:min(start+s.opts.BatchSize, len(work))]
		s.bulkChunk(ctx, op, chunk, lics, loc)
		done += len(chunk)
		report()
		if err := ctx.Err(); err != nil {
			res.finish()
			return res, backend.Wrap(err, backend.Canceled, op, "")
		}
	}
	res.finish()
	if o.ResultsDir != "" && res.Failed > 0 {
		files, err := res.WriteFiles(o.ResultsDir)
		res.ResultsFiles = files
		if err != nil {
			return res, backend.WithOp(err, op, o.ResultsDir)
		}
	}
	return res, nil
}

type bulkWork struct {
	item   PlanItem
	online backend.OnlineUser
	res    ItemResult
	failed bool
}

func (w *bulkWork) fail(err error) {
	w.failed = true
	w.res.setError(err)
}

// bulkChunk runs the steps of a chunk of items: create, license, map.
func (s *Service) bulkChunk(ctx context.Context, op string, chunk []*bulkWork, lics []resolvedLicense, loc string) {
	// 1. Create the online accounts that do not exist yet.
	var creates []backend.NewOnlineUser
	var createFor []*bulkWork
	for _, w := range chunk {
		if w.online.ID != "" {
			continue
		}
		local, _, _ := strings.Cut(w.item.OnlineID, "@")
		display := w.item.DisplayName
		if display == "" {
			display = w.item.SAMAccountName
		}
		creates = append(creates, backend.NewOnlineUser{
			UserPrincipalName: w.item.OnlineID, DisplayName: display, MailNickname: local,
			UsageLocation: loc, Password: GeneratePassword(16), ImmutableID: w.item.UserID.ImmutableID(),
		})
		createFor = append(createFor, w)
	}
	if len(creates) > 0 {
		users, errs := s.createOnline(ctx, creates)
		for k, w := range createFor {
			switch err := errs[k]; {
			case err == nil:
				w.online = users[k]
			case backend.KindOf(err) == backend.AlreadyExists:
				// A retried create may have landed the first time: the
				// account is ours when it carries our immutableId.
				if u, gerr := s.getOnline(ctx, op, creates[k].UserPrincipalName); gerr == nil && u.ImmutableID == creates[k].ImmutableID {
					w.online = u
				} else {
					w.fail(backend.WithOp(&backend.Error{Kind: backend.AlreadyExists, Reason: RuleOnlineIDTaken,
						Msg: "an online account with this ID already exists", Err: err}, op, w.item.OnlineID))
				}
			default:
				w.fail(backend.WithOp(err, op, w.item.OnlineID))
			}
		}
	}
	// 2. License them.
	var changes []backend.LicenseChange
	var changeFor []*bulkWork
	for _, w := range chunk {
		if w.failed {
			continue
		}
		if add := missingAssignments(w.online, lics); len(add) > 0 {
			if w.online.UsageLocation == "" {
				l := loc
				if err := s.do(ctx, op, w.online.ID, func() error {
					return s.tenant.UpdateUser(ctx, w.online.ID, backend.OnlineUserUpdate{UsageLocation: &l})
				}); err != nil {
					w.fail(backend.WithOp(err, op, w.item.OnlineID))
					continue
				}
			}
			changes = append(changes, backend.LicenseChange{UserID: w.online.ID, Add: add})
			changeFor = append(changeFor, w)
		}
	}
	if len(changes) > 0 {
		users, errs := s.assignOnline(ctx, changes)
		for k, w := range changeFor {
			if errs[k] != nil {
				w.fail(backend.WithOp(errs[k], op, w.item.OnlineID))
				continue
			}
			w.online = users[k]
		}
	}
	// 3. Record the mapping with the user and ask for a new password, which
	// the next password change syncs to the online account.
	for _, w := range chunk {
		if w.failed {
			continue
		}
		m := Mapping{ID: w.online.ID, UPN: w.online.UserPrincipalName, State: Assigned}
		if err := s.do(ctx, op, w.item.SAMAccountName, func() error { return s.dir.SetOnlineAccount(ctx, w.item.UserID, m.String()) }); err != nil {
			w.fail(backend.WithOp(err, op, w.item.SAMAccountName))
			continue
		}
		if err := s.do(ctx, op, w.item.SAMAccountName, func() error { return s.dir.SetMustChangePassword(ctx, w.item.UserID, true) }); err != nil {
			w.fail(backend.WithOp(err, op, w.item.SAMAccountName))
			continue
		}
		s.markSynced(ctx, w.item.UserID, w.online)
		w.res.OnlineUserID = w.online.ID
		w.res.Status = StatusDone
	}
}

// alreadyDone reports whether an earlier run finished the item: the user
// records this online account as assigned and it has every license asked.
func (s *Service) alreadyDone(ctx context.Context, id backend.GUID, ou backend.OnlineUser, lics []resolvedLicense) bool {
	u, err := s.dir.GetUser(ctx, id)
	if err != nil {
		return false
	}
	m, err := ParseMapping(u.OnlineAccount)
	return err == nil && m.ID == ou.ID && m.State == Assigned && len(missingAssignments(ou, lics)) == 0
}

func (s *Service) getOnline(ctx context.Context, op, idOrUPN string) (backend.OnlineUser, error) {
	var u backend.OnlineUser
	err := s.do(ctx, op, idOrUPN, func() (e error) { u, e = s.tenant.GetUser(ctx, idOrUPN); return })
	return u, err
}
