package m365emulator_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/m365emulator"
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
