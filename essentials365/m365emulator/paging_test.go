package m365emulator_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// TestDeltaForms: both spellings of the users delta function are served
// and the links use the form chosen; $top is ignored as Graph ignores it
// on users/delta; "Prefer: odata.maxpagesize" bounds every page of the
// round, also the pages reached through the links.
func TestDeltaForms(t *testing.T) {
	for _, tc := range []struct {
		form m365emulator.DeltaLinkForm
		path string
	}{{m365emulator.DeltaLinksPlain, "/users/delta()"}, {m365emulator.DeltaLinksQualified, "/users/microsoft.graph.delta()"}} {
		t.Run(tc.path, func(t *testing.T) {
			f := newFixture(t, &m365emulator.Options{DeltaLinks: tc.form})
			for i := range 5 {
				f.addUser(fmt.Sprintf("p%d", i), "P")
			}
			for _, p := range []string{"/v1.0/users/delta", "/v1.0/users/delta()", "/v1.0/users/microsoft.graph.delta()", "/v1.0/users/microsoft.graph.delta"} {
				r := f.do(http.MethodGet, p+"?$top=1", nil)
				require.Equal(t, http.StatusOK, r.Status, "%s: %s", p, r.Raw)
				assert.Len(t, values(t, r), 5, "%s: $top is ignored", p)
				assert.Contains(t, r.JSON["@odata.deltaLink"], f.hs.URL+"/v1.0"+tc.path+"?$deltatoken=")
			}
			r := f.do(http.MethodGet, "/v1.0/users/delta()", nil, "Prefer", "return=minimal, odata.maxpagesize=2")
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
			assert.Equal(t, "odata.maxpagesize=2", r.Header.Get("Preference-Applied"))
			seen := len(values(t, r))
			pages := 1
			for r.JSON["@odata.nextLink"] != nil {
				next := r.JSON["@odata.nextLink"].(string)
				assert.True(t, strings.HasPrefix(next, f.hs.URL+"/v1.0"+tc.path), next)
				r = f.do(http.MethodGet, next, nil)
				require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
				assert.LessOrEqual(t, len(values(t, r)), 2)
				seen += len(values(t, r))
				pages++
			}
			assert.Equal(t, 5, seen)
			assert.Equal(t, 3, pages)
		})
	}
}

// TestListMaxPageSize: "Prefer: odata.maxpagesize" sets the page size of
// GET /users when $top is absent, and the next links keep it.
func TestListMaxPageSize(t *testing.T) {
	f := newFixture(t, nil)
	for i := range 5 {
		f.addUser(fmt.Sprintf("m%d", i), "M")
	}
	r := f.do(http.MethodGet, "/v1.0/users", nil, "Prefer", "odata.maxpagesize=2")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	assert.Equal(t, "odata.maxpagesize=2", r.Header.Get("Preference-Applied"))
	assert.Len(t, values(t, r), 2)
	r = f.do(http.MethodGet, r.JSON["@odata.nextLink"].(string), nil)
	assert.Len(t, values(t, r), 2)
	r = f.do(http.MethodGet, r.JSON["@odata.nextLink"].(string), nil)
	assert.Len(t, values(t, r), 1)
	assert.Nil(t, r.JSON["@odata.nextLink"])
}

// TestQueryOptionNamesFoldCase: the names of system query options are
// read whatever their case ("$skipToken", as the Graph SDKs' request
// builders write it, "$TOP", "$Select"): a $skipToken is followed, not
// dropped for the first page again.
func TestQueryOptionNamesFoldCase(t *testing.T) {
	f := newFixture(t, nil)
	for i := range 3 {
		f.addUser(fmt.Sprintf("c%d", i), "C")
	}
	r := f.do(http.MethodGet, "/v1.0/users?$top=1", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	first := values(t, r)[0]["id"]
	next := r.JSON["@odata.nextLink"].(string)
	_, tok, ok := strings.Cut(next, "$skiptoken=")
	require.True(t, ok, next)

	r = f.do(http.MethodGet, "/v1.0/users?$TOP=1&$skipToken="+tok, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	page := values(t, r)
	require.Len(t, page, 1, "$TOP read")
	assert.NotEqual(t, first, page[0]["id"], "$skipToken was ignored: the first page came back")

	r = f.do(http.MethodGet, "/v1.0/users?$Select=id&$top=1", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	assert.Equal(t, []string{"id"}, keys(values(t, r)[0]), "$Select read")
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestListCount: $count=true with ConsistencyLevel: eventual adds
// @odata.count (every match, not the page) to each page; without the
// header the answer has no count, as Graph's advanced-query page shows;
// another value is 400.
func TestListCount(t *testing.T) {
	f := newFixture(t, nil)
	for i := range 5 {
		f.addUser(fmt.Sprintf("n%d", i), "N")
	}
	f.addUser("other", "Other")
	r := f.do(http.MethodGet, "/v1.0/users?$count=true&$top=2&$filter=startswith(displayName,'N')", nil, "ConsistencyLevel", "eventual")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	assert.Len(t, values(t, r), 2)
	assert.EqualValues(t, 5, r.JSON["@odata.count"])
	next := r.JSON["@odata.nextLink"].(string)
	assert.Contains(t, next, "$count=true")
	r = f.do(http.MethodGet, next, nil, "ConsistencyLevel", "eventual")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	assert.EqualValues(t, 5, r.JSON["@odata.count"], "the next page keeps the count")

	r = f.do(http.MethodGet, "/v1.0/users?$count=true", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	assert.NotContains(t, r.JSON, "@odata.count", "without ConsistencyLevel: eventual")
	assert.Len(t, values(t, r), 6)

	r = f.do(http.MethodGet, "/v1.0/users?$count=yes", nil, "ConsistencyLevel", "eventual")
	assert.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Raw)
}
