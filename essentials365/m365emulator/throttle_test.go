package m365emulator_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/m365emulator"
)

func TestResourceUnitCosts(t *testing.T) {
	f := newFixture(t, nil)
	u := f.addUser("cost", "Cost User")
	tests := []struct {
		method, path string
		body         any
		want         string
	}{
		{"GET", "/v1.0/users", nil, "2"},
		{"GET", "/v1.0/users?$select=id", nil, "1"},
		{"GET", "/v1.0/users?$top=5", nil, "1"},
		{"GET", "/v1.0/users?$top=50", nil, "2"},
		{"GET", "/v1.0/users/delta()", nil, "2"},
		{"GET", "/v1.0/users/" + u.ID, nil, "1"},
		{"GET", "/v1.0/subscribedSkus", nil, "3"},
		{"GET", "/v1.0/subscribedSkus?$select=skuId", nil, "2"},
		{"GET", "/v1.0/domains", nil, "1"},
		{"PATCH", "/v1.0/users/" + u.ID, map[string]any{"usageLocation": "US"}, "1"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := f.do(tc.method, tc.path, tc.body)
			require.Less(t, r.Status, 300, "%s", r.Raw)
			assert.Equal(t, tc.want, r.Header.Get("x-ms-resource-unit"))
		})
	}
	t.Run("batch sums its items", func(t *testing.T) {
		r := f.do(http.MethodPost, "/v1.0/$batch", map[string]any{"requests": []any{
			batchReq("1", "GET", "/subscribedSkus", nil), batchReq("2", "GET", "/users", nil)}})
		got, _ := batchAnswers(t, r)
		assert.Equal(t, "3", got["1"]["headers"].(map[string]any)["x-ms-resource-unit"])
		assert.Equal(t, "5", r.Header.Get("x-ms-resource-unit"))
	})
	t.Run("answers that reach no route", func(t *testing.T) {
		r := f.do(http.MethodGet, "/v1.0/groups", nil)
		assert.Equal(t, "1", r.Header.Get("x-ms-resource-unit"))
	})
}

func TestWriteQuota(t *testing.T) {
	f := newFixture(t, &m365emulator.Options{Throttling: &m365emulator.Quota{Writes: 3, WriteWindow: 30 * time.Second}}, fixtureOptions{seats: 10})
	const token = "eyJhbGciOiJub25lIn0.eyJhcHBpZCI6ImFwcC0xMjMifQ." // {"appid":"app-123"}
	f.token = token
	for i := range 3 {
		r := f.do(http.MethodPost, "/v1.0/users", newUserBody(fmt.Sprint("w", i)))
		require.Equal(t, http.StatusCreated, r.Status, "write %d: %s", i, r.Raw)
		if i == 2 {
			assert.Equal(t, "1.0", r.Header.Get("x-ms-throttle-limit-percentage"), "above 80%% of the quota")
		} else {
			assert.Empty(t, r.Header.Get("x-ms-throttle-limit-percentage"))
		}
	}
	r := f.do(http.MethodPost, "/v1.0/users", newUserBody("w3"))
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	code, msg := graphError(t, r)
	assert.Equal(t, "TooManyRequests", code)
	assert.Contains(t, msg, "app-123")
	assert.Equal(t, "10", r.Header.Get("Retry-After"), "one write refills in 30 s / 3")
	assert.Equal(t, "WriteLimitExceeded", r.Header.Get("x-ms-throttle-information"))
	assert.Equal(t, "Tenant_Application/ReadWrite/app-123/"+testTenantID, r.Header.Get("x-ms-throttle-scope"))
	_, err := f.tenant.GetUser(t.Context(), "w3@contoso.com")
	require.Error(t, err, "a throttled write does not run")

	// Reads are not writes: they still pass.
	assert.Equal(t, http.StatusOK, f.do(http.MethodGet, "/v1.0/domains", nil).Status)
	// Another application has its own buckets.
	f.token = "another-app-token"
	assert.Equal(t, http.StatusCreated, f.do(http.MethodPost, "/v1.0/users", newUserBody("other")).Status)

	f.token = token
	f.clock.Advance(10 * time.Second)
	assert.Equal(t, http.StatusCreated, f.do(http.MethodPost, "/v1.0/users", newUserBody("w3")).Status)
	assert.Equal(t, int64(1), f.emu.Stats().Throttled)
}

func TestResourceUnitQuotaScaledAndBatchItems(t *testing.T) {
	f := newFixture(t, &m365emulator.Options{
		Throttling:     &m365emulator.Quota{ResourceUnits: 7, Window: 100 * time.Second, Scale: 0.01},
		ZeroRetryAfter: true,
	})
	// 3 RU each: the third request finds only 1 RU left.
	assert.Equal(t, http.StatusOK, f.do(http.MethodGet, "/v1.0/subscribedSkus", nil).Status)
	assert.Equal(t, http.StatusOK, f.do(http.MethodGet, "/v1.0/subscribedSkus", nil).Status)
	r := f.do(http.MethodGet, "/v1.0/subscribedSkus", nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "0", r.Header.Get("Retry-After"), "ZeroRetryAfter")
	assert.Equal(t, "ResourceUnitLimitExceeded", r.Header.Get("x-ms-throttle-information"))

	// Scale 0.01 turns the 100 s window into 1 s: 7 RU refill in a second.
	f.clock.Advance(time.Second)
	body := map[string]any{"requests": []any{
		batchReq("1", "GET", "/subscribedSkus", nil),
		batchReq("2", "GET", "/subscribedSkus", nil),
		batchReq("3", "GET", "/subscribedSkus", nil),
	}}
	got, _ := batchAnswers(t, f.do(http.MethodPost, "/v1.0/$batch", body))
	assert.Equal(t, 200, status(got["1"]))
	assert.Equal(t, 200, status(got["2"]))
	assert.Equal(t, 429, status(got["3"]), "each item is charged; one is throttled, the others succeed")
	assert.Equal(t, "0", got["3"]["headers"].(map[string]any)["Retry-After"])
	assert.Equal(t, int64(2), f.emu.Stats().Throttled)
}

func TestRetryAfterRoundsUp(t *testing.T) {
	f := newFixture(t, &m365emulator.Options{Throttling: &m365emulator.Quota{ResourceUnits: 1, Window: time.Second, Scale: 0.1}})
	assert.Equal(t, http.StatusOK, f.do(http.MethodGet, "/v1.0/domains", nil).Status)
	r := f.do(http.MethodGet, "/v1.0/domains", nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "0.1", r.Header.Get("Retry-After"), "Graph's 1 s (1 RU refills in 1 s), scaled by 0.1")

	f = newFixture(t, &m365emulator.Options{Throttling: &m365emulator.Quota{ResourceUnits: 4, Window: time.Second}})
	for range 4 {
		assert.Equal(t, http.StatusOK, f.do(http.MethodGet, "/v1.0/domains", nil).Status)
	}
	r = f.do(http.MethodGet, "/v1.0/domains", nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "1", r.Header.Get("Retry-After"), "0.25 s rounds up to 1 s")
}

func TestQuotaStartEmpty(t *testing.T) {
	f := newFixture(t, &m365emulator.Options{Throttling: &m365emulator.Quota{Writes: 10, WriteWindow: 10 * time.Second, StartEmpty: true}})
	r := f.do(http.MethodPost, "/v1.0/users", newUserBody("e0"))
	require.Equal(t, http.StatusTooManyRequests, r.Status, "the bucket starts empty")
	assert.Equal(t, "1", r.Header.Get("Retry-After"))
	f.clock.Advance(time.Second)
	assert.Equal(t, http.StatusCreated, f.do(http.MethodPost, "/v1.0/users", newUserBody("e0")).Status, "one write refilled in 1 s")
	assert.Equal(t, http.StatusTooManyRequests, f.do(http.MethodPost, "/v1.0/users", newUserBody("e1")).Status)
}

// statuses sends n PATCH requests and returns their statuses ("reset" for
// a closed connection).
func statuses(t *testing.T, f *fixture, id string, n int) []string {
	t.Helper()
	var out []string
	for range n {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPatch, f.hs.URL+"/v1.0/users/"+id,
			strings.NewReader(`{"usageLocation":"US"}`))
		require.NoError(t, err)
		resp, err := f.hs.Client().Do(req)
		if err != nil {
			out = append(out, "reset")
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out = append(out, fmt.Sprint(resp.StatusCode))
	}
	return out
}

func TestRateFaultsAreReproducible(t *testing.T) {
	run := func(seed uint64) ([]string, m365emulator.Stats) {
		f := newFixture(t, &m365emulator.Options{Seed: seed, ZeroRetryAfter: true, Faults: &m365emulator.Faults{
			Rate:  0.4,
			Kinds: []m365emulator.FaultKind{m365emulator.FaultThrottle, m365emulator.FaultUnavailable, m365emulator.FaultReset},
		}})
		u := f.addUser("fault", "Fault User")
		return statuses(t, f, u.ID, 30), f.emu.Stats()
	}
	a, sa := run(42)
	b, _ := run(42)
	c, _ := run(43)
	assert.Equal(t, a, b, "the same seed gives the same faults")
	assert.NotEqual(t, a, c, "another seed gives other faults")
	assert.Contains(t, a, "204")
	assert.Contains(t, a, "429")
	assert.Contains(t, a, "503")
	assert.Contains(t, a, "reset")
	count := func(s string) (n int64) {
		for _, x := range a {
			if x == s {
				n++
			}
		}
		return n
	}
	assert.Equal(t, count("429"), sa.Throttled)
	assert.Equal(t, count("503"), sa.Unavailable)
	assert.Equal(t, count("reset"), sa.Resets)
	assert.Equal(t, count("204"), sa.WritesAccepted)

	// Reads are not eligible unless asked for.
	f := newFixture(t, &m365emulator.Options{Faults: &m365emulator.Faults{Rate: 1}})
	assert.Equal(t, http.StatusOK, f.do(http.MethodGet, "/v1.0/organization", nil).Status)
}

func TestScriptedFaults(t *testing.T) {
	f := newFixture(t, nil)
	f.emu.Script(
		m365emulator.ScriptedFault{Method: "POST", PathPrefix: "/users", Kind: m365emulator.FaultUnavailable, Count: 2, RetryAfter: 4 * time.Second},
		m365emulator.ScriptedFault{Method: "GET", PathPrefix: "/domains", Kind: m365emulator.FaultThrottle},
	)
	assert.Equal(t, 3, f.emu.Pending())

	assert.Equal(t, http.StatusOK, f.do(http.MethodGet, "/v1.0/users", nil).Status, "GET does not match POST")
	for range 2 {
		r := f.do(http.MethodPost, "/v1.0/users", newUserBody("s1"))
		require.Equal(t, http.StatusServiceUnavailable, r.Status)
		assert.Equal(t, "4", r.Header.Get("Retry-After"))
		code, _ := graphError(t, r)
		assert.Equal(t, "serviceNotAvailable", code)
	}
	assert.Equal(t, http.StatusCreated, f.do(http.MethodPost, "/v1.0/users", newUserBody("s1")).Status)

	// A scripted fault also matches a batch item.
	got, _ := batchAnswers(t, f.do(http.MethodPost, "/v1.0/$batch", map[string]any{"requests": []any{
		batchReq("d", "GET", "/domains", nil), batchReq("o", "GET", "/organization", nil)}}))
	assert.Equal(t, 429, status(got["d"]))
	assert.Equal(t, 200, status(got["o"]))
	assert.Zero(t, f.emu.Pending())
}

func TestResetAfterAppliesTheWrite(t *testing.T) {
	f := newFixture(t, nil)
	f.emu.Script(m365emulator.ScriptedFault{Method: "POST", PathPrefix: "/users", Kind: m365emulator.FaultResetAfter})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.hs.URL+"/v1.0/users",
		strings.NewReader(`{"accountEnabled":true,"displayName":"R","mailNickname":"r","userPrincipalName":"r@contoso.com","passwordProfile":{"password":"`+testPassword+`"}}`))
	require.NoError(t, err)
	_, err = f.hs.Client().Do(req)
	require.Error(t, err, "the connection is closed without an answer")
	_, err = f.tenant.GetUser(t.Context(), "r@contoso.com")
	require.NoError(t, err, "yet the user was created")
	assert.Equal(t, int64(1), f.emu.Stats().Resets)
}

func TestLatencyAndSlowFault(t *testing.T) {
	f := newFixture(t, &m365emulator.Options{ReadLatency: 40 * time.Millisecond})
	start := time.Now()
	assert.Equal(t, http.StatusOK, f.do(http.MethodGet, "/v1.0/organization", nil).Status)
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)

	f.emu.Script(m365emulator.ScriptedFault{Kind: m365emulator.FaultSlow, Delay: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.hs.URL+"/v1.0/organization", nil)
	require.NoError(t, err)
	start = time.Now()
	_, err = f.hs.Client().Do(req)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
	assert.Less(t, time.Since(start), 5*time.Second, "the slow fault waits for the client, not a minute")
}
