package m365emulator_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// batchReq is one request of a $batch body.
func batchReq(id, method, url string, body any, dependsOn ...string) map[string]any {
	m := map[string]any{"id": id, "method": method, "url": url}
	if body != nil {
		m["body"] = body
		m["headers"] = map[string]string{"Content-Type": "application/json"}
	}
	if dependsOn != nil {
		m["dependsOn"] = dependsOn
	}
	return m
}

// batchAnswers returns the batch's responses by id, asserting each has an
// id, a status and headers with Content-Type.
func batchAnswers(t *testing.T, r reply) (map[string]map[string]any, []string) {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	raw, ok := r.JSON["responses"].([]any)
	require.True(t, ok, "%s", r.Raw)
	out := map[string]map[string]any{}
	var order []string
	for _, a := range raw {
		m := a.(map[string]any)
		id := m["id"].(string)
		require.Contains(t, m, "status")
		h, ok := m["headers"].(map[string]any)
		require.True(t, ok, "headers of %s", id)
		assert.Equal(t, "application/json", h["Content-Type"])
		out[id] = m
		order = append(order, id)
	}
	return out, order
}

func status(m map[string]any) int { return int(m["status"].(float64)) }

func TestBatchParallelMixedResults(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser("taken", "Already There")
	body := map[string]any{"requests": []any{
		batchReq("c1d0e5a2-create", "POST", "/users", newUserBody("new1")),
		batchReq("dup", "POST", "/users", newUserBody("taken")),
		batchReq("usage", "PATCH", "/users/taken@contoso.com", map[string]any{"usageLocation": "NL"}),
		batchReq("get", "GET", "users/taken@contoso.com?$select=id,usageLocation", nil),
		batchReq("missing", "GET", "/users/nobody@contoso.com", nil),
		batchReq("absolute", "GET", "https://graph.microsoft.com/v1.0/users", nil),
	}}
	r := f.do(http.MethodPost, "/v1.0/$batch", gzipped(t, body), "Content-Encoding", "gzip")
	got, _ := batchAnswers(t, r)
	require.Len(t, got, 6)

	assert.Equal(t, 201, status(got["c1d0e5a2-create"]))
	assert.Equal(t, 400, status(got["dup"]))
	assert.Equal(t, 204, status(got["usage"]))
	assert.NotContains(t, got["usage"], "body")
	assert.Equal(t, 200, status(got["get"]))
	assert.Equal(t, 404, status(got["missing"]))
	assert.Equal(t, 400, status(got["absolute"]))
	assert.Equal(t, "NL", got["get"]["body"].(map[string]any)["usageLocation"])
	for _, id := range []string{"dup", "missing"} {
		e := got[id]["body"].(map[string]any)["error"].(map[string]any)
		assert.NotEmpty(t, e["code"], id)
		assert.NotEmpty(t, e["message"], id)
	}
	assert.Equal(t, "ObjectConflict", got["dup"]["body"].(map[string]any)["error"].(map[string]any)["details"].([]any)[0].(map[string]any)["code"])

	st := f.emu.Stats()
	assert.Equal(t, int64(1), st.Requests)
	assert.Equal(t, int64(6), st.BatchItems)
	assert.Equal(t, int64(2), st.WritesAccepted)
	assert.Equal(t, int64(2), st.Routes["POST /users"])
}

func TestBatchSequential(t *testing.T) {
	f := newFixture(t, nil)
	lic := map[string]any{"addLicenses": []any{map[string]any{"skuId": e3SKUID}}, "removeLicenses": []string{}}
	body := map[string]any{"requests": []any{
		batchReq("create", "POST", "/users", newUserBody("new1")),
		batchReq("usage", "PATCH", "/users/new1@contoso.com", map[string]any{"usageLocation": "NL"}, "create"),
		batchReq("lic", "POST", "users/new1@contoso.com/assignLicense", lic, "USAGE"),
		batchReq("get", "GET", "/users/new1@contoso.com?$select=id,usageLocation,assignedLicenses", nil, "lic"),
	}}
	got, _ := batchAnswers(t, f.do(http.MethodPost, "/v1.0/$batch", body))
	assert.Equal(t, 201, status(got["create"]))
	assert.Equal(t, 204, status(got["usage"]))
	assert.Equal(t, 200, status(got["lic"]))
	assert.Equal(t, 200, status(got["get"]))
	gotUser := got["get"]["body"].(map[string]any)
	assert.Equal(t, "NL", gotUser["usageLocation"])
	assert.Len(t, gotUser["assignedLicenses"], 1)

	// A failure stops the chain: the rest get 424 without running.
	f.addUser("taken", "Already There")
	body = map[string]any{"requests": []any{
		batchReq("dup", "POST", "/users", newUserBody("taken")),
		batchReq("lic", "POST", "/users/taken@contoso.com/assignLicense", lic, "dup"),
		batchReq("get", "GET", "/users/taken@contoso.com", nil, "lic"),
	}}
	got, _ = batchAnswers(t, f.do(http.MethodPost, "/v1.0/$batch", body))
	assert.Equal(t, 400, status(got["dup"]))
	assert.Equal(t, 424, status(got["lic"]))
	assert.Equal(t, 424, status(got["get"]))
	skus, err := f.tenant.SubscribedSKUs(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, skus[0].Consumed, "the licence after the failed create was not assigned")
}

// TestBatchRefusesMixedShapes: Graph answers 400 "Batch should be either
// fully sequential or fully parallel" (json-batching; microsoft-graph-docs
// issue 16280) to a batch mixing independent requests with dependsOn
// chains, and to a chain listed out of order.
func TestBatchRefusesMixedShapes(t *testing.T) {
	tests := []struct {
		name string
		reqs []any
	}{
		{"two independent chains", []any{
			batchReq("c1", "POST", "/users", newUserBody("a1")), batchReq("g1", "GET", "/users/a1@contoso.com", nil, "c1"),
			batchReq("c2", "POST", "/users", newUserBody("a2")), batchReq("g2", "GET", "/users/a2@contoso.com", nil, "c2"),
		}},
		{"one chain and an independent request", []any{
			batchReq("c1", "POST", "/users", newUserBody("a1")), batchReq("g1", "GET", "/users/a1@contoso.com", nil, "c1"),
			batchReq("org", "GET", "/organization", nil),
		}},
		{"a chain out of order", []any{
			batchReq("g1", "GET", "/users/a1@contoso.com", nil, "c1"), batchReq("c1", "POST", "/users", newUserBody("a1")),
		}},
		{"two requests depending on one", []any{
			batchReq("c1", "POST", "/users", newUserBody("a1")),
			batchReq("g1", "GET", "/users/a1@contoso.com", nil, "c1"), batchReq("g2", "GET", "/organization", nil, "c1"),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := f.do(http.MethodPost, "/v1.0/$batch", map[string]any{"requests": tc.reqs})
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Raw)
			code, msg := graphError(t, r)
			assert.Equal(t, "BadRequest", code)
			assert.Equal(t, "Batch should be either fully sequential or fully parallel.", msg)
			assert.Zero(t, f.emu.Stats().BatchItems, "nothing ran")
			_, err := f.tenant.GetUser(t.Context(), "a1@contoso.com")
			assert.Error(t, err, "no user was created")
		})
	}
}

func TestBatchRejected(t *testing.T) {
	many := make([]any, 21)
	for i := range many {
		many[i] = batchReq(fmt.Sprint(i), "GET", "/organization", nil)
	}
	tests := []struct {
		name string
		body any
	}{
		{"more than 20", map[string]any{"requests": many}},
		{"empty", map[string]any{"requests": []any{}}},
		{"duplicate ids ignoring case", map[string]any{"requests": []any{
			batchReq("a", "GET", "/organization", nil), batchReq("A", "GET", "/domains", nil)}}},
		{"unknown dependency", map[string]any{"requests": []any{batchReq("a", "GET", "/organization", nil, "b")}}},
		{"self dependency", map[string]any{"requests": []any{batchReq("a", "GET", "/organization", nil, "a")}}},
		{"cycle", map[string]any{"requests": []any{
			batchReq("a", "GET", "/organization", nil, "b"), batchReq("b", "GET", "/domains", nil, "a")}}},
		{"no url", map[string]any{"requests": []any{map[string]any{"id": "1", "method": "GET"}}}},
		{"nested batch", nil},
		{"not json", []byte("requests")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if tc.body == nil {
				r := f.do(http.MethodPost, "/v1.0/$batch", map[string]any{"requests": []any{batchReq("1", "POST", "/$batch", map[string]any{})}})
				got, _ := batchAnswers(t, r)
				assert.Equal(t, 400, status(got["1"]))
				return
			}
			r := f.do(http.MethodPost, "/v1.0/$batch", tc.body)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Raw)
			graphError(t, r)
			assert.Zero(t, f.emu.Stats().BatchItems, "nothing ran")
		})
	}

	t.Run("exactly 20", func(t *testing.T) {
		f := newFixture(t, nil)
		r := f.do(http.MethodPost, "/v1.0/$batch", map[string]any{"requests": many[:20]})
		got, _ := batchAnswers(t, r)
		assert.Len(t, got, 20)
	})
}

func TestBatchShuffle(t *testing.T) {
	reqs := make([]any, 10)
	ids := make([]string, 10)
	for i := range reqs {
		ids[i] = fmt.Sprintf("r%02d", i)
		reqs[i] = batchReq(ids[i], "GET", "/organization", nil)
	}
	body := map[string]any{"requests": reqs}

	plain := newFixture(t, nil)
	_, order := batchAnswers(t, plain.do(http.MethodPost, "/v1.0/$batch", body))
	assert.Equal(t, ids, order, "without shuffling, answers follow execution order")

	orders := make([][]string, 2)
	for i := range orders {
		f := newFixture(t, &m365emulator.Options{ShuffleBatch: true, Seed: 7})
		_, orders[i] = batchAnswers(t, f.do(http.MethodPost, "/v1.0/$batch", body))
		assert.ElementsMatch(t, ids, orders[i])
	}
	assert.NotEqual(t, ids, orders[0], "shuffled")
	assert.Equal(t, orders[0], orders[1], "the same seed shuffles the same way")
	assert.False(t, slices.Equal(orders[0], ids))
}
