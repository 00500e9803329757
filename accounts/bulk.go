package accounts

import (
	"context"
	"fmt"
	"strings"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

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
	o, loc, err := s.bulkOptions(op, plan, opts)
	if err != nil {
		return nil, err
	}
	in, err := s.bulkInputs(ctx, op, plan, o.Licenses)
	if err != nil {
		return nil, err
	}
	res, pre, work, need := s.bulkTriage(op, plan, in)
	if err := checkSeats(op, in.lics, need); err != nil {
		return nil, err
	}
	return s.bulkRun(ctx, op, res, pre, work, in.lics, loc, o)
}

// bulkOptions completes opts from the plan and the service's options and
// checks them before any change: a licence choice, a usage location when
// licensing, a results directory that can be written.
func (s *Service) bulkOptions(op string, plan *BulkPlan, opts *BulkOptions) (BulkOptions, string, error) {
	var o BulkOptions
	if opts != nil {
		o = *opts
	}
	if len(o.Licenses) == 0 && !o.NoLicense {
		o.Licenses, o.NoLicense = plan.Licenses, plan.NoLicense
	}
	if len(o.Licenses) == 0 && !o.NoLicense {
		return o, "", backend.Invalid(op, "", ReasonLicenseChoiceRequired,
			"no licence chosen: every online account uses a licence; set BulkOptions.Licenses, or NoLicense to create the accounts unlicensed on purpose")
	}
	loc := o.UsageLocation
	if loc == "" {
		loc = s.opts.UsageLocation
	}
	if len(o.Licenses) > 0 && loc == "" {
		return o, "", usageLocationError(op, "", "licensing needs a usage location: set BulkOptions.UsageLocation or Options.UsageLocation (e.g. \"FR\")")
	}
	if o.ResultsDir != "" {
		if err := prepareDir(op, o.ResultsDir, false); err != nil {
			return o, "", err
		}
	}
	return o, loc, nil
}

// bulkInput is what ApplyBulkCreate reads before deciding anything: the
// tenant's domains, the chosen licences resolved against its
// subscriptions, its accounts and the directory's users.
type bulkInput struct {
	doms  domainSet
	lics  []resolvedLicense
	idx   tenantIndex
	users map[backend.GUID]backend.DirectoryUser
}

// bulkInputs reads the tenant and the directory for an apply; the plan's
// index of the tenant is reused when it is recent, once.
func (s *Service) bulkInputs(ctx context.Context, op string, plan *BulkPlan, choices []LicenseChoice) (bulkInput, error) {
	var in bulkInput
	var err error
	if in.doms, err = s.domains(ctx, op); err != nil {
		return in, err
	}
	skus, err := s.skus(ctx, op)
	if err != nil {
		return in, err
	}
	if in.lics, err = resolveLicenses(op, skus, choices); err != nil {
		return in, err
	}
	if plan.idx != nil && s.now().Sub(plan.planned) < planReuse {
		in.idx = *plan.idx
	} else if in.idx, err = s.indexTenant(ctx, op); err != nil {
		return in, err
	}
	plan.idx = nil // a second apply of the plan (a rerun) reads the tenant afresh
	in.users = map[backend.GUID]backend.DirectoryUser{}
	for u, err := range s.dir.ListUsers(ctx) {
		if err != nil {
			return in, backend.WithOp(err, op, "")
		}
		in.users[u.ID] = u
	}
	return in, nil
}

// bulkTriage sorts the selected items of plan, without writing: pre holds
// the items that end before any write (refused, or finished by an earlier
// run), work the items to run; need counts the seats each SKU must have
// free for them.
func (s *Service) bulkTriage(op string, plan *BulkPlan, in bulkInput) (res *Result, pre, work []*bulkWork, need map[string]int) {
	res = &Result{Operation: OperationBulkCreate, Started: s.now()}
	seenID := map[string]string{}
	need = map[string]int{}
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
		u, ok := in.users[it.UserID]
		if !ok {
			w.fail(backend.Errorf(backend.NotFound, op, it.SAMAccountName, "the user no longer exists in the directory; plan again"))
			continue
		}
		w.user = u
		if rule, detail := s.checkOnlineID(in.doms, in.idx, it.OnlineID, it.UserID); rule != "" {
			w.fail(onlineIDError(op, it.OnlineID, rule, detail))
			continue
		}
		m, _ := ParseMapping(u.OnlineAccount)
		if existing, ok := in.idx.byImmutable[it.UserID.ImmutableID()]; ok {
			w.online = existing // created by an earlier run
			w.mapped = m.ID == existing.ID && m.State == MappingAssigned
			if w.mapped && len(missingAssignments(existing, in.lics)) == 0 {
				// Finished by an earlier run (the mapping is written last):
				// touch nothing (the user may have changed the password since).
				w.res.OnlineUserID, w.res.Status = existing.ID, StatusDone
				continue
			}
		} else if m.State == MappingAssigned {
			w.fail(backend.Invalid(op, it.SAMAccountName, ReasonAlreadyMapped, "the user has an online account already (%s); plan again", m.UPN))
			continue
		}
		for _, l := range in.lics {
			if !hasLicense(w.online, l.sku.SKUID) {
				need[l.sku.SKUID]++
			}
		}
		pre = pre[:len(pre)-1]
		work = append(work, w)
	}
	return res, pre, work, need
}

// bulkRun reports the items that ended before any write, runs the others
// in batches of Options.BatchSize, and writes the results files.
func (s *Service) bulkRun(ctx context.Context, op string, res *Result, pre, work []*bulkWork, lics []resolvedLicense, loc string, o BulkOptions) (*Result, error) {
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
