package accounts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// BulkPlan proposes an online account for each user that has none. Edit
// it (change an OnlineID, clear Selected) before passing it to
// ApplyBulkCreate.
type BulkPlan struct {
	// Domain is the domain the proposed online IDs use.
	Domain string
	Items  []PlanItem
	// Licenses and NoLicense are the licence choice the plan was made
	// with (PlanOptions); ApplyBulkCreate uses them unless its options
	// choose.
	Licenses  []LicenseChoice
	NoLicense bool
	// Warnings say what the administrator should know before applying:
	// no licence chosen, accounts without a licence, too few seats.
	Warnings []string

	// idx is the tenant as the plan read it; the first apply within
	// planReuse of the plan uses it instead of listing the tenant again
	// (a create that meets an account made since is matched by anchor).
	idx     *tenantIndex
	planned time.Time
}

// planReuse is how long after planning ApplyBulkCreate trusts the plan's
// reading of the tenant.
const planReuse = 10 * time.Minute

// PlanItem is one user of a BulkPlan.
type PlanItem struct {
	UserID         backend.GUID
	SAMAccountName string
	DisplayName    string
	GivenName      string
	Surname        string
	// Enabled is the user's state when planned; a disabled user's online
	// account is created with sign-in blocked.
	Enabled bool
	// OnlineID is the proposed online ID (user name at Domain).
	OnlineID string
	// Selected users get an account; items with a Problem start
	// unselected.
	Selected bool
	// Problem names the rule that stops this item ("" when none):
	// ReasonOnlineIDTaken, ReasonOnlineIDCharacters, ReasonOnlineIDSyntax,
	// ReasonAlreadyMapped, ReasonUserDisabled, ReasonDomainUnknown,
	// ReasonDomainUnverified or
	// ReasonProbableDuplicate.
	Problem backend.Reason
	// Interrupted marks an item an earlier run left half done (its online
	// account exists with the user's anchor); it is selected, and applying
	// finishes it.
	Interrupted bool
	// Detail explains the problem and what to do.
	Detail string
	// Candidates lists, for ReasonProbableDuplicate, the online IDs of the
	// existing accounts that probably belong to the user: assign one with
	// Assign (OnlineChoice.Existing) instead of creating a second account.
	Candidates []string
}

// PlanOptions tune PlanBulkCreate.
type PlanOptions struct {
	// Domain overrides the domain of the proposed online IDs (default: the
	// verified custom domain, else the initial onmicrosoft.com domain).
	Domain string
	// Licenses to give every new account; NoLicense says on purpose that
	// the accounts get none. With neither, the plan warns and
	// ApplyBulkCreate refuses unless its options choose.
	Licenses  []LicenseChoice
	NoLicense bool
}

// tenantIndex is one pass over the tenant's users.
type tenantIndex struct {
	byID        map[string]backend.OnlineUser
	byUPN       map[string]backend.OnlineUser
	byImmutable map[string]backend.OnlineUser
}

func (s *Service) indexTenant(ctx context.Context, op string) (tenantIndex, error) {
	idx := tenantIndex{byID: map[string]backend.OnlineUser{}, byUPN: map[string]backend.OnlineUser{}, byImmutable: map[string]backend.OnlineUser{}}
	for u, err := range s.tenant.ListUsers(ctx) {
		if err != nil {
			return idx, backend.WithOp(err, op, "")
		}
		idx.byID[u.ID] = u
		idx.byUPN[strings.ToLower(u.UserPrincipalName)] = u
		if u.ImmutableID != "" {
			idx.byImmutable[u.ImmutableID] = u
		}
	}
	return idx, nil
}

// PlanBulkCreate lists the users that have no online account, each with a
// proposed online ID, and flags the ones that cannot get one as proposed:
// a name Microsoft 365 refuses, an online ID taken, a disabled user, and a
// user who probably has an online account already under another ID (see
// the package documentation for the matching rules). It writes nothing.
func (s *Service) PlanBulkCreate(ctx context.Context, opts *PlanOptions) (*BulkPlan, error) {
	const op = "accounts: plan bulk create"
	var o PlanOptions
	if opts != nil {
		o = *opts
	}
	doms, err := s.domains(ctx, op)
	if err != nil {
		return nil, err
	}
	domain := doms.defaultDomain()
	if o.Domain != "" {
		domain = strings.ToLower(o.Domain)
		if err := doms.checkAddress(op, "user@"+domain, "online-id"); err != nil {
			return nil, err
		}
	}
	idx, err := s.indexTenant(ctx, op)
	if err != nil {
		return nil, err
	}
	var users []backend.DirectoryUser
	mapped := map[string]bool{}
	for u, err := range s.dir.ListUsers(ctx) {
		if err != nil {
			return nil, backend.WithOp(err, op, "")
		}
		if m, err := ParseMapping(u.OnlineAccount); err == nil && m.ID != "" {
			mapped[m.ID] = true
		}
		users = append(users, u)
	}
	dups := newDuplicateIndex(idx, mapped)
	plan := &BulkPlan{Domain: domain, Licenses: o.Licenses, NoLicense: o.NoLicense, idx: &idx, planned: s.now()}
	for _, u := range users {
		m, merr := ParseMapping(u.OnlineAccount)
		if merr == nil && m.State == MappingAssigned {
			continue // already has its online account
		}
		it := PlanItem{UserID: u.ID, SAMAccountName: u.SAMAccountName, DisplayName: u.DisplayName, GivenName: u.GivenName,
			Surname: u.Surname, Enabled: u.Enabled, OnlineID: u.SAMAccountName + "@" + domain, Selected: true}
		switch {
		case merr != nil:
			it.Problem, it.Detail = ReasonAlreadyMapped, "the mapping attribute holds a value this SDK did not write; clear it first"
		case m.State == MappingUnassigned:
			it.Problem, it.Detail = ReasonAlreadyMapped, "the user keeps an unassigned online account ("+m.UPN+"); use Assign to give it back"
		case idx.byImmutable[u.ID.ImmutableID()].ID != "":
			// An earlier run created the account and stopped before
			// finishing: propose to finish the job.
			it.OnlineID = idx.byImmutable[u.ID.ImmutableID()].UserPrincipalName
			it.Interrupted = true
			it.Detail = "the online account already exists with this user's anchor (an earlier run was interrupted); applying finishes it"
		case !u.Enabled:
			it.Problem, it.Detail = ReasonUserDisabled, "the user account is disabled; enable it first, or select it on purpose: its online account is then created with sign-in blocked"
		default:
			if c := dups.candidates(u); len(c) > 0 {
				it.Problem, it.Candidates = ReasonProbableDuplicate, c
				it.Detail = "the user probably has an online account already (" + strings.Join(c, ", ") +
					"): assign it with Assign (OnlineChoice.Existing) rather than creating a second account and using a second licence; select the item only if it is someone else's"
			} else {
				it.Problem, it.Detail = s.checkOnlineID(doms, idx, it.OnlineID, u.ID)
			}
		}
		it.Selected = it.Problem == ""
		plan.Items = append(plan.Items, it)
	}
	plan.Warnings = s.planWarnings(ctx, op, plan)
	return plan, nil
}

// planWarnings says what the administrator should know about the licences
// before applying plan.
func (s *Service) planWarnings(ctx context.Context, op string, plan *BulkPlan) []string {
	selected := 0
	for _, it := range plan.Items {
		if it.Selected {
			selected++
		}
	}
	var w []string
	switch {
	case plan.NoLicense && len(plan.Licenses) == 0:
		w = append(w, fmt.Sprintf("%d online accounts will be created without a licence: they cannot use mail or Office until licensed (SetLicenses)", selected))
	case len(plan.Licenses) == 0:
		w = append(w, "no licence chosen: every online account uses a licence; choose BulkOptions.Licenses, or set NoLicense to create them unlicensed on purpose (ApplyBulkCreate refuses otherwise)")
	default:
		skus, err := s.skus(ctx, op)
		if err != nil {
			break
		}
		lics, err := resolveLicenses(op, skus, plan.Licenses)
		if err != nil {
			w = append(w, err.Error())
			break
		}
		for _, l := range lics {
			if free := l.sku.Available(); selected > free {
				w = append(w, fmt.Sprintf("%s: %d selected, %d seats free: buy %d more or select fewer users", l.sku.PartNumber, selected, free, selected-free))
			}
		}
	}
	return w
}

// checkOnlineID returns the problem with an online ID for user id, if any.
func (s *Service) checkOnlineID(doms domainSet, idx tenantIndex, onlineID string, id backend.GUID) (backend.Reason, string) {
	if err := doms.checkAddress("", onlineID, "online-id"); err != nil {
		var e *backend.Error
		if asError(err, &e) {
			return e.Reason, e.Msg
		}
		return ReasonOnlineIDSyntax, err.Error()
	}
	if taken, ok := idx.byUPN[strings.ToLower(onlineID)]; ok && taken.ImmutableID != id.ImmutableID() {
		return ReasonOnlineIDTaken, "an online account named " + taken.UserPrincipalName + " already exists: choose another online ID, or assign that account to the user"
	}
	return "", ""
}

// Progress is one step of a long operation, for BulkOptions.Progress and
// ImportOptions.Progress: called once per item when it ends.
type Progress struct {
	// Item names the item (the user's sAMAccountName) and OnlineID its
	// online account.
	Item     string
	OnlineID string
	// Status is the item's outcome; Err its error when it failed.
	Status ItemStatus
	Err    error
	// Done items of Total have ended.
	Done, Total int
}

// BulkOptions tune ApplyBulkCreate.
type BulkOptions struct {
	// Licenses to give every new account, with services turned off
	// (default: the plan's).
	Licenses []LicenseChoice
	// NoLicense creates the accounts without a licence on purpose. Without
	// a licence chosen (here or in the plan) and without NoLicense,
	// ApplyBulkCreate refuses (ReasonLicenseChoiceRequired).
	NoLicense bool
	// UsageLocation overrides Options.UsageLocation.
	UsageLocation string
	// Progress is called once per item when it ends.
	Progress func(Progress)
	// ResultsDir, when set, receives a results file (CSV and JSON) listing
	// what failed, the reason and the action to take. It is created (mode
	// 0700) when missing and checked before any change.
	ResultsDir string
}

// ApplyBulkCreate creates the selected online accounts of plan. First it
// checks, before any change, the licence choice, the results directory,
// and that every chosen SKU has a free seat for each new account (failing
// with a *LicenseShortfall as the cause when one has not). Then, for each
// item: creates the online account (onPremisesImmutableId = the user's
// objectGUID; sign-in blocked when the user is disabled), licenses it, sets
// the user to change password at next logon so the new password reaches
// the online account, and records the mapping on the user last. An item is
// done only when every step happened; items are independent.
//
// ApplyBulkCreate is idempotent: run again after an interruption, it finds
// the accounts it already created (by immutableId), completes the steps an
// item lacks, creates nothing twice and leaves finished items alone.
func (s *Service) ApplyBulkCreate(ctx context.Context, plan *BulkPlan, opts *BulkOptions) (*Result, error) {
	const op = "accounts: apply bulk create"
	if plan == nil {
		return nil, backend.Invalid(op, "", ReasonPlanRequired, "a plan from PlanBulkCreate is required")
	}
	var o BulkOptions
	if opts != nil {
		o = *opts
	}
	if len(o.Licenses) == 0 && !o.NoLicense {
		o.Licenses, o.NoLicense = plan.Licenses, plan.NoLicense
	}
	if len(o.Licenses) == 0 && !o.NoLicense {
		return nil, backend.Invalid(op, "", ReasonLicenseChoiceRequired,
			"no licence chosen: every online account uses a licence; set BulkOptions.Licenses, or NoLicense to create the accounts unlicensed on purpose")
	}
	loc := o.UsageLocation
	if loc == "" {
		loc = s.opts.UsageLocation
	}
	if len(o.Licenses) > 0 && loc == "" {
		return nil, backend.Invalid(op, "", ReasonUsageLocation, "licensing needs a usage location: set BulkOptions.UsageLocation or Options.UsageLocation (e.g. \"FR\")")
	}
	if o.ResultsDir != "" {
		if err := prepareDir(op, o.ResultsDir, false); err != nil {
			return nil, err
		}
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
	var idx tenantIndex
	if plan.idx != nil && s.now().Sub(plan.planned) < planReuse {
		idx = *plan.idx
	} else if idx, err = s.indexTenant(ctx, op); err != nil {
		return nil, err
	}
	plan.idx = nil // a second apply of the plan (a rerun) reads the tenant afresh
	users := map[backend.GUID]backend.DirectoryUser{}
	for u, err := range s.dir.ListUsers(ctx) {
		if err != nil {
			return nil, backend.WithOp(err, op, "")
		}
		users[u.ID] = u
	}

	res := &Result{Operation: OperationBulkCreate, Started: s.now()}
	var work, pre []*bulkWork // pre: items that ended before any write
	seenID := map[string]string{}
	need := map[string]int{}
	for _, it := range plan.Items {
		if !it.Selected {
			continue
		}
		w := &bulkWork{item: it, res: ItemResult{User: it.SAMAccountName, OnlineID: it.OnlineID}}
		res.Items = append(res.Items, &w.res)
		pre = append(pre, w)
		key := strings.ToLower(it.OnlineID)
		if other, dup := seenID[key]; dup {
			w.fail(backend.Invalid(op, it.OnlineID, ReasonOnlineIDTaken, "the plan gives this online ID to %s too", other))
			continue
		}
		seenID[key] = it.SAMAccountName
		u, ok := users[it.UserID]
		if !ok {
			w.fail(backend.Errorf(backend.NotFound, op, it.SAMAccountName, "the user no longer exists in the directory; plan again"))
			continue
		}
		w.user = u
		if rule, detail := s.checkOnlineID(doms, idx, it.OnlineID, it.UserID); rule != "" {
			w.fail(backend.Invalid(op, it.OnlineID, rule, "%s", detail))
			continue
		}
		m, _ := ParseMapping(u.OnlineAccount)
		if existing, ok := idx.byImmutable[it.UserID.ImmutableID()]; ok {
			w.online = existing // created by an earlier run
			w.mapped = m.ID == existing.ID && m.State == MappingAssigned
			if w.mapped && len(missingAssignments(existing, lics)) == 0 {
				// Finished by an earlier run (the mapping is written last):
				// touch nothing (the user may have changed the password since).
				w.res.OnlineUserID, w.res.Status = existing.ID, StatusDone
				continue
			}
		} else if m.State == MappingAssigned {
			w.fail(backend.Invalid(op, it.SAMAccountName, ReasonAlreadyMapped, "the user has an online account already (%s); plan again", m.UPN))
			continue
		}
		for _, l := range lics {
			if !hasLicense(w.online, l.sku.SKUID) {
				need[l.sku.SKUID]++
			}
		}
		pre = pre[:len(pre)-1]
		work = append(work, w)
	}
	if err := checkSeats(op, lics, need); err != nil {
		return nil, err
	}

	total := len(res.Items)
	done := 0
	report := func(w *bulkWork) {
		done++
		if o.Progress != nil {
			o.Progress(Progress{Item: w.item.SAMAccountName, OnlineID: w.item.OnlineID, Status: w.res.Status, Err: w.res.Err, Done: done, Total: total})
		}
	}
	for _, w := range pre {
		report(w)
	}
	for start := 0; start < len(work); start += s.opts.BatchSize {
		if err := ctx.Err(); err != nil {
			res.finish()
			return res, backend.Wrap(err, backend.Canceled, op, "")
		}
		chunk := work[start:min(start+s.opts.BatchSize, len(work))]
		s.bulkChunk(ctx, op, chunk, lics, loc)
		for _, w := range chunk {
			report(w)
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
	user   backend.DirectoryUser
	online backend.OnlineUser
	mapped bool // the mapping is already recorded
	res    ItemResult
	failed bool
}

func (w *bulkWork) fail(err error) {
	w.failed = true
	w.res.setError(err)
}

// bulkChunk runs the steps of a chunk of items: create, license, follow
// the user's state, must-change, map.
func (s *Service) bulkChunk(ctx context.Context, op string, chunk []*bulkWork, lics []resolvedLicense, loc string) {
	s.bulkCreateOnline(ctx, op, chunk, loc)
	s.bulkLicense(ctx, op, chunk, lics, loc)
	for _, w := range chunk {
		if w.failed {
			continue
		}
		if err := s.finishLink(ctx, op, w.user, w.online, !w.mapped); err != nil {
			w.fail(err)
			continue
		}
		w.res.OnlineUserID = w.online.ID
		w.res.Status = StatusDone
	}
}

// bulkCreateOnline creates the online accounts that do not exist yet.
func (s *Service) bulkCreateOnline(ctx context.Context, op string, chunk []*bulkWork, loc string) {
	var creates []backend.NewOnlineUser
	var createFor []*bulkWork
	for _, w := range chunk {
		if w.online.ID != "" {
			continue
		}
		local, _, _ := strings.Cut(w.item.OnlineID, "@")
		display := w.user.DisplayName
		if display == "" {
			display = w.item.SAMAccountName
		}
		creates = append(creates, backend.NewOnlineUser{
			UserPrincipalName: w.item.OnlineID, DisplayName: display, MailNickname: local,
			UsageLocation: loc, Password: GeneratePassword(16), ImmutableID: w.item.UserID.ImmutableID(),
			Disabled: !w.user.Enabled,
		})
		createFor = append(createFor, w)
	}
	if len(creates) == 0 {
		return
	}
	users, errs := s.createOnline(ctx, creates)
	for k, w := range createFor {
		err := errs[k]
		switch {
		case err == nil:
			w.online = users[k]
		case backend.KindOf(err) == backend.AlreadyExists:
			// A retried create may have landed the first time: the
			// account is ours when it carries our immutableId.
			if u, gerr := s.getOnline(ctx, op, creates[k].UserPrincipalName); gerr == nil && u.ImmutableID == creates[k].ImmutableID {
				w.online, err = u, nil
				m, _ := ParseMapping(w.user.OnlineAccount)
				w.mapped = m.ID == u.ID && m.State == MappingAssigned // finished since the plan read the tenant
			} else {
				err = &backend.Error{Kind: backend.AlreadyExists, Reason: ReasonOnlineIDTaken, Msg: "an online account with this ID already exists", Err: err}
				w.fail(backend.WithOp(err, op, w.item.OnlineID))
			}
		default:
			w.fail(backend.WithOp(err, op, w.item.OnlineID))
		}
		e := ev(AuditCreateOnline, audit.SideTenant, w.item.SAMAccountName, w.item.OnlineID)
		e.Detail = map[string]string{"signIn": fmt.Sprint(w.user.Enabled)}
		s.record(ctx, e, err)
	}
}

// bulkLicense gives the chunk's accounts the licences they lack.
func (s *Service) bulkLicense(ctx context.Context, op string, chunk []*bulkWork, lics []resolvedLicense, loc string) {
	var changes []backend.LicenseChange
	var changeFor []*bulkWork
	for _, w := range chunk {
		if w.failed {
			continue
		}
		add := missingAssignments(w.online, lics)
		if len(add) == 0 {
			continue
		}
		if w.online.UsageLocation == "" {
			if err := s.setUsageLocation(ctx, op, w.item.SAMAccountName, w.online, loc); err != nil {
				w.fail(backend.WithOp(err, op, w.item.OnlineID))
				continue
			}
		}
		changes = append(changes, backend.LicenseChange{UserID: w.online.ID, Add: add})
		changeFor = append(changeFor, w)
	}
	if len(changes) == 0 {
		return
	}
	users, errs := s.assignOnline(ctx, changes)
	for k, w := range changeFor {
		e := ev(AuditAssignLicenses, audit.SideTenant, w.item.SAMAccountName, w.online.UserPrincipalName)
		e.Target = skuList(changes[k].Add)
		s.record(ctx, e, errs[k])
		if errs[k] != nil {
			w.fail(backend.WithOp(errs[k], op, w.item.OnlineID))
			continue
		}
		w.online = users[k]
	}
}

// finishLink completes the link of an online account to a user, each step
// only if it is missing: sign-in follows the user's enabled state, the user
// must change password at next logon (so the password reaches the online
// account), the account is recorded as managed, and the mapping is written
// last, so a recorded mapping means every step happened.
func (s *Service) finishLink(ctx context.Context, op string, u backend.DirectoryUser, ou backend.OnlineUser, mustChange bool) error {
	if ou.AccountEnabled != u.Enabled {
		if err := s.setEnabledOnline(ctx, op, u.SAMAccountName, ou, u.Enabled); err != nil {
			return backend.WithOp(err, op, u.SAMAccountName)
		}
	}
	if mustChange {
		if err := s.setMustChange(ctx, op, u); err != nil {
			return err
		}
	}
	if err := s.recordManaged(ctx, op, u, ou); err != nil {
		return err
	}
	m := Mapping{ID: ou.ID, UPN: ou.UserPrincipalName, State: MappingAssigned}
	if cur, _ := ParseMapping(u.OnlineAccount); cur != m {
		if err := s.setMapping(ctx, op, u, m); err != nil {
			return err
		}
	}
	s.markSynced(ctx, u.ID, ou)
	return nil
}

// setUsageLocation writes an online account's usage location.
func (s *Service) setUsageLocation(ctx context.Context, op, user string, ou backend.OnlineUser, loc string) error {
	return s.write(ctx, op, ev(AuditSetUsageLocation, audit.SideTenant, user, ou.UserPrincipalName), func() error {
		return s.tenant.UpdateUser(ctx, ou.ID, backend.OnlineUserUpdate{UsageLocation: &loc})
	})
}

func skuList(add []backend.LicenseAssignment) string {
	ids := make([]string, len(add))
	for i, a := range add {
		ids[i] = a.SKUID
	}
	return strings.Join(ids, ",")
}

func (s *Service) getOnline(ctx context.Context, op, idOrUPN string) (backend.OnlineUser, error) {
	var u backend.OnlineUser
	err := s.do(ctx, op, idOrUPN, func() (e error) { u, e = s.tenant.GetUser(ctx, idOrUPN); return })
	return u, err
}
