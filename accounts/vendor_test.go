package accounts_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
)

func TestUserIdentifiers(t *testing.T) {
	e := newEnv(t, 10)
	u := e.addUser("ann", "Ann")
	_, err := e.svc.Assign(e.ctx, "ann", accounts.OnlineChoice{NewOnlineID: "ann.smith@contoso.com", Licenses: []accounts.LicenseChoice{e3}})
	require.NoError(t, err)
	for _, ref := range []string{"ann", "ANN", "ann@contoso.local", u.ID.String(), "ann.smith@contoso.com"} {
		st, err := e.svc.Status(e.ctx, ref)
		require.NoError(t, err, ref)
		assert.Equal(t, "ann", st.SAMAccountName, ref)
	}
	_, err = e.svc.Status(e.ctx, `CONTOSO\ann`)
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, accounts.ReasonUserFormat, backend.ReasonOf(err))

	st, err := e.svc.LookupByOnlineID(e.ctx, "Ann.Smith@contoso.com")
	require.NoError(t, err)
	assert.Equal(t, u.ID, st.UserID)
	e.cloudUsers("free@contoso.com")
	_, err = e.svc.LookupByOnlineID(e.ctx, "free@contoso.com")
	require.ErrorIs(t, err, backend.ErrNotFound)
	assert.Contains(t, err.Error(), "not linked to a network user")

	list, err := e.svc.AssignableOnlineAccounts(e.ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "free@contoso.com", list[0].OnlineID)
}

func TestLicenseShortfallIsTyped(t *testing.T) {
	e := newEnv(t, 2)
	e.addUsers(5)
	plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
	require.NoError(t, err)
	_, err = e.svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{Licenses: []accounts.LicenseChoice{e3}})
	var short *accounts.LicenseShortfall
	require.True(t, errors.As(err, &short), "%v", err)
	assert.Equal(t, []accounts.SKUShortfall{{SKUID: e3SKU, PartNumber: "ENTERPRISEPACK", Needed: 5, Free: 2, Missing: 3}}, short.SKUs)
}

func TestResultsFileDecodesAndProgressNamesItems(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(2)
	plan, err := e.svc.PlanBulkCreate(e.ctx, nil)
	require.NoError(t, err)
	plan.Items[1].OnlineID = "bad name@contoso.com"
	var seen []accounts.Progress
	dir := t.TempDir()
	res, err := e.svc.ApplyBulkCreate(e.ctx, plan, &accounts.BulkOptions{NoLicense: true, ResultsDir: dir,
		Progress: func(p accounts.Progress) { seen = append(seen, p) }})
	require.NoError(t, err)
	require.Len(t, seen, 2, "once per item")
	items := map[string]accounts.ItemStatus{}
	for _, p := range seen {
		items[p.Item] = p.Status
		assert.Equal(t, 2, p.Total)
	}
	assert.Equal(t, map[string]accounts.ItemStatus{"user001": accounts.StatusDone, "user002": accounts.StatusFailed}, items)
	assert.Equal(t, 2, seen[1].Done)

	require.Len(t, res.ResultsFiles, 2)
	assert.Contains(t, res.ResultsFiles[1], "OnlineAccountsResults_20261102T090000Z", "named with Options.Now")
	b, err := os.ReadFile(res.ResultsFiles[1])
	require.NoError(t, err)
	var f accounts.ResultsFile
	require.NoError(t, json.Unmarshal(b, &f))
	assert.Equal(t, accounts.ResultsFileVersion, f.Version)
	assert.Equal(t, accounts.OperationBulkCreate, f.Operation)
	assert.Equal(t, 1, f.Done)
	assert.Equal(t, 1, f.FailedCount)
	require.Len(t, f.Failed, 1)
	assert.Equal(t, accounts.ReasonOnlineIDCharacters, f.Failed[0].Reason)
	assert.Equal(t, "user002", f.Failed[0].User)
}

func TestPlanImportWarnsOfACutName(t *testing.T) {
	e := newEnv(t, 10)
	e.cloudUsers("very.long.name.of.carol@contoso.com", "bob@contoso.com")
	plan, err := e.svc.PlanImport(e.ctx)
	require.NoError(t, err)
	for _, it := range plan.Items {
		if it.OnlineID == "bob@contoso.com" {
			assert.Empty(t, it.Warning)
			continue
		}
		assert.Equal(t, "very.long.name.of.ca", it.SAMAccountName)
		assert.Contains(t, it.Warning, "cut to very.long.name.of.ca")
	}
}

// SetPassword sets the online password without reading the account back.
func TestSetPasswordMakesOneTenantCall(t *testing.T) {
	e := newEnv(t, 10)
	e.addUsers(1)
	e.bulkCreate(e3)
	e.tenant.ResetCalls()
	st, err := e.svc.SetPassword(e.ctx, "user001", "One-Call-Pw-8k")
	require.NoError(t, err)
	assert.Equal(t, accounts.SyncSynced, st)
	var ops []string
	for _, c := range e.tenant.Calls() {
		ops = append(ops, c.Op)
	}
	assert.Equal(t, []string{"UpdateUser"}, ops)
	status, err := e.svc.Status(e.ctx, "user001")
	require.NoError(t, err)
	assert.False(t, status.PasswordSyncBroken, "the local sync time is within the skew of the tenant's")
}
