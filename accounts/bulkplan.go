package accounts

import (
	"context"
	"fmt"
	"strings"
	"time"

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
	mapped, err := s.mappedOnlineIDs(ctx, op, func(u backend.DirectoryUser) { users = append(users, u) })
	if err != nil {
		return nil, err
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

// onlineIDError is the error of an online ID that breaks rule (a reason
// of checkOnlineID), of the kind the reason's documentation names.
func onlineIDError(op, onlineID string, rule backend.Reason, detail string) error {
	kind := backend.InvalidArgument
	if rule == ReasonDomainUnverified {
		kind = backend.FailedPrecondition
	}
	return &backend.Error{Kind: kind, Op: op, Key: onlineID, Reason: rule, Msg: detail}
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
