package domains_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/dnsrecords"
	"github.com/essentials365/sdk/domains"
	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/backend/rfc2136"
	"github.com/essentials365/sdk/essentials365/m365emulator"
	"github.com/essentials365/sdk/essentials365/retry"
	"github.com/essentials365/sdk/internal/bindserver"
	"github.com/essentials365/sdk/internal/bindtest"
	"github.com/essentials365/sdk/internal/testclock"
)

const domain = "fabrikam.com"

// bindZone starts BIND with the domain's zone and returns the zone driver
// and the server.
func bindZone(t *testing.T) (*rfc2136.Zone, *bindserver.Server) {
	srv := bindtest.Start(t, domain)
	z, err := rfc2136.New(rfc2136.Config{Server: srv.Addr, Zone: domain, KeyName: srv.KeyName, KeyAlgorithm: srv.KeyAlgorithm, KeySecret: srv.KeySecret}, nil)
	require.NoError(t, err)
	return z, srv
}

// tenantSeeing returns a memory tenant that verifies domains by looking
// their TXT records up at the DNS server addr, as Microsoft looks them up
// in public DNS.
func tenantSeeing(addr string) *memory.Tenant {
	return memory.NewTenant(&memory.TenantOptions{LookupTXT: m365emulator.LookupTXTAt(addr)})
}

func fastRetry() retry.Policy {
	return retry.Policy{Sleep: func(context.Context, time.Duration) error { return nil }}
}

func TestLinkThroughBIND(t *testing.T) {
	ctx := t.Context()
	zone, srv := bindZone(t)
	require.NoError(t, zone.Update(ctx, nil, []backend.DNSRecord{{Name: domain, Type: backend.DNSTypeTXT, Text: "v=spf1 ip4:192.0.2.1 ~all"}}))
	var events audit.Recorder
	svc, err := domains.New(tenantSeeing(srv.Addr), &domains.Options{Zone: zone, CheckServer: srv.Addr, RecordsDir: t.TempDir(), Retry: fastRetry(), Audit: events.Hook()})
	require.NoError(t, err)

	plan, err := svc.PlanLink(ctx, "Fabrikam.com")
	require.NoError(t, err)
	assert.Equal(t, domain, plan.Domain.Name)
	assert.Equal(t, domains.PublishZone, plan.Publish)
	assert.Equal(t, []domains.Step{domains.StepAdd, domains.StepPublishVerification, domains.StepVerify, domains.StepPublishServices, domains.StepCheck}, plan.Steps)
	assert.Empty(t, plan.Problems)

	res, err := svc.ApplyLink(ctx, plan, nil)
	require.NoError(t, err)
	assert.True(t, res.Verified, "verified once the TXT is visible in BIND: %s", res.Next)
	assert.Equal(t, domains.PublishZone, res.Publish)
	assert.Empty(t, res.RecordsFiles)
	assert.Equal(t, domains.AdviceNoPortalEdits, res.Advice)
	require.NotNil(t, res.Check)
	for _, v := range res.Check.Verdicts {
		if v.Service != dnsrecords.ServiceDKIM && v.Service != dnsrecords.ServiceDMARC {
			assert.True(t, v.OK, "verdict %s: %s", v.Name, v.Summary)
		}
	}
	// The customer's SPF was merged, keeping its ~all, and the old one is
	// listed as replaced.
	apex, err := zone.Records(ctx, domain)
	require.NoError(t, err)
	var spf []string
	for _, r := range apex {
		if r.Type == backend.DNSTypeTXT && strings.HasPrefix(r.Text, "v=spf1") {
			spf = append(spf, r.Text)
		}
	}
	assert.Equal(t, []string{"v=spf1 ip4:192.0.2.1 include:spf.protection.outlook.com ~all"}, spf)
	require.Len(t, res.Replaced, 1)
	assert.Equal(t, "v=spf1 ip4:192.0.2.1 ~all", res.Replaced[0].Text)
	assert.True(t, slices.ContainsFunc(res.Published, func(r backend.DNSRecord) bool {
		return r.Type == backend.DNSTypeCNAME && r.Name == "autodiscover."+domain
	}))

	st, err := svc.Status(ctx, domain)
	require.NoError(t, err)
	assert.True(t, st.Verified)
	assert.False(t, st.Default)
	require.NoError(t, st.CheckError)
	mx, ok := st.Check.Result(dnsrecords.RoleMX)
	require.True(t, ok)
	assert.Equal(t, dnsrecords.StatusPresent, mx.Status)
	assert.Equal(t, domains.AdviceNoPortalEdits, st.Advice)

	// A second run changes nothing and publishes nothing.
	plan2, err := svc.PlanLink(ctx, domain)
	require.NoError(t, err)
	assert.True(t, plan2.Verified)
	res2, err := svc.ApplyLink(ctx, plan2, nil)
	require.NoError(t, err)
	assert.Empty(t, res2.Published)
	assert.Empty(t, res2.Replaced)

	ops := map[string]int{}
	for _, e := range events.Events() {
		ops[e.Op]++
	}
	assert.Equal(t, 1, ops[domains.AuditAddDomain])
	assert.Equal(t, 1, ops[domains.AuditVerifyDomain])
	assert.Equal(t, 2, ops[domains.AuditPublishRecords], "verification TXT, then service records")
}

var msText = regexp.MustCompile(`MS=ms[0-9]{8}`)

func TestLinkWithRecordsFile(t *testing.T) {
	ctx := t.Context()
	zone, srv := bindZone(t)
	dir := t.TempDir()
	svc, err := domains.New(tenantSeeing(srv.Addr), &domains.Options{RecordsDir: dir, CheckServer: srv.Addr, Retry: fastRetry()})
	require.NoError(t, err)
	plan, err := svc.PlanLink(ctx, domain)
	require.NoError(t, err)
	assert.Equal(t, domains.PublishFile, plan.Publish)
	res, err := svc.ApplyLink(ctx, plan, nil)
	require.NoError(t, err)
	assert.False(t, res.Verified)
	require.Len(t, res.RecordsFiles, 1)
	assert.Contains(t, res.Next, res.RecordsFiles[0])
	body, err := os.ReadFile(res.RecordsFiles[0])
	require.NoError(t, err)
	token := msText.FindString(string(body))
	require.NotEmpty(t, token, "the records file holds the verification TXT:\n%s", body)

	// The administrator publishes the record by hand, then applies again.
	require.NoError(t, zone.Update(ctx, nil, []backend.DNSRecord{{Name: domain, Type: backend.DNSTypeTXT, Text: token}}))
	res, err = svc.ApplyLink(ctx, plan, nil)
	require.NoError(t, err)
	assert.True(t, res.Verified)
	require.Len(t, res.RecordsFiles, 1, "the service records go to a second file")
	body, err = os.ReadFile(res.RecordsFiles[0])
	require.NoError(t, err)
	assert.Contains(t, string(body), "autodiscover.outlook.com")
	assert.Contains(t, string(body), ".mail.protection.outlook.com")
	require.NotNil(t, res.Check)
	assert.False(t, res.Check.OK(), "nothing is published yet")
	assert.Contains(t, res.Next, res.RecordsFiles[0])
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 2)
}

func TestLinkFallsBackWhenZoneRefuses(t *testing.T) {
	ctx := t.Context()
	zone := memory.NewZone(domain, &memory.ZoneOptions{ReadOnly: true})
	svc, err := domains.New(memory.NewTenant(nil), &domains.Options{Zone: zone, RecordsDir: t.TempDir(), Retry: fastRetry()})
	require.NoError(t, err)
	plan, err := svc.PlanLink(ctx, domain)
	require.NoError(t, err)
	res, err := svc.ApplyLink(ctx, plan, nil)
	require.NoError(t, err)
	assert.Equal(t, domains.PublishFile, res.Publish)
	assert.Equal(t, backend.ReasonZoneReadOnly, backend.ReasonOf(res.ZoneError))
	assert.Len(t, res.RecordsFiles, 1)
	assert.False(t, res.Verified)
}

func TestLinkRefusesBadInput(t *testing.T) {
	ctx := t.Context()
	svc, err := domains.New(memory.NewTenant(nil), &domains.Options{Policy: dnsrecords.PolicyEssentials})
	require.NoError(t, err)
	_, err = svc.PlanLink(ctx, "marketing.fabrikam.com")
	assert.ErrorIs(t, err, backend.ErrInvalidArgument)
	assert.Equal(t, dnsrecords.ReasonEssentialsSubdomain, backend.ReasonOf(err))

	other, err := domains.New(memory.NewTenant(nil), &domains.Options{Zone: memory.NewZone("contoso.com", nil)})
	require.NoError(t, err)
	_, err = other.PlanLink(ctx, domain)
	assert.Equal(t, domains.ReasonZoneMismatch, backend.ReasonOf(err))

	plan, err := svc.PlanLink(ctx, "p\u0430ypal.com")
	require.NoError(t, err, "a mixed-script name is valid")
	require.Len(t, plan.Warnings, 1)
	assert.Contains(t, plan.Warnings[0], "mixes Latin and Cyrillic")

	_, err = svc.ApplyLink(ctx, nil, nil)
	assert.Equal(t, domains.ReasonPlanStale, backend.ReasonOf(err))

	_, err = domains.New(struct{ backend.Tenant }{memory.NewTenant(nil)}, nil)
	assert.Equal(t, domains.ReasonNoDomainAdmin, backend.ReasonOf(err))
}

// A CNAME the zone already holds as other data stops the service records
// whole: nothing of that update is published, and a rerun after the fix
// completes.
func TestLinkNothingHalfPublished(t *testing.T) {
	ctx := t.Context()
	zone := memory.NewZone(domain, &memory.ZoneOptions{Records: []backend.DNSRecord{
		{Name: "autodiscover." + domain, Type: backend.DNSTypeTXT, Text: "someone else's"},
	}})
	svc, err := domains.New(memory.NewTenant(&memory.TenantOptions{LookupTXT: zone.LookupTXT}), &domains.Options{Zone: zone, RecordsDir: t.TempDir(), Retry: fastRetry()})
	require.NoError(t, err)
	plan, err := svc.PlanLink(ctx, domain)
	require.NoError(t, err)
	require.Len(t, plan.Problems, 1, "the plan sees the conflict before any write")
	assert.Equal(t, "autodiscover."+domain, plan.Problems[0].Name)
	assert.Equal(t, backend.ReasonZoneCNAMEConflict, plan.Problems[0].Reason)
	assert.Equal(t, domains.StepPublishServices, plan.Problems[0].Step)
	res, err := svc.ApplyLink(ctx, plan, nil)
	assert.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, backend.ReasonZoneCNAMEConflict, backend.ReasonOf(err))
	assert.True(t, res.Verified)
	require.Len(t, res.Published, 1, "only the verification TXT was published: %v", res.Published)
	all, err := zone.Records(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 2, "the failed update wrote nothing: %v", all)

	require.NoError(t, zone.Update(ctx, []backend.DNSRecord{{Name: "autodiscover." + domain, Type: backend.DNSTypeTXT, Text: "someone else's"}}, nil))
	res, err = svc.ApplyLink(ctx, plan, nil)
	require.NoError(t, err)
	assert.NotEmpty(t, res.Published)
}

func TestSetDefaultIsWhatBulkCreateProposes(t *testing.T) {
	ctx := t.Context()
	zone := memory.NewZone(domain, nil)
	tn := memory.NewTenant(&memory.TenantOptions{LookupTXT: zone.LookupTXT})
	require.NoError(t, tn.AddVerifiedDomain("aaa-first.com", false))
	svc, err := domains.New(tn, &domains.Options{Zone: zone, RecordsDir: t.TempDir(), Retry: fastRetry()})
	require.NoError(t, err)

	_, err = tn.AddDomain(ctx, "pending.com")
	require.NoError(t, err)
	_, err = svc.SetDefault(ctx, "pending.com")
	assert.Equal(t, backend.ReasonDomainUnverified, backend.ReasonOf(err))

	plan, err := svc.PlanLink(ctx, domain)
	require.NoError(t, err)
	_, err = svc.ApplyLink(ctx, plan, nil)
	require.NoError(t, err)
	acc, err := accounts.New(memory.NewDirectory(nil), tn, nil)
	require.NoError(t, err)
	before, err := acc.PlanBulkCreate(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "aaa-first.com", before.Domain, "without a default, accounts picks the first verified custom domain")

	d, err := svc.SetDefault(ctx, domain)
	require.NoError(t, err)
	assert.True(t, d.IsDefault)
	after, err := acc.PlanBulkCreate(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, domain, after.Domain, "PlanBulkCreate proposes online IDs on the default domain")
}

func TestRemoveRefusedWhileInUse(t *testing.T) {
	ctx := t.Context()
	clock := testclock.New()
	tn := memory.NewTenant(&memory.TenantOptions{Now: clock.Now})
	require.NoError(t, tn.AddVerifiedDomain(domain, false))
	u, err := tn.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: "ann@" + domain, DisplayName: "Ann", Password: "Sp4ring!Tide"})
	require.NoError(t, err)
	svc, err := domains.New(tn, &domains.Options{Retry: fastRetry()})
	require.NoError(t, err)
	err = svc.Remove(ctx, domain, nil)
	assert.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, backend.ReasonDomainInUse, backend.ReasonOf(err))
	var inUse *domains.InUse
	require.ErrorAs(t, err, &inUse)
	assert.Equal(t, []string{"user:ann@" + domain}, inUse.References)
	ds, _ := tn.Domains(ctx)
	assert.True(t, slices.ContainsFunc(ds, func(d backend.Domain) bool { return d.Name == domain }), "nothing was removed")

	v, err := tn.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: "bob@" + domain, DisplayName: "Bob", Password: "Sp4ring!Tide"})
	require.NoError(t, err)
	require.NoError(t, tn.DeleteUser(ctx, u.ID))
	require.NoError(t, tn.DeleteUser(ctx, v.ID))
	err = svc.Remove(ctx, domain, nil)
	assert.Equal(t, backend.ReasonDomainInUse, backend.ReasonOf(err), "a deleted user still holds the domain until purged")
	clock.Advance(31 * 24 * time.Hour)
	require.NoError(t, svc.Remove(ctx, domain, nil))
	ds, _ = tn.Domains(ctx)
	assert.False(t, slices.ContainsFunc(ds, func(d backend.Domain) bool { return d.Name == domain }))
}

func TestWaitVerified(t *testing.T) {
	ctx := t.Context()
	clock := testclock.New()
	zone := memory.NewZone(domain, nil)
	tn := memory.NewTenant(&memory.TenantOptions{LookupTXT: zone.LookupTXT})
	_, err := tn.AddDomain(ctx, domain)
	require.NoError(t, err)
	svc, err := domains.New(tn, &domains.Options{
		Now: clock.Now, Retry: retry.Policy{Sleep: clock.Sleep}, CheckServer: "127.0.0.1:1",
		PollInterval: time.Minute, MaxPollInterval: 4 * time.Minute, MaxWait: 10 * time.Minute,
	})
	require.NoError(t, err)

	var rounds []domains.WaitProgress
	_, err = svc.WaitVerified(ctx, domain, func(p domains.WaitProgress) { rounds = append(rounds, p) })
	assert.Equal(t, domains.ReasonVerificationTimeout, backend.ReasonOf(err))
	require.NotEmpty(t, rounds)
	assert.Equal(t, []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}, clock.Waits(), "backoff doubles up to the cap, within MaxWait")
	assert.NotEmpty(t, rounds[0].Missing, "each round says what is missing")

	// Published during the wait: verified on the next round.
	recs, err := tn.VerificationRecords(ctx, domain)
	require.NoError(t, err)
	_, err = svc.WaitVerified(ctx, domain, func(p domains.WaitProgress) {
		if p.Round == 2 {
			require.NoError(t, zone.Update(ctx, nil, recs[:1]))
		}
	})
	require.NoError(t, err)
	ds, _ := tn.Domains(ctx)
	i := slices.IndexFunc(ds, func(d backend.Domain) bool { return d.Name == domain })
	assert.True(t, ds[i].IsVerified)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = svc.WaitVerified(cctx, "other.com", nil)
	assert.True(t, errors.Is(err, backend.ErrCanceled) || errors.Is(err, context.Canceled), "%v", err)
}

// A domain verified in another organisation: a clear FailedPrecondition
// naming it, and nothing published beyond the verification record.
func TestLinkDomainVerifiedElsewhere(t *testing.T) {
	ctx := t.Context()
	zone := memory.NewZone(domain, nil)
	tn := memory.NewTenant(&memory.TenantOptions{LookupTXT: zone.LookupTXT})
	_, err := tn.AddDomain(ctx, domain)
	require.NoError(t, err)
	require.NoError(t, tn.ClaimedElsewhere(domain, "northwind.onmicrosoft.com"))
	svc, err := domains.New(tn, &domains.Options{Zone: zone, RecordsDir: t.TempDir(), Retry: fastRetry()})
	require.NoError(t, err)
	plan, err := svc.PlanLink(ctx, domain)
	require.NoError(t, err)
	res, err := svc.ApplyLink(ctx, plan, nil)
	assert.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, backend.ReasonDomainVerifiedElsewhere, backend.ReasonOf(err))
	assert.Contains(t, err.Error(), "northwind.onmicrosoft.com")
	assert.False(t, res.Verified)
	assert.Empty(t, res.Published, "nothing was published")
}

// Only an explicit ForceRename renames the users onto the initial domain.
func TestRemoveForceRename(t *testing.T) {
	ctx := t.Context()
	tn := memory.NewTenant(nil)
	require.NoError(t, tn.AddVerifiedDomain(domain, false))
	u, err := tn.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: "ann@" + domain, DisplayName: "Ann", Password: "Sp4ring!Tide"})
	require.NoError(t, err)
	svc, err := domains.New(tn, &domains.Options{Retry: fastRetry()})
	require.NoError(t, err)
	require.Error(t, svc.Remove(ctx, domain, &domains.RemoveOptions{DisableUserAccounts: true}), "DisableUserAccounts alone does not force")
	require.NoError(t, svc.Remove(ctx, domain, &domains.RemoveOptions{ForceRename: true}))
	got, err := tn.GetUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, "ann@contoso.onmicrosoft.com", got.UserPrincipalName)
	assert.True(t, got.AccountEnabled, "not disabled unless asked")
}
