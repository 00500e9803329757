package m365emulator_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSelectOnDirectoryEntities: $select is applied on organization,
// subscribedSkus, domains and domain records (lists and entities), with
// the selection in @odata.context and the records' @odata.type kept; a
// property the type does not have is 400.
func TestSelectOnDirectoryEntities(t *testing.T) {
	f := newFixture(t, nil)
	skuID := values(t, f.do(http.MethodGet, "/v1.0/subscribedSkus", nil))[0]["id"].(string)
	for _, tc := range []struct {
		path    string
		want    []string
		context string
	}{
		{"/v1.0/organization?$select=id,displayName", []string{"displayName", "id"}, "/$metadata#organization(id,displayName)"},
		{"/v1.0/organization/" + testTenantID + "?$select=verifiedDomains", []string{"verifiedDomains"}, "/$metadata#organization(verifiedDomains)/$entity"},
		{"/v1.0/subscribedSkus?$select=skuId,consumedUnits", []string{"consumedUnits", "skuId"}, "/$metadata#subscribedSkus(skuId,consumedUnits)"},
		{"/v1.0/subscribedSkus/" + skuID + "?$select=prepaidUnits", []string{"prepaidUnits"}, "/$metadata#subscribedSkus(prepaidUnits)/$entity"},
		{"/v1.0/domains?$select=id,isVerified", []string{"id", "isVerified"}, "/$metadata#domains(id,isVerified)"},
		{"/v1.0/domains/contoso.com?$SELECT=ID", []string{"id"}, "/$metadata#domains(id)/$entity"},
		{"/v1.0/domains/contoso.com/serviceConfigurationRecords?$select=label,recordType", []string{"@odata.type", "label", "recordType"},
			"/$metadata#domains('contoso.com')/serviceConfigurationRecords(label,recordType)"},
	} {
		r := f.do(http.MethodGet, tc.path, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", tc.path, r.Raw)
		assert.Equal(t, f.hs.URL+"/v1.0"+tc.context, r.JSON["@odata.context"], tc.path)
		items := []map[string]any{r.JSON}
		if _, list := r.JSON["value"]; list {
			items = values(t, r)
			require.NotEmpty(t, items, tc.path)
		} else {
			delete(r.JSON, "@odata.context")
		}
		for _, it := range items {
			got := keys(it)
			slices.Sort(got)
			assert.Equal(t, tc.want, got, tc.path)
		}
	}
	for _, p := range []string{"/v1.0/organization?$select=nope", "/v1.0/subscribedSkus?$select=skuId,nope", "/v1.0/domains/contoso.com?$select=nope"} {
		r := f.do(http.MethodGet, p, nil)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", p, r.Raw)
		_, msg := graphError(t, r)
		assert.Contains(t, msg, "Could not find a property named 'nope'", p)
	}
	r := f.do(http.MethodGet, "/v1.0/domains/contoso.com?$filter=id%20eq%20'x'", nil)
	assert.Equal(t, http.StatusBadRequest, r.Status, "$filter on a domain entity is refused, not ignored: %s", r.Raw)
}
