package m365emulator

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Quota is Microsoft Graph's identity-and-access throttling for one
// application in one tenant, enforced as two token buckets: resource units
// and writes. Each bucket starts full (or empty with StartEmpty) and
// refills continuously over its window.
//
// A request costs resource units by route, as Graph documents: GET /users
// (list and delta) 2, GET /subscribedSkus 3, any other GET 1, and a write
// (POST, PATCH, PUT, DELETE) 1 plus one write. $select takes 1 off, $expand
// adds 1, a $top under 20 takes 1 off; a request never costs less than 1.
// Every answer carries the cost in x-ms-resource-unit. Each item of a
// $batch is charged on its own (the $batch itself costs nothing), and an
// item over the quota gets its own 429 while the others succeed.
//
// Over the quota, the answer is 429 TooManyRequests with Retry-After (in
// whole seconds, rounded up, at least 1 unless [Options].ZeroRetryAfter),
// x-ms-throttle-scope and x-ms-throttle-information. Once a bucket is more
// than 80% used, answers carry x-ms-throttle-limit-percentage.
type Quota struct {
	// ResourceUnits is the bucket per Window; 0 means 3,500, Graph's
	// quota for a small tenant (under 50 users). Medium tenants (50–500
	// users) have 5,000 and large ones 8,000.
	ResourceUnits int
	// Window is the resource-unit window; 0 means 10 s.
	Window time.Duration
	// Writes is the write bucket per WriteWindow; 0 means 3,000.
	Writes int
	// WriteWindow is the write window; 0 means 150 s.
	WriteWindow time.Duration
	// Scale multiplies both windows (0 means 1): 0.01 makes the quotas
	// refill a hundred times faster, for tests and benchmarks. Retry-After
	// is scaled too: Graph's whole seconds times Scale, written as a
	// decimal ("0.02").
	Scale float64
	// StartEmpty starts both buckets empty, so that what a client gets
	// through is the refill rate from the first request on (a full bucket
	// admits a burst of a whole window's quota first, which flatters a
	// short benchmark).
	StartEmpty bool
}

func (q Quota) withDefaults() Quota {
	if q.ResourceUnits <= 0 {
		q.ResourceUnits = 3500
	}
	if q.Window <= 0 {
		q.Window = 10 * time.Second
	}
	if q.Writes <= 0 {
		q.Writes = 3000
	}
	if q.WriteWindow <= 0 {
		q.WriteWindow = 150 * time.Second
	}
	if q.Scale <= 0 {
		q.Scale = 1
	}
	return q
}

// bucket is a token bucket refilled continuously.
type bucket struct {
	empty    bool // starts empty
	capacity float64
	window   time.Duration
	tokens   float64
	last     time.Time
}

func (b *bucket) refill(now time.Time) {
	if b.last.IsZero() {
		b.tokens, b.last = b.capacity, now
		if b.empty {
			b.tokens = 0
		}
		return
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.capacity, b.tokens+b.capacity*float64(el)/float64(b.window))
		b.last = now
	}
}

// wait is how long until the bucket holds need tokens.
func (b *bucket) wait(need float64) time.Duration {
	deficit := need - b.tokens
	if deficit <= 0 {
		return 0
	}
	return time.Duration(deficit / b.capacity * float64(b.window))
}

func (b *bucket) used() float64 { return 1 - b.tokens/b.capacity }

type pair struct{ ru, writes bucket }

// throttler holds the buckets of each app+tenant pair.
type throttler struct {
	q     Quota
	mu    sync.Mutex
	pairs map[string]*pair
}

func newThrottler(q Quota) *throttler {
	return &throttler{q: q.withDefaults(), pairs: map[string]*pair{}}
}

func (t *throttler) pair(key string, now time.Time) *pair {
	p, ok := t.pairs[key]
	if !ok {
		scale := func(d time.Duration) time.Duration { return max(time.Duration(float64(d)*t.q.Scale), time.Millisecond) }
		p = &pair{
			ru:     bucket{capacity: float64(t.q.ResourceUnits), window: scale(t.q.Window), empty: t.q.StartEmpty},
			writes: bucket{capacity: float64(t.q.Writes), window: scale(t.q.WriteWindow), empty: t.q.StartEmpty},
		}
		t.pairs[key] = p
	}
	p.ru.refill(now)
	p.writes.refill(now)
	return p
}

// take charges ru resource units (and one write when write is set) to key.
// When a bucket is short, nothing is charged and take returns the wait and
// which limit was hit.
func (t *throttler) take(key string, ru int, write bool, now time.Time) (time.Duration, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pair(key, now)
	if write && p.writes.tokens < 1 {
		return max(p.writes.wait(1), p.ru.wait(float64(ru))), "WriteLimitExceeded"
	}
	if p.ru.tokens < float64(ru) {
		return p.ru.wait(float64(ru)), "ResourceUnitLimitExceeded"
	}
	p.ru.tokens -= float64(ru)
	if write {
		p.writes.tokens--
	}
	return 0, ""
}

// usage is the larger used fraction of key's two buckets.
func (t *throttler) usage(key string, now time.Time) float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pair(key, now)
	return max(p.ru.used(), p.writes.used())
}

// checkQuota charges the request and answers 429 when it is over quota.
func (s *Server) checkQuota(req *request, rt route, key string, ru int) *response {
	wait, info := s.throttle.take(key, ru, rt.write, s.now())
	if info == "" {
		return nil
	}
	app, tenant, _ := strings.Cut(key, "/")
	category := "readwrite"
	if info == "WriteLimitExceeded" {
		category = "write"
	}
	resp := s.fail(req, http.StatusTooManyRequests, "TooManyRequests",
		fmt.Sprintf(msgTooManyRequests, app+"+"+tenant, category), nil)
	resp.setHeader("Retry-After", s.quotaRetryAfter(wait))
	resp.setHeader("x-ms-throttle-scope", "Tenant_Application/ReadWrite/"+app+"/"+tenant)
	resp.setHeader("x-ms-throttle-information", info)
	return resp
}

// throttleKey is the app+tenant pair a request is charged to.
func (s *Server) throttleKey(ctx context.Context, req *request) string {
	return req.appID + "/" + s.tenantIDFor(ctx)
}

// appIDFromToken names the application behind a bearer token: the appid
// (or azp) claim when the token is a JWT (read, never verified), otherwise
// a digest of the token; "anonymous" without a token.
func appIDFromToken(token string) string {
	if token == "" {
		return "anonymous"
	}
	if parts := strings.Split(token, "."); len(parts) == 3 {
		if raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "=")); err == nil {
			var claims struct {
				AppID string `json:"appid"`
				AZP   string `json:"azp"`
			}
			if json.Unmarshal(raw, &claims) == nil {
				if claims.AppID != "" {
					return claims.AppID
				}
				if claims.AZP != "" {
					return claims.AZP
				}
			}
		}
	}
	sum := sha256.Sum256([]byte(token))
	return "token-" + hex.EncodeToString(sum[:8])
}

// quotaRetryAfter formats the wait of a quota 429: Graph's whole seconds
// (see retryAfterHeader), scaled by Quota.Scale as a decimal when the
// windows are scaled, so that a client waiting what it is told waits in
// the scaled time.
func (s *Server) quotaRetryAfter(wait time.Duration) string {
	scale := s.throttle.q.Scale
	if s.opts.ZeroRetryAfter || scale == 1 {
		return s.retryAfterHeader(wait)
	}
	secs := math.Max(1, math.Ceil(wait.Seconds()/scale)) * scale
	return strconv.FormatFloat(secs, 'f', -1, 64)
}
