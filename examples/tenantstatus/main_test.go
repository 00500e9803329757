package main

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
	"github.com/essentials365/sdk/essentials365/state"
)

func TestStatusThroughTheEmulator(t *testing.T) {
	mem := memory.NewTenant(&memory.TenantOptions{DisplayName: "Contoso"})
	require.NoError(t, mem.AddVerifiedDomain("contoso.com", true))
	_, err := mem.AddDomain(t.Context(), "fabrikam.com")
	require.NoError(t, err)
	_, err = mem.AddSKU(backend.SKU{SKUID: "6fd2c87f-b296-42f0-b197-1e91e994b900", PartNumber: "ENTERPRISEPACK", CapabilityStatus: "Enabled", Enabled: 5})
	require.NoError(t, err)
	u, err := mem.CreateUser(t.Context(), backend.NewOnlineUser{UserPrincipalName: "ann@contoso.com", DisplayName: "Ann", Password: "Cloud-Pw-2026!", UsageLocation: "FR"})
	require.NoError(t, err)
	_, err = mem.AssignLicenses(t.Context(), u.ID, []backend.LicenseAssignment{{SKUID: "6fd2c87f-b296-42f0-b197-1e91e994b900"}}, nil)
	require.NoError(t, err)
	srv := httptest.NewServer(m365emulator.New(mem, nil))
	t.Cleanup(srv.Close)

	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-base-url", srv.URL + "/v1.0"}, func(string) string { return "" }, &out))
	report := out.String()
	assert.Contains(t, report, "Organization: Contoso")
	assert.Regexp(t, `ENTERPRISEPACK\s+Enabled\s+5\s+1\s+4`, report)
	assert.Contains(t, report, "contoso.com (verified, default)")
	assert.Contains(t, report, "fabrikam.com (not verified)")
	assert.Contains(t, report, "contoso.onmicrosoft.com (verified, initial)")
	assert.Contains(t, report, "Online users: 1 (1 licensed)")
	assert.Contains(t, report, "Integration: not-integrated")
}

func TestRealTenantNeedsCredentials(t *testing.T) {
	err := run(t.Context(), nil, func(string) string { return "" }, &bytes.Buffer{})
	require.ErrorContains(t, err, "-tenant-id, -client-id and E365_CLIENT_SECRET")
	// With all three, an azidentity client-secret credential is built (no
	// request is sent until a token is needed).
	cred, err := credential("https://graph.microsoft.com/v1.0", "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002", "s3cret")
	require.NoError(t, err)
	assert.NotNil(t, cred)
}

func TestStatusOfAnIntegration(t *testing.T) {
	mem := memory.NewTenant(&memory.TenantOptions{DisplayName: "Contoso"})
	_, err := mem.AddSKU(backend.SKU{SKUID: "6fd2c87f-b296-42f0-b197-1e91e994b900", PartNumber: "ENTERPRISEPACK", Enabled: 5,
		ServicePlans: []backend.ServicePlan{{ID: "efb87545-963c-4e0d-99df-69c6916d9eb0", Name: "EXCHANGE_S_ENTERPRISE"}}})
	require.NoError(t, err)
	dir := t.TempDir()
	store, err := state.NewFileStore(dir)
	require.NoError(t, err)
	integ, err := essentials365.Open(t.Context(), memory.NewDirectory(nil), mem, &essentials365.Options{Store: store, Sealer: state.NewEphemeralSealer()})
	require.NoError(t, err)
	_, err = integ.Integrate(t.Context())
	require.NoError(t, err)
	// The state directory belongs to one process at a time: release it for
	// the program.
	require.NoError(t, store.Close())
	srv := httptest.NewServer(m365emulator.New(mem, nil))
	t.Cleanup(srv.Close)

	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-base-url", srv.URL + "/v1.0", "-state", dir}, func(string) string { return "" }, &out))
	assert.Contains(t, out.String(), "Integration: integrated since")
	assert.Contains(t, out.String(), "Exchange Online: true")
	assert.Contains(t, out.String(), "Warning exchange-online: Exchange Online is part of ENTERPRISEPACK but no mail driver was given")
}
