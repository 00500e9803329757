package graphtenant

import (
	"net/http"
	"testing"
	"time"

	"github.com/essentials365/sdk/internal/testclock"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/pacer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDriverFeedsLimiter(t *testing.T) {
	clk := testclock.New()
	bs := &batchServer{t: t}
	bs.respond = func(i int, req map[string]any) (int, map[string]string, any) {
		if i == 0 {
			return 429, map[string]string{"Retry-After": "30"}, map[string]any{"error": map[string]any{"code": "TooManyRequests", "message": "slow"}}
		}
		return 201, nil, map[string]any{"id": "x"}
	}
	tn, _ := newWireTenant(t, bs, func(c *Config) {
		c.RateLimit = pacer.Config{Quota: 3000, Window: 150 * time.Second, Clock: clk}
	})
	_, errs := tn.CreateUsers(t.Context(), []backend.NewOnlineUser{{UserPrincipalName: "a@b.c"}})
	require.ErrorIs(t, errs[0], backend.ErrThrottled)
	assert.Equal(t, int64(1), tn.RateLimiter().Stats().Throttled)
	t0 := clk.Now()
	_, errs = tn.CreateUsers(t.Context(), []backend.NewOnlineUser{{UserPrincipalName: "a@b.c"}})
	require.NoError(t, errs[0])
	assert.GreaterOrEqual(t, clk.Now().Sub(t0), 30*time.Second)
}

// TestDriverReadsThrottlePercentage checks that the driver slows down when
// Graph reports that the tenant is near its limit.
func TestDriverReadsThrottlePercentage(t *testing.T) {
	clk := testclock.New()
	tn, _ := newWireTenant(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		readBody(t, r)
		w.Header().Set("x-ms-throttle-limit-percentage", "0.95")
		w.WriteHeader(http.StatusNoContent)
	}), func(c *Config) { c.RateLimit = pacer.Config{Quota: 3000, Window: 150 * time.Second, Clock: clk} })
	name := "New Name"
	require.NoError(t, tn.UpdateUser(t.Context(), "u1", backend.OnlineUserUpdate{DisplayName: &name}))
	s := tn.RateLimiter().Stats()
	assert.Equal(t, int64(1), s.Slowdowns)
	assert.Less(t, s.Factor, 1.0)
}
