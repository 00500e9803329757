package accounts_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/essentials365/sdk/essentials365/retry"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
)

func TestPlanBulkCreate(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(2)
	e.addUser("zoë", "Zoë Martin")           // a name Microsoft 365 refuses in an online ID
	e.addUser("taken", "Already Online")     // its online ID is used by someone else
	off := e.addUser("gone", "Disabled One") // disabled users start unselected
	require.NoError(t, e.dir.SetEnabled(e.ctx, off.ID, false))
	_, err := e.tenant.CreateUser(e.ctx, backend.NewOnlineUser{UserPrincipalName: "taken@contoso.com", DisplayName: "Someone", Password: "Cloud-Pw-2026!"})
	require.NoError(t, err)

	e.tenant.ResetCalls()
	plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "contoso.com", plan.Domain, "the verified custom domain is the default")
	got := map[string]accounts.PlanItem{}
	for _, it := range plan.Items {
		got[it.SAMAccountName] = it
	}
	require.Len(t, got, 5)
	tests := []struct {
		sam, onlineID string
		problem       backend.Reason
		selected      bool
	}{
		{"user001", "user001@contoso.com", "", true},
		{"user002", "user002@contoso.com", "", true},
		{"zoë", "zoë@contoso.com", accounts.ReasonOnlineIDCharacters, false},
		{"taken", "taken@contoso.com", accounts.ReasonProbableDuplicate, false},
		{"gone", "gone@contoso.com", accounts.ReasonUserDisabled, false},
	}
	for _, tc := range tests {
		t.Run(tc.sam, func(t *testing.T) {
			it := got[tc.sam]
			assert.Equal(t, tc.onlineID, it.OnlineID)
			assert.Equal(t, tc.problem, it.Problem)
			assert.Equal(t, tc.selected, it.Selected)
			if tc.problem != "" {
				assert.NotEmpty(t, it.Detail, "a problem comes with an explanation")
			}
		})
	}
	for _, c := range e.tenant.Calls() {
		assert.NotContains(t, []string{"CreateUser", "CreateUsers", "UpdateUser", "AssignLicenses", "DeleteUser"}, c.Op, "planning writes nothing")
	}
}

func TestPlanBulkCreateDomainOverride(t *testing.T) {
	e := newEnv(t, 5)
	plan, err := e.svc.PlanBulkCreate(e.ctx, &accounts.PlanOptions{Domain: "contoso.onmicrosoft.com"})
	require.NoError(t, err)
	assert.Equal(t, "contoso.onmicrosoft.com", plan.Domain)
	_, err = e.svc.PlanBulkCreate(e.ctx, &accounts.PlanOptions{Domain: "fabrikam.com"})
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, accounts.ReasonDomainUnknown, backend.ReasonOf(err))
}

func TestApplyBulkCreate(t *testing.T) {
	e := newEnv(t, 10)
	users := e.addUsers(3)
	var progress [][2]int
	plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
	require.NoError(t, err)
	res, err := e.svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{
		Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK", DisabledServices: []string{"SHAREPOINTENTERPRISE"}}},
		Progress: func(p accounts.Progress) { progress = append(progress, [2]int{p.Done, p.Total}) },
	})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Done)
	assert.Zero(t, res.Failed)
	assert.Equal(t, [2]int{3, 3}, progress[len(progress)-1])
	assert.Equal(t, 3, e.seatsUsed(e3SKU))

	for _, u := range users {
		u = e.user(u.SAMAccountName)
		m, err := accounts.ParseMapping(u.OnlineAccount)
		require.NoError(t, err)
		assert.Equal(t, accounts.MappingAssigned, m.State)
		assert.Equal(t, u.SAMAccountName+"@contoso.com", m.UPN)
		assert.True(t, u.MustChangePassword, "the user must change password so the new one reaches the online account")

		ou := e.online(m.ID)
		assert.Equal(t, u.ID.ImmutableID(), ou.ImmutableID, "onPremisesImmutableId is base64(objectGUID)")
		assert.Equal(t, "FR", ou.UsageLocation)
		require.Len(t, ou.AssignedLicenses, 1)
		assert.Equal(t, []string{"5dbe027f-2339-4123-9542-606e4d348a72"}, ou.AssignedLicenses[0].DisabledPlans)
	}
}

func TestApplyBulkCreateNotEnoughLicenses(t *testing.T) {
	e := newEnv(t, 2)
	e.addUsers(5)
	plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
	require.NoError(t, err)
	_, err = e.svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{e3}})
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, accounts.ReasonNoFreeLicense, backend.ReasonOf(err))
	assert.Contains(t, err.Error(), "ENTERPRISEPACK: 5 needed, 2 free, 3 missing")
	assert.Zero(t, e.onlineCount(), "nothing is created when licenses are missing")
	assert.Empty(t, e.user("user001").OnlineAccount)
}

func TestApplyBulkCreateBadInput(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(p *accounts.BulkPlan)
		opts   *accounts.BulkOptions
		kind   error
		reason backend.Reason
	}{
		{"nil plan", nil, nil, backend.ErrInvalidArgument, accounts.ReasonPlanRequired},
		{"no licence choice", func(*accounts.BulkPlan) {}, nil, backend.ErrInvalidArgument, accounts.ReasonLicenseChoiceRequired},
		{"unknown sku", func(*accounts.BulkPlan) {}, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{{SKU: "NOPE"}}}, backend.ErrInvalidArgument, accounts.ReasonUnknownSKU},
		{"unknown service", func(*accounts.BulkPlan) {},
			&accounts.BulkOptions{Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK", DisabledServices: []string{"YAMMER"}}}},
			backend.ErrInvalidArgument, accounts.ReasonUnknownServicePlan},
		{"licensing without usage location", func(*accounts.BulkPlan) {},
			&accounts.BulkOptions{Licenses: []accounts.LicenseChoice{e3}, UsageLocation: ""}, backend.ErrFailedPrecondition, accounts.ReasonUsageLocation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 10, func(o *accounts.Options) {
				if tc.reason == accounts.ReasonUsageLocation {
					o.UsageLocation = ""
				}
			})
			e.addUsers(2)
			var plan *accounts.BulkPlan
			if tc.edit != nil {
				var err error
				plan, err = e.svc.PlanBulkCreate(e.ctx, nil)
				require.NoError(t, err)
				tc.edit(plan)
			}
			_, err := e.svc.ApplyBulkCreate(e.ctx, plan, tc.opts)
			require.ErrorIs(t, err, tc.kind)
			assert.Equal(t, tc.reason, backend.ReasonOf(err))
			assert.Zero(t, e.onlineCount(), "nothing is left half-done")
		})
	}
}

func TestApplyBulkCreateUnverifiedDomainItem(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(2)
	_, err := e.tenant.AddDomain(e.ctx, "unverified.example")
	require.NoError(t, err)
	plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
	require.NoError(t, err)
	plan.Items[1].OnlineID = "user002@unverified.example"
	res, err := e.svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{NoLicense: true})
	require.NoError(t, err)
	require.Equal(t, 1, res.Failed)
	f := res.Failures()[0]
	assert.Equal(t, "user002", f.User)
	assert.Equal(t, accounts.ReasonDomainUnverified, f.Reason)
	assert.ErrorIs(t, f.Err, backend.ErrFailedPrecondition, "an unverified domain is a state to change, not bad input")
}

func TestApplyBulkCreateItemFailuresAndResultsFile(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(4)
	plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
	require.NoError(t, err)
	plan.Items[1].OnlineID = "bad name@contoso.com"     // forbidden character
	plan.Items[2].OnlineID = plan.Items[0].OnlineID     // duplicate online ID in the plan
	plan.Items[3].OnlineID = "user004@fabrikam.example" // not a tenant domain
	dir := t.TempDir()
	res, err := e.svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{ResultsDir: dir, NoLicense: true})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Done)
	assert.Equal(t, 3, res.Failed)
	reasons := map[string]backend.Reason{}
	for _, it := range res.Failures() {
		reasons[it.User] = it.Reason
		assert.NotEmpty(t, it.Action)
		assert.Empty(t, e.user(it.User).OnlineAccount, "a failed item changes nothing on the user")
	}
	assert.Equal(t, map[string]backend.Reason{
		"user002": accounts.ReasonOnlineIDCharacters,
		"user003": accounts.ReasonOnlineIDTaken,
		"user004": accounts.ReasonDomainUnknown,
	}, reasons)
	assert.Equal(t, 1, e.onlineCount())

	require.Len(t, res.ResultsFiles, 2)
	f, err := os.Open(res.ResultsFiles[0])
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	assert.Equal(t, []string{"user", "online_id", "status", "kind", "reason", "message", "action"}, rows[0])
	var doc struct {
		Failed []accounts.ItemResult `json:"failed"`
	}
	b, err := os.ReadFile(res.ResultsFiles[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Len(t, doc.Failed, 3)

	// A second results file never overwrites the first.
	files2, err := res.WriteFiles(dir)
	require.NoError(t, err)
	assert.NotEqual(t, res.ResultsFiles, files2)
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 4)
	assert.Equal(t, filepath.Dir(files2[0]), dir)
}

func TestApplyBulkCreateRetriesThrottling(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(5)
	e.tenant.FailNext("CreateUser", 3, throttled(7*time.Second))
	e.tenant.FailNext("AssignLicenses", 1, &backend.Error{Kind: backend.Unavailable, Msg: "service unavailable"})
	res := e.bulkCreate(e3)
	assert.Equal(t, 5, res.Done)
	assert.Equal(t, 5, e.onlineCount())
	assert.Equal(t, 5, e.seatsUsed(e3SKU))
	require.NotEmpty(t, e.clock.Waits())
	assert.Equal(t, 7*time.Second, e.clock.Waits()[0], "the service's Retry-After is honoured")
}

func TestApplyBulkCreateGivesUpAfterMaxAttempts(t *testing.T) {
	e := newEnv(t, 10, func(o *accounts.Options) { o.Retry.MaxAttempts = 3 })
	e.addUsers(1)
	e.tenant.FailNext("CreateUser", 10, throttled(time.Second))
	res := e.bulkCreate()
	require.Equal(t, 1, res.Failed)
	assert.ErrorIs(t, res.Items[0].Err, backend.ErrThrottled)
	assert.Len(t, e.clock.Waits(), 2, "three attempts, two waits")
}

// lossyTenant performs a create but reports it failed, as when the response
// is lost on the way back.
type lossyTenant struct {
	backend.Tenant
	mu    sync.Mutex
	loses int
}

func (l *lossyTenant) CreateUser(ctx context.Context, u backend.NewOnlineUser) (backend.OnlineUser, error) {
	ou, err := l.Tenant.CreateUser(ctx, u)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && l.loses > 0 {
		l.loses--
		return backend.OnlineUser{}, &backend.Error{Kind: backend.Unavailable, Msg: "connection reset"}
	}
	return ou, err
}

func TestApplyBulkCreateLostResponseCreatesOnce(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(3)
	lossy := &lossyTenant{Tenant: e.tenant, loses: 2}
	svc, err := accounts.New(e.dir, lossy, &accounts.Options{UsageLocation: "FR", Retry: retry.Policy{Sleep: func(context.Context, time.Duration) error { return nil }}})
	require.NoError(t, err)
	plan, err := svc.PlanBulkCreate(e.ctx, nil)
	require.NoError(t, err)
	res, err := svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Done, "a retried create that finds its own account counts as done")
	assert.Equal(t, 3, e.onlineCount())
	assert.Equal(t, 3, e.seatsUsed(e3SKU))
}

func TestApplyBulkCreateInterruptedThenResumed(t *testing.T) {
	e := newEnv(t, 20, func(o *accounts.Options) { o.BatchSize = 3 })
	e.addUsers(10)
	plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(e.ctx)
	res, err := e.svc.ApplyBulkCreate(ctx, plan, &accounts.BulkOptions{
		Licenses: []accounts.LicenseChoice{e3},
		Progress: func(p accounts.Progress) {
			if p.Done >= 4 {
				cancel() // interrupted after the second chunk
			}
		},
	})
	require.ErrorIs(t, err, backend.ErrCanceled)
	require.Equal(t, 6, res.Done)
	notStarted := 0
	for _, it := range res.Items {
		if it.Status == accounts.StatusNotStarted {
			notStarted++
		}
	}
	assert.Equal(t, 4, notStarted)
	assert.Equal(t, 6, e.onlineCount())

	// Run the same plan again: only the rest is created, nothing twice.
	res, err = e.svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	assert.Equal(t, 10, res.Done)
	assert.Zero(t, res.Failed)
	assert.Equal(t, 10, e.onlineCount())
	assert.Equal(t, 10, e.seatsUsed(e3SKU))
	assert.Equal(t, 10, e.tenant.CountCalls("CreateUser"), "every account was created exactly once")
}

func TestApplyBulkCreateInterruptedBetweenCreateAndMapping(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(2)
	e.dir.FailNext("SetOnlineAccount", 1, errors.New("disk full"))
	res := e.bulkCreate(e3)
	require.Equal(t, 1, res.Failed)
	assert.Equal(t, 2, e.onlineCount(), "the account was created before the failure")
	// The next run adopts the account it created (same immutableId).
	res = e.bulkCreate(e3)
	assert.Equal(t, 1, res.Done)
	assert.Zero(t, res.Failed)
	assert.Equal(t, 2, e.onlineCount())
	assert.Equal(t, 2, e.seatsUsed(e3SKU))
}

func TestApplyBulkCreateAgainLeavesFinishedUsersAlone(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(2)
	plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
	require.NoError(t, err)
	_, err = e.svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	// The user changes the password, as asked at next logon.
	_, err = e.svc.ChangePassword(e.ctx, "user001", "Initial-Pw-Kq7x", "Blue-Harbor-77")
	require.NoError(t, err)
	require.False(t, e.user("user001").MustChangePassword)

	e.dir.ResetCalls()
	res, err := e.svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Done)
	assert.False(t, e.user("user001").MustChangePassword, "a finished user is not asked again")
	for _, c := range e.dir.Calls() {
		assert.NotContains(t, []string{"SetOnlineAccount", "SetMustChangePassword"}, c.Op)
	}
	assert.Equal(t, 2, e.seatsUsed(e3SKU))
}

// Plan then apply reads the tenant's users once.
func TestPlanThenApplyListsTheTenantOnce(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(3)
	e.tenant.ResetCalls()
	plan, err := e.svc.PlanBulkCreate(e.ctx, &accounts.PlanOptions{Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	res, err := e.svc.ApplyBulkCreate(e.ctx, plan, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Done)
	assert.Equal(t, 1, e.tenant.CountCalls("ListUsers"))

	_, err = e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	e.tenant.ResetCalls()
	require.NoError(t, e.dir.SetEnabled(e.ctx, e.user("user001").ID, false))
	_, err = e.svc.Reconcile(e.ctx, nil)
	require.NoError(t, err)
	// An incremental reconcile reads only the tenant's changes: one delta
	// page in the plan, one in the apply (the re-read of the account it
	// changes), and no listing.
	assert.Zero(t, e.tenant.CountCalls("ListUsers"), "an incremental reconcile does not list the tenant")
	assert.Zero(t, e.tenant.CountCalls("GetUser"))
	assert.Equal(t, 2, e.tenant.CountCalls("Changes"))
	assert.False(t, e.online("user001@contoso.com").AccountEnabled)
}
