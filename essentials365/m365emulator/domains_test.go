package m365emulator_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/rfc2136"
	"github.com/essentials365/sdk/essentials365/m365emulator"
	"github.com/essentials365/sdk/internal/bindtest"
)

func TestDomainLifecycle(t *testing.T) {
	f := newFixture(t, &m365emulator.Options{ReasonDetail: true})

	r := f.do(http.MethodPost, "/v1.0/domains", map[string]any{"id": "fabrikam.com"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Raw)
	assert.Equal(t, false, r.JSON["isVerified"])
	assert.Equal(t, true, r.JSON["isRoot"])

	r = f.do(http.MethodPost, "/v1.0/domains", map[string]any{"id": "fabrikam.com"})
	require.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, "ObjectConflict", details(r)["id"])

	r = f.do(http.MethodPost, "/v1.0/domains", map[string]any{"id": "x.com", "isDefault": true})
	assert.Equal(t, http.StatusBadRequest, r.Status, "only id can be set")

	r = f.do(http.MethodGet, "/v1.0/domains/fabrikam.com/verificationDnsRecords", nil)
	require.Equal(t, http.StatusOK, r.Status)
	recs := values(t, r)
	require.NotEmpty(t, recs)
	types := map[string]map[string]any{}
	for _, rec := range recs {
		typ := rec["@odata.type"].(string)
		assert.True(t, strings.HasPrefix(typ, "#microsoft.graph.domainDns"), typ)
		types[rec["recordType"].(string)] = rec
	}
	require.Contains(t, types, "Txt")
	assert.True(t, strings.HasPrefix(types["Txt"]["text"].(string), "MS=ms"))
	assert.Equal(t, "#microsoft.graph.domainDnsTxtRecord", types["Txt"]["@odata.type"])

	r = f.do(http.MethodPost, "/v1.0/domains/fabrikam.com/verify", nil)
	require.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, "verification-record-missing", details(r)[m365emulator.ReasonTarget])

	f.tenant.PublishVerification("fabrikam.com")
	r = f.do(http.MethodPost, "/v1.0/domains/fabrikam.com/verify", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	assert.Equal(t, true, r.JSON["isVerified"])
	assert.Equal(t, "AvailableImmediately", r.JSON["availabilityStatus"])

	r = f.do(http.MethodGet, "/v1.0/domains/fabrikam.com/serviceConfigurationRecords", nil)
	require.Equal(t, http.StatusOK, r.Status)
	seen := map[string]bool{}
	for _, rec := range values(t, r) {
		seen[rec["@odata.type"].(string)] = true
		if rec["recordType"] == "Mx" {
			assert.Contains(t, rec, "mailExchange")
			assert.Contains(t, rec, "preference")
		}
	}
	assert.True(t, seen["#microsoft.graph.domainDnsMxRecord"])
	assert.True(t, seen["#microsoft.graph.domainDnsCnameRecord"])

	r = f.do(http.MethodGet, "/v1.0/domains/fabrikam.com", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Nil(t, r.JSON["availabilityStatus"], "availabilityStatus is set only by verify")

	require.Equal(t, http.StatusNoContent, f.do(http.MethodDelete, "/v1.0/domains/fabrikam.com", nil).Status)
	r = f.do(http.MethodGet, "/v1.0/domains/fabrikam.com", nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	_, msg := graphError(t, r)
	assert.Contains(t, msg, "'fabrikam.com'")

	r = f.do(http.MethodGet, "/v1.0/organization", nil)
	require.Equal(t, http.StatusOK, r.Status)
	org := values(t, r)[0]
	assert.Equal(t, testTenantID, org["id"])
	assert.Len(t, org["verifiedDomains"], 2)
}

// readOnlyTenant hides the DomainAdmin methods of a tenant.
type readOnlyTenant struct{ backend.Tenant }

func TestDomainAdminNotImplemented(t *testing.T) {
	f := newFixture(t, nil)
	f.hs.Config.Handler = m365emulator.New(readOnlyTenant{f.tenant}, nil)
	assert.Equal(t, http.StatusOK, f.do(http.MethodGet, "/v1.0/domains", nil).Status)
	for _, c := range []struct{ method, path string }{
		{"POST", "/v1.0/domains"},
		{"POST", "/v1.0/domains/contoso.com/verify"},
		{"GET", "/v1.0/domains/contoso.com/serviceConfigurationRecords"},
		{"DELETE", "/v1.0/domains/contoso.com"},
	} {
		r := f.do(c.method, c.path, map[string]any{"id": "x.com"})
		assert.Equal(t, http.StatusNotImplemented, r.Status, c.path)
		graphError(t, r)
	}
}

// With Options.DNSServer, verify succeeds only once the verification TXT is
// visible at that server (a real BIND here).
func TestVerifyConsultsDNSServer(t *testing.T) {
	srv := bindtest.Start(t, "fabrikam.com")
	f := newFixture(t, &m365emulator.Options{DNSServer: srv.Addr})
	r := f.do(http.MethodPost, "/v1.0/domains", map[string]any{"id": "fabrikam.com"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Raw)

	r = f.do(http.MethodPost, "/v1.0/domains/fabrikam.com/verify", nil)
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Raw)
	_, msg := graphError(t, r)
	assert.Contains(t, msg, "could not be found")

	recs, err := f.tenant.VerificationRecords(t.Context(), "fabrikam.com")
	require.NoError(t, err)
	zone, err := rfc2136.New(rfc2136.Config{Server: srv.Addr, Zone: "fabrikam.com", KeyName: srv.KeyName, KeyAlgorithm: srv.KeyAlgorithm, KeySecret: srv.KeySecret}, nil)
	require.NoError(t, err)
	wrong := recs[0]
	wrong.Text = "MS=ms00000000"
	require.NoError(t, zone.Update(t.Context(), nil, []backend.DNSRecord{wrong}))
	r = f.do(http.MethodPost, "/v1.0/domains/fabrikam.com/verify", nil)
	require.Equal(t, http.StatusBadRequest, r.Status, "another token does not verify")

	require.NoError(t, zone.Update(t.Context(), nil, recs[:1]))
	r = f.do(http.MethodPost, "/v1.0/domains/fabrikam.com/verify", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	assert.Equal(t, true, r.JSON["isVerified"])
}

func TestSetDefaultAndReferences(t *testing.T) {
	f := newFixture(t, &m365emulator.Options{ReasonDetail: true})
	r := f.do(http.MethodPost, "/v1.0/domains", map[string]any{"id": "fabrikam.com"})
	require.Equal(t, http.StatusCreated, r.Status)
	r = f.do(http.MethodPatch, "/v1.0/domains/fabrikam.com", map[string]any{"isDefault": true})
	assert.Equal(t, http.StatusBadRequest, r.Status, "only verified domains can be updated: %s", r.Raw)
	assert.Equal(t, "domain-unverified", details(r)[m365emulator.ReasonTarget])
	r = f.do(http.MethodPatch, "/v1.0/domains/contoso.com", map[string]any{"isDefault": false})
	assert.Equal(t, http.StatusBadRequest, r.Status)
	r = f.do(http.MethodPatch, "/v1.0/domains/contoso.com", map[string]any{"authenticationType": "Federated"})
	assert.Equal(t, http.StatusBadRequest, r.Status)

	f.tenant.PublishVerification("fabrikam.com")
	r = f.do(http.MethodPost, "/v1.0/domains/fabrikam.com/verify", nil)
	require.Equal(t, http.StatusOK, r.Status)
	r = f.do(http.MethodPatch, "/v1.0/domains/fabrikam.com", map[string]any{"isDefault": true})
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Raw)
	r = f.do(http.MethodGet, "/v1.0/domains/fabrikam.com", nil)
	assert.Equal(t, true, r.JSON["isDefault"])
	r = f.do(http.MethodGet, "/v1.0/domains/contoso.com", nil)
	assert.Equal(t, false, r.JSON["isDefault"])

	u := f.addUser("ann", "Ann", func(nu *backend.NewOnlineUser) { nu.UserPrincipalName = "ann@fabrikam.com" })
	r = f.do(http.MethodGet, "/v1.0/domains/fabrikam.com/domainNameReferences", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	refs := values(t, r)
	require.Len(t, refs, 1)
	assert.Equal(t, "#microsoft.graph.user", refs[0]["@odata.type"])
	assert.Equal(t, u.ID, refs[0]["id"])

	r = f.do(http.MethodPatch, "/v1.0/domains/contoso.com", map[string]any{"isDefault": true})
	require.Equal(t, http.StatusNoContent, r.Status)
	r = f.do(http.MethodDelete, "/v1.0/domains/fabrikam.com", nil)
	assert.Equal(t, http.StatusBadRequest, r.Status, "a referenced domain cannot be deleted: %s", r.Raw)
}
