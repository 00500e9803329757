package m365emulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

func TestUserLifecycle(t *testing.T) {
	f := newFixture(t, nil)

	created := f.do(http.MethodPost, "/v1.0/users", newUserBody("adele"))
	require.Equal(t, http.StatusCreated, created.Status, "%s", created.Raw)
	id, _ := created.JSON["id"].(string)
	require.NotEmpty(t, id)
	assert.Equal(t, "adele@contoso.com", created.JSON["userPrincipalName"])
	assert.Equal(t, f.hs.URL+"/v1.0/$metadata#users/$entity", created.JSON["@odata.context"])
	assert.NotContains(t, created.JSON, "accountEnabled", "accountEnabled is $select-only")
	assert.True(t, f.tenant.CheckPassword(id, testPassword))

	for _, key := range []string{id, "adele@contoso.com", url.PathEscape("ADELE@contoso.com")} {
		got := f.do(http.MethodGet, "/v1.0/users/"+key, nil)
		require.Equal(t, http.StatusOK, got.Status, "GET by %s", key)
		assert.Equal(t, id, got.JSON["id"])
	}

	patched := f.do(http.MethodPatch, "/v1.0/users/adele@contoso.com", map[string]any{
		"accountEnabled": false, "usageLocation": "FR", "displayName": "Adele V.",
		"passwordProfile": map[string]any{"password": "N3w-Passw0rd!x", "forceChangePasswordNextSignIn": false},
	})
	require.Equal(t, http.StatusNoContent, patched.Status, "%s", patched.Raw)
	assert.Empty(t, patched.Raw)
	assert.True(t, f.tenant.CheckPassword(id, "N3w-Passw0rd!x"))

	got := f.do(http.MethodGet, "/v1.0/users/"+id+"?$select=id,accountEnabled,usageLocation,displayName,lastPasswordChangeDateTime", nil)
	require.Equal(t, http.StatusOK, got.Status)
	assert.Equal(t, false, got.JSON["accountEnabled"])
	assert.Equal(t, "FR", got.JSON["usageLocation"])
	assert.Equal(t, "Adele V.", got.JSON["displayName"])
	assert.Equal(t, "2025-03-14T09:26:53Z", got.JSON["lastPasswordChangeDateTime"])
	assert.NotContains(t, got.JSON, "userPrincipalName", "only selected properties are returned")

	lic := f.do(http.MethodPost, "/v1.0/users/"+id+"/assignLicense", map[string]any{
		"addLicenses":    []any{map[string]any{"skuId": e3SKUID, "disabledPlans": []string{e3PlanSPO}}},
		"removeLicenses": []string{},
	})
	require.Equal(t, http.StatusOK, lic.Status, "%s", lic.Raw)
	assert.Equal(t, id, lic.JSON["id"])
	got = f.do(http.MethodGet, "/v1.0/users/"+id+"?$select=assignedLicenses", nil)
	assert.Equal(t, []any{map[string]any{"skuId": e3SKUID, "disabledPlans": []any{e3PlanSPO}}}, got.JSON["assignedLicenses"])

	del := f.do(http.MethodDelete, "/v1.0/users/"+id, nil)
	require.Equal(t, http.StatusNoContent, del.Status)
	gone := f.do(http.MethodGet, "/v1.0/users/"+id, nil)
	assert.Equal(t, http.StatusNotFound, gone.Status)

	deleted := f.do(http.MethodGet, "/v1.0/directory/deletedItems/microsoft.graph.user", nil)
	require.Equal(t, http.StatusOK, deleted.Status)
	vs := values(t, deleted)
	require.Len(t, vs, 1)
	assert.Equal(t, id, vs[0]["id"])
	assert.Equal(t, "2025-03-14T09:26:53Z", vs[0]["deletedDateTime"])
	// msgraph-sdk-go sends the short cast "graph.user"; Graph accepts both.
	short := f.do(http.MethodGet, "/v1.0/directory/deletedItems/graph.user", nil)
	require.Equal(t, http.StatusOK, short.Status, "%s", short.Raw)
	assert.Equal(t, vs, values(t, short))

	restored := f.do(http.MethodPost, "/v1.0/directory/deletedItems/"+id+"/restore", nil)
	require.Equal(t, http.StatusOK, restored.Status, "%s", restored.Raw)
	assert.Equal(t, "#microsoft.graph.user", restored.JSON["@odata.type"])
	assert.Equal(t, http.StatusOK, f.do(http.MethodGet, "/v1.0/users/"+id, nil).Status)
}

func TestGzipRequestBody(t *testing.T) {
	f := newFixture(t, nil)
	r := f.do(http.MethodPost, "/v1.0/users", gzipped(t, newUserBody("gz")),
		"Content-Encoding", "gzip", "Content-Type", "application/json")
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Raw)
	assert.Equal(t, "gz@contoso.com", r.JSON["userPrincipalName"])

	r = f.do(http.MethodPatch, "/v1.0/users/gz@contoso.com", gzipped(t, map[string]any{"usageLocation": "DE"}),
		"Content-Encoding", "gzip")
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Raw)
	u, err := f.tenant.GetUser(t.Context(), "gz@contoso.com")
	require.NoError(t, err)
	assert.Equal(t, "DE", u.UsageLocation)

	r = f.do(http.MethodPost, "/v1.0/users", []byte("not gzip"), "Content-Encoding", "gzip")
	assert.Equal(t, http.StatusBadRequest, r.Status)
	graphError(t, r)

	r = f.do(http.MethodPost, "/v1.0/users", []byte("{}"), "Content-Encoding", "br")
	assert.Equal(t, http.StatusUnsupportedMediaType, r.Status)
	graphError(t, r)
}

func TestSelectOnlyProperties(t *testing.T) {
	f := newFixture(t, &m365emulator.Options{Mail: nil})
	u := f.addUser("megan", "Megan Bowen", func(nu *backend.NewOnlineUser) {
		nu.UsageLocation = "US"
		nu.ImmutableID = "AAECAwQFBgcICQoLDA0ODw=="
	})
	selectOnly := []string{"usageLocation", "assignedLicenses", "lastPasswordChangeDateTime", "onPremisesImmutableId", "proxyAddresses", "accountEnabled", "mailNickname"}

	def := f.do(http.MethodGet, "/v1.0/users/"+u.ID, nil)
	require.Equal(t, http.StatusOK, def.Status)
	for _, p := range selectOnly {
		assert.NotContains(t, def.JSON, p)
	}
	sel := f.do(http.MethodGet, "/v1.0/users/"+u.ID+"?$select="+strings.Join(selectOnly, ","), nil)
	require.Equal(t, http.StatusOK, sel.Status)
	for _, p := range selectOnly {
		assert.Contains(t, sel.JSON, p)
	}
	assert.Equal(t, "AAECAwQFBgcICQoLDA0ODw==", sel.JSON["onPremisesImmutableId"])
	assert.Equal(t, true, sel.JSON["accountEnabled"])

	bad := f.do(http.MethodGet, "/v1.0/users/"+u.ID+"?$select=shoeSize", nil)
	assert.Equal(t, http.StatusBadRequest, bad.Status)
	_, msg := graphError(t, bad)
	assert.Contains(t, msg, "shoeSize")
}

func TestProxyAddressesFromMail(t *testing.T) {
	f := newFixture(t, nil)
	u := f.addUser("alex", "Alex Wilber")
	require.NoError(t, f.tenant.Mail().AddAlias(t.Context(), u.UserPrincipalName, "sales@contoso.com"))
	emu := m365emulator.New(f.tenant, &m365emulator.Options{Mail: f.tenant.Mail()})
	f.hs.Config.Handler = emu
	r := f.do(http.MethodGet, "/v1.0/users/"+u.ID+"?$select=proxyAddresses", nil)
	require.Equal(t, http.StatusOK, r.Status)
	got := r.JSON["proxyAddresses"].([]any)
	assert.Contains(t, got, "smtp:sales@contoso.com")
}

func TestFilters(t *testing.T) {
	f := newFixture(t, nil)
	imm := backend.NewGUID().ImmutableID()
	adele := f.addUser("adele", "Adele Vance", func(nu *backend.NewOnlineUser) { nu.ImmutableID = imm })
	f.addUser("alex", "Alex Wilber")
	f.addUser("ben", "Ben Walters")

	tests := []struct {
		name   string
		filter string
		status int
		code   string
		upns   []string
	}{
		{"upn eq", "userPrincipalName eq 'adele@contoso.com'", 200, "", []string{"adele@contoso.com"}},
		{"upn eq other case", "userPrincipalName eq 'ADELE@contoso.com'", 200, "", []string{"adele@contoso.com"}},
		{"upn eq none", "userPrincipalName eq 'nobody@contoso.com'", 200, "", nil},
		{"immutable id eq", "onPremisesImmutableId eq '" + imm + "'", 200, "", []string{"adele@contoso.com"}},
		{"id eq", "id eq '" + adele.ID + "'", 200, "", []string{"adele@contoso.com"}},
		{"startswith", "startswith(userPrincipalName,'a')", 200, "", []string{"adele@contoso.com", "alex@contoso.com"}},
		{"startswith displayName", "startswith(displayName, 'Ben')", 200, "", []string{"ben@contoso.com"}},
		{"quote escaping", "displayName eq 'O''Brien'", 200, "", nil},
		{"unsupported property", "jobTitle eq 'CEO'", 400, "Request_UnsupportedQuery", nil},
		{"unsupported operator", "userPrincipalName ne 'a@contoso.com'", 400, "Request_UnsupportedQuery", nil},
		{"unsupported operand", "accountEnabled eq true", 400, "Request_UnsupportedQuery", nil},
		{"compound", "userPrincipalName eq 'a@contoso.com' or userPrincipalName eq 'b@contoso.com'", 400, "Request_UnsupportedQuery", nil},
		{"endswith", "endswith(mail,'@contoso.com')", 400, "BadRequest", nil},
		{"malformed", "startswith(userPrincipalName,'a'", 400, "BadRequest", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(http.MethodGet, "/v1.0/users?$filter="+url.QueryEscape(tc.filter), nil)
			require.Equal(t, tc.status, r.Status, "%s", r.Raw)
			if tc.status != 200 {
				code, _ := graphError(t, r)
				assert.Equal(t, tc.code, code)
				return
			}
			var upns []string
			for _, v := range values(t, r) {
				upns = append(upns, v["userPrincipalName"].(string))
			}
			assert.Equal(t, tc.upns, upns)
		})
	}

	for _, q := range []string{"$orderby=displayName", "$count=yes", "$search=%22displayName:a%22", "$expand=manager", "$top=0", "$top=1000"} {
		t.Run("rejects "+q, func(t *testing.T) {
			r := f.do(http.MethodGet, "/v1.0/users?"+q, nil)
			assert.Equal(t, http.StatusBadRequest, r.Status)
			graphError(t, r)
		})
	}
}

func TestPagingAbsoluteLinks(t *testing.T) {
	f := newFixture(t, &m365emulator.Options{PageSize: 3})
	var want []string
	for _, n := range []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7"} {
		want = append(want, f.addUser(n, "User "+n).UserPrincipalName)
	}
	tests := []struct {
		name  string
		first string
		pages int
		want  []string
	}{
		{"default page size", "/v1.0/users", 3, want},
		{"top", "/v1.0/users?$top=2&$select=id,userPrincipalName", 4, want},
		{"filtered", "/v1.0/users?$top=2&$filter=" + url.QueryEscape("startswith(userPrincipalName,'u')"), 4, want},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			next, pages := tc.first, 0
			for next != "" {
				r := f.do(http.MethodGet, next, nil)
				require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
				pages++
				for _, v := range values(t, r) {
					got = append(got, v["userPrincipalName"].(string))
				}
				next, _ = r.JSON["@odata.nextLink"].(string)
				if next != "" {
					assert.True(t, strings.HasPrefix(next, f.hs.URL+"/v1.0/users?"), "absolute link: %s", next)
					assert.Contains(t, next, "$skiptoken=")
				}
			}
			assert.Equal(t, tc.pages, pages)
			assert.Equal(t, tc.want, got)
		})
	}

	r := f.do(http.MethodGet, "/v1.0/users?$skiptoken=garbage", nil)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	graphError(t, r)
}

func TestDelta(t *testing.T) {
	f := newFixture(t, nil, fixtureOptions{tenantPageSize: 2})
	a := f.addUser("a", "User A")
	b := f.addUser("b", "User B")
	f.addUser("c", "User C")

	// round collects one delta round from start, following nextLinks.
	round := func(start string) (items []map[string]any, deltaLink string) {
		next := start
		for next != "" {
			r := f.do(http.MethodGet, next, nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
			items = append(items, values(t, r)...)
			next, _ = r.JSON["@odata.nextLink"].(string)
			if next != "" {
				assert.True(t, strings.HasPrefix(next, f.hs.URL+"/v1.0/users/delta()?$skiptoken="), next)
				assert.NotContains(t, r.JSON, "@odata.deltaLink")
			} else {
				deltaLink, _ = r.JSON["@odata.deltaLink"].(string)
			}
		}
		require.True(t, strings.HasPrefix(deltaLink, f.hs.URL+"/v1.0/users/delta()?$deltatoken="), deltaLink)
		return items, deltaLink
	}

	items, link := round("/v1.0/users/delta()?$select=displayName,accountEnabled")
	require.Len(t, items, 3)
	for _, it := range items {
		assert.Contains(t, it, "id")
		assert.Contains(t, it, "accountEnabled", "the round's $select is kept across pages")
		assert.NotContains(t, it, "userPrincipalName")
	}

	items, link = round(link)
	assert.Empty(t, items, "nothing changed")

	require.NoError(t, f.tenant.DeleteUser(t.Context(), a.ID))
	require.NoError(t, f.tenant.ChangePasswordInPortal(t.Context(), b.ID, "An0ther-Passw0rd!"))
	items, link = round(link)
	require.Len(t, items, 2)
	byID := map[string]map[string]any{}
	for _, it := range items {
		byID[it["id"].(string)] = it
	}
	assert.Equal(t, map[string]any{"reason": "changed"}, byID[a.ID]["@removed"])
	assert.Equal(t, "User B", byID[b.ID]["displayName"])

	// Thirty days later the deleted user is purged: reason "deleted".
	f.clock.Advance(31 * 24 * time.Hour)
	_, err := f.tenant.ListDeletedUsers(t.Context()) // purges lazily
	require.NoError(t, err)
	items, _ = round(link)
	require.Len(t, items, 1)
	assert.Equal(t, map[string]any{"reason": "deleted"}, items[0]["@removed"])

	// /users/delta without parentheses is the same route.
	r := f.do(http.MethodGet, "/v1.0/users/delta", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Len(t, values(t, r), 2)
	assert.Contains(t, r.JSON, "@odata.deltaLink")

	r = f.do(http.MethodGet, "/v1.0/users/delta()?$deltatoken=bm9wZQ", nil)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	graphError(t, r)
}

func TestConcurrentRequests(t *testing.T) {
	f := newFixture(t, nil, fixtureOptions{seats: 50})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			local := "c" + string(rune('a'+i))
			r := f.do(http.MethodPost, "/v1.0/users", newUserBody(local))
			assert.Equal(t, http.StatusCreated, r.Status)
			r = f.do(http.MethodGet, "/v1.0/users?$filter="+url.QueryEscape("userPrincipalName eq '"+local+"@contoso.com'"), nil)
			assert.Equal(t, http.StatusOK, r.Status)
		})
	}
	wg.Wait()
	st := f.emu.Stats()
	assert.Equal(t, int64(32), st.Requests)
	assert.Equal(t, int64(16), st.WritesAccepted)
	assert.Equal(t, int64(16), st.Routes["POST /users"])
	assert.Equal(t, int64(16), st.Routes["GET /users"])
}
