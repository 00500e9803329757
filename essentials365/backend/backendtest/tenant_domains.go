package backendtest

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// tenantMSText is the shape of a domain verification TXT value.
var tenantMSText = regexp.MustCompile(`^MS=ms[0-9]{8}$`)

// tenantFindRecord returns the first record of that type and label.
func tenantFindRecord(recs []backend.DNSRecord, typ backend.DNSType, name string) (backend.DNSRecord, bool) {
	i := slices.IndexFunc(recs, func(r backend.DNSRecord) bool {
		return r.Type == typ && strings.EqualFold(strings.TrimSuffix(r.Name, "."), name)
	})
	if i < 0 {
		return backend.DNSRecord{}, false
	}
	return recs[i], true
}

func tenantTestDomainAdmin(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	da, ok := f.Tenant.(backend.DomainAdmin)
	if !ok {
		t.Skip("the tenant does not implement backend.DomainAdmin")
	}
	name := UniqueName("conf") + ".example"

	d, err := da.AddDomain(ctx, name)
	require.NoError(t, err)
	assert.Equal(t, name, d.Name)
	assert.False(t, d.IsVerified)
	assert.False(t, d.IsInitial)
	assert.False(t, d.IsDefault)
	_, err = da.AddDomain(ctx, name)
	tenantRequireKind(t, err, backend.AlreadyExists)
	for _, bad := range []string{"nodots", "bad_name.example", "-lead.example", "a..b.example"} {
		_, err = da.AddDomain(ctx, bad)
		tenantRequireKind(t, err, backend.InvalidArgument)
	}
	ds, err := f.Tenant.Domains(ctx)
	require.NoError(t, err)
	i := slices.IndexFunc(ds, func(x backend.Domain) bool { return x.Name == name })
	require.GreaterOrEqual(t, i, 0, "Domains lists the added domain")
	assert.False(t, ds[i].IsVerified)

	// A user cannot use an unverified domain.
	nu := tenantNewUser(f, "unv")
	nu.UserPrincipalName = UniqueName("unv") + "@" + name
	_, err = f.Tenant.CreateUser(ctx, nu)
	tenantRequireKind(t, err, backend.InvalidArgument, backend.ReasonUPNDomainUnverified, backend.ReasonUPNDomainUnknown)

	tenantCheckVerificationRecords(t, da, name)
	_, err = da.SetDefaultDomain(ctx, name)
	tenantRequireKind(t, err, backend.FailedPrecondition, backend.ReasonDomainUnverified)
	refs, err := da.DomainReferences(ctx, name)
	require.NoError(t, err)
	assert.Empty(t, refs, "a new domain has no references")
	_, err = da.VerificationRecords(ctx, UniqueName("none")+".example")
	tenantRequireKind(t, err, backend.NotFound)

	_, err = da.VerifyDomain(ctx, name)
	tenantRequireKind(t, err, backend.FailedPrecondition, backend.ReasonVerificationRecordMissing)
	_, err = da.VerifyDomain(ctx, UniqueName("none")+".example")
	tenantRequireKind(t, err, backend.NotFound)
	tenantRequireOp(t, err, "tenant: verify domain")

	if f.PublishVerification == nil {
		t.Log("harness cannot publish verification records; verification success not checked")
	} else {
		f.PublishVerification(name)
		tenantTestVerifiedDomain(t, f, da, name)
	}

	tenantCheckServiceRecords(t, da, f.VerifiedDomain)

	err = da.DeleteDomain(ctx, f.InitialDomain)
	tenantRequireKind(t, err, backend.FailedPrecondition)
	other := UniqueName("gone") + ".example"
	_, err = da.AddDomain(ctx, other)
	require.NoError(t, err)
	require.NoError(t, da.DeleteDomain(ctx, other))
	ds, err = f.Tenant.Domains(ctx)
	require.NoError(t, err)
	assert.False(t, slices.ContainsFunc(ds, func(x backend.Domain) bool { return x.Name == other }), "a deleted domain is not listed")
	err = da.DeleteDomain(ctx, other)
	tenantRequireKind(t, err, backend.NotFound)
	tenantRequireOp(t, err, "tenant: delete domain")
}

// tenantCheckVerificationRecords checks the TXT and MX verification
// records offered for the unverified domain name: Microsoft's shapes, TTL
// 3600, the same value on every call.
func tenantCheckVerificationRecords(t *testing.T, da backend.DomainAdmin, name string) {
	t.Helper()
	ctx := t.Context()
	recs, err := da.VerificationRecords(ctx, name)
	require.NoError(t, err)
	txt, ok := tenantFindRecord(recs, backend.DNSTypeTXT, name)
	require.True(t, ok, "a TXT verification record is offered: %+v", recs)
	assert.Regexp(t, tenantMSText, txt.Text)
	assert.Equal(t, uint32(3600), txt.TTL)
	mx, ok := tenantFindRecord(recs, backend.DNSTypeMX, name)
	require.True(t, ok, "an MX verification record is offered: %+v", recs)
	assert.Equal(t, uint32(3600), mx.TTL)
	assert.Equal(t, strings.TrimPrefix(txt.Text, "MS=")+".msv1.invalid", mx.Exchange)
	again, err := da.VerificationRecords(ctx, name)
	require.NoError(t, err)
	again1, _ := tenantFindRecord(again, backend.DNSTypeTXT, name)
	assert.Equal(t, txt.Text, again1.Text, "the verification value is stable")
}

// tenantTestVerifiedDomain checks a domain once verified: it holds UPNs,
// lists them as references and cannot be deleted while they remain, can
// become the default domain (and not be deleted then), and a forced
// deletion renames its users onto the initial domain.
func tenantTestVerifiedDomain(t *testing.T, f TenantFixture, da backend.DomainAdmin, name string) {
	ctx := t.Context()
	d, err := da.VerifyDomain(ctx, name)
	require.NoError(t, err)
	assert.True(t, d.IsVerified)
	tenantCheckServiceRecords(t, da, name)
	u, err := f.Tenant.CreateUser(ctx, backend.NewOnlineUser{
		UserPrincipalName: UniqueName("ver") + "@" + name, DisplayName: "Verified Domain User", Password: tenantPassword,
	})
	require.NoError(t, err, "a verified domain can hold UPNs")
	refs, err := da.DomainReferences(ctx, name)
	require.NoError(t, err)
	assert.Contains(t, refs, "user:"+strings.ToLower(u.UserPrincipalName), "the user is listed as a reference")
	err = da.DeleteDomain(ctx, name)
	tenantRequireKind(t, err, backend.FailedPrecondition, backend.ReasonDomainInUse)
	before, err := f.Tenant.Domains(ctx)
	require.NoError(t, err)
	oldDefault := before[slices.IndexFunc(before, func(x backend.Domain) bool { return x.IsDefault })].Name
	def, err := da.SetDefaultDomain(ctx, name)
	require.NoError(t, err)
	assert.True(t, def.IsDefault)
	ds, err := f.Tenant.Domains(ctx)
	require.NoError(t, err)
	for _, x := range ds {
		assert.Equal(t, x.Name == name, x.IsDefault, "only %s is default: %+v", name, x)
	}
	tenantRequireKind(t, da.DeleteDomain(ctx, name), backend.FailedPrecondition, backend.ReasonDomainDefault)
	_, err = da.SetDefaultDomain(ctx, oldDefault)
	require.NoError(t, err, "the previous default domain is restored")
	require.NoError(t, f.Tenant.DeleteUser(ctx, u.ID))

	// forceDelete renames the users onto the initial domain.
	u2, err := f.Tenant.CreateUser(ctx, backend.NewOnlineUser{
		UserPrincipalName: UniqueName("frc") + "@" + name, DisplayName: "Forced Rename", Password: tenantPassword,
	})
	require.NoError(t, err)
	require.NoError(t, da.ForceDeleteDomain(ctx, name, true))
	got, err := f.Tenant.GetUser(ctx, u2.ID)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(strings.ToLower(got.UserPrincipalName), "@"+f.InitialDomain), "renamed onto the initial domain: %s", got.UserPrincipalName)
	assert.False(t, got.AccountEnabled, "disableUserAccounts disables the renamed users")
	ds, err = f.Tenant.Domains(ctx)
	require.NoError(t, err)
	assert.False(t, slices.ContainsFunc(ds, func(x backend.Domain) bool { return x.Name == name }), "a force-deleted domain is gone")
	require.NoError(t, f.Tenant.DeleteUser(ctx, u2.ID))
}

// tenantCheckServiceRecords checks the records Microsoft documents for a
// verified domain.
func tenantCheckServiceRecords(t *testing.T, da backend.DomainAdmin, name string) {
	t.Helper()
	recs, err := da.ServiceConfigurationRecords(t.Context(), name)
	require.NoError(t, err)
	mx, ok := tenantFindRecord(recs, backend.DNSTypeMX, name)
	require.True(t, ok, "an MX record is listed for %s: %+v", name, recs)
	assert.True(t, strings.HasSuffix(mx.Exchange, ".mail.protection.outlook.com"), "MX target %q", mx.Exchange)
	if !strings.Contains(name, "-") {
		assert.Equal(t, strings.ReplaceAll(name, ".", "-")+".mail.protection.outlook.com", mx.Exchange)
	}
	assert.Equal(t, uint16(0), mx.Preference)
	assert.Equal(t, uint32(3600), mx.TTL)
	assert.Equal(t, "Email", mx.SupportedService)
	spf, ok := tenantFindRecord(recs, backend.DNSTypeTXT, name)
	require.True(t, ok, "an SPF record is listed")
	assert.Equal(t, "v=spf1 include:spf.protection.outlook.com -all", spf.Text)
	assert.Equal(t, "Email", spf.SupportedService)
	auto, ok := tenantFindRecord(recs, backend.DNSTypeCNAME, "autodiscover."+name)
	require.True(t, ok, "an autodiscover CNAME is listed")
	assert.Equal(t, "autodiscover.outlook.com", auto.Target)
	assert.Equal(t, "Email", auto.SupportedService)
	for _, r := range recs {
		assert.NotEmpty(t, r.ID)
		assert.Equal(t, uint32(3600), r.TTL, "record %s %s", r.Type, r.Name)
	}
}

func tenantTestDomains(t *testing.T, h TenantHarness) {
	ctx := t.Context()
	f := h.MakeTenant(ctx, t)
	ds, err := f.Tenant.Domains(ctx)
	require.NoError(t, err)
	find := func(name string) backend.Domain {
		i := slices.IndexFunc(ds, func(d backend.Domain) bool { return strings.EqualFold(d.Name, name) })
		require.GreaterOrEqual(t, i, 0, "Domains lists %s", name)
		return ds[i]
	}
	v := find(f.VerifiedDomain)
	assert.True(t, v.IsVerified)
	assert.False(t, v.IsInitial)
	in := find(f.InitialDomain)
	assert.True(t, in.IsVerified)
	assert.True(t, in.IsInitial)
	defaults := 0
	for _, d := range ds {
		if d.IsDefault {
			defaults++
		}
	}
	assert.Equal(t, 1, defaults, "exactly one domain is the default")
}
