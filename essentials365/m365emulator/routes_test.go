package m365emulator_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// TestDollarUPNAddressing: /users('$x@y.com') (quotes doubled inside)
// reaches the user; /users/$x@y.com is refused, as Graph reads '$' as a
// system segment (https://learn.microsoft.com/graph/api/user-get).
func TestDollarUPNAddressing(t *testing.T) {
	f := newFixture(t, nil)
	u := f.addUser("$o'neil", "Dollar", func(nu *backend.NewOnlineUser) { nu.MailNickname = "oneil" })
	r := f.do(http.MethodGet, "/v1.0/users('"+url.PathEscape("$o''neil@contoso.com")+"')", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	assert.Equal(t, u.ID, r.JSON["id"])
	r = f.do(http.MethodGet, "/v1.0/users('"+u.ID+"')", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	r = f.do(http.MethodGet, "/v1.0/users/$o'neil@contoso.com", nil)
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Raw)
	_, msg := graphError(t, r)
	assert.Equal(t, "Resource not found for the segment '$o'neil@contoso.com'.", msg)
	assert.Equal(t, int64(2), f.emu.Stats().Routes["GET /users/{id}"])
}

// TestOrganizationByID: GET /organization/{id} answers the organization
// (https://learn.microsoft.com/graph/api/organization-get), 404 for another
// id.
func TestOrganizationByID(t *testing.T) {
	f := newFixture(t, nil)
	r := f.do(http.MethodGet, "/v1.0/organization/"+testTenantID, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	assert.Equal(t, testTenantID, r.JSON["id"])
	assert.Equal(t, "Contoso", r.JSON["displayName"])
	assert.Equal(t, f.hs.URL+"/v1.0/$metadata#organization/$entity", r.JSON["@odata.context"])
	r = f.do(http.MethodGet, "/v1.0/organization/00000000-0000-0000-0000-000000000000", nil)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Raw)
	code, _ := graphError(t, r)
	assert.Equal(t, "Request_ResourceNotFound", code)
	r = f.do(http.MethodPatch, "/v1.0/organization/"+testTenantID, map[string]any{})
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
}

// TestStatsCountRequests: Stats counts the HTTP requests really served
// (a paged listing is one request per page), and ResetStats zeroes it.
func TestStatsCountRequests(t *testing.T) {
	f := newFixture(t, nil)
	for i := range 5 {
		f.addUser(fmt.Sprintf("s%d", i), "S")
	}
	r := f.do(http.MethodGet, "/v1.0/users?$top=2", nil)
	pages := 1
	for r.JSON["@odata.nextLink"] != nil {
		r = f.do(http.MethodGet, r.JSON["@odata.nextLink"].(string), nil)
		pages++
	}
	st := f.emu.Stats()
	assert.Equal(t, int64(3), st.Requests)
	assert.Equal(t, int64(pages), st.Routes["GET /users"])
	f.emu.ResetStats()
	st = f.emu.Stats()
	assert.Zero(t, st.Requests)
	assert.Empty(t, st.Routes)
	f.do(http.MethodGet, "/v1.0/organization", nil)
	assert.Equal(t, int64(1), f.emu.Stats().Requests)
}
