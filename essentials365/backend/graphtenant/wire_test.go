package graphtenant

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/essentials365/sdk/essentials365/backend/pacer"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// newWireTenant returns a driver talking to h through a loopback server.
func newWireTenant(t *testing.T, h http.Handler, mutate ...func(*Config)) (*Tenant, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := Config{
		Credential: StaticToken("test-token"),
		BaseURL:    srv.URL + "/v1.0",
		RateLimit:  pacer.Config{Disabled: true},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	tn, err := New(cfg)
	require.NoError(t, err)
	return tn, srv
}

// readBody returns a request body, gunzipped when the SDK compressed it.
func readBody(t *testing.T, r *http.Request) []byte {
	t.Helper()
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if !assert.NoError(t, err) {
			return nil
		}
		rd = zr
	}
	b, err := io.ReadAll(rd)
	assert.NoError(t, err)
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		rule backend.Reason
	}{
		{"no credential", Config{BaseURL: "https://graph.microsoft.com/v1.0"}, ReasonCredential},
		{"plain http to a remote host", Config{Credential: StaticToken("x"), BaseURL: "http://graph.example.com/v1.0"}, ReasonBaseURL},
		{"relative url", Config{Credential: StaticToken("x"), BaseURL: "/v1.0"}, ReasonBaseURL},
		{"ftp", Config{Credential: StaticToken("x"), BaseURL: "ftp://127.0.0.1/v1.0"}, ReasonBaseURL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			require.ErrorIs(t, err, backend.ErrInvalidArgument)
			assert.Equal(t, tc.rule, backend.ReasonOf(err))
		})
	}
	t.Run("defaults", func(t *testing.T) {
		tn, err := New(Config{Credential: StaticToken("x")})
		require.NoError(t, err)
		assert.Equal(t, DefaultBaseURL, tn.base.String())
		assert.Equal(t, int32(100), tn.pageSize)
	})
}

func TestSendsTokenAndSelect(t *testing.T) {
	var got *http.Request
	tn, _ := newWireTenant(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		writeJSON(w, 200, map[string]any{"id": "u1", "userPrincipalName": "a@contoso.com", "accountEnabled": true,
			"assignedLicenses":           []any{map[string]any{"skuId": "c42b9cae-ea4f-4ab7-9717-81576235ccac", "disabledPlans": []any{}}},
			"lastPasswordChangeDateTime": "2024-05-01T10:00:00Z", "onPremisesImmutableId": "AAAA"})
	}))
	u, err := tn.GetUser(t.Context(), "a@contoso.com")
	require.NoError(t, err)
	assert.Equal(t, "Bearer test-token", got.Header.Get("Authorization"))
	assert.Equal(t, "/v1.0/users/a@contoso.com", got.URL.Path)
	assert.ElementsMatch(t, userSelect, strings.Split(got.URL.Query().Get("$select"), ","))
	assert.Equal(t, "u1", u.ID)
	assert.True(t, u.AccountEnabled)
	assert.Equal(t, "AAAA", u.ImmutableID)
	assert.Equal(t, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), u.LastPasswordChange.UTC())
	require.Len(t, u.AssignedLicenses, 1)
	assert.Equal(t, "c42b9cae-ea4f-4ab7-9717-81576235ccac", u.AssignedLicenses[0].SKUID)
}

func TestGetUserByImmutableIDEscapesQuotes(t *testing.T) {
	var filter string
	tn, _ := newWireTenant(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		filter = r.URL.Query().Get("$filter")
		writeJSON(w, 200, map[string]any{"value": []any{}})
	}))
	_, err := tn.GetUserByImmutableID(t.Context(), "it's")
	require.ErrorIs(t, err, backend.ErrNotFound)
	assert.Equal(t, "onPremisesImmutableId eq 'it''s'", filter)
}

func TestErrorMapping(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	odata := func(code, msg string, details ...map[string]any) map[string]any {
		e := map[string]any{"code": code, "innerError": map[string]any{"request-id": "rid-1"}}
		if msg != "" {
			e["message"] = msg
		}
		if len(details) > 0 {
			e["details"] = details
		}
		return map[string]any{"error": e}
	}
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       any // nil: empty body
		kind       backend.Kind
		reason     backend.Reason
		retryAfter time.Duration
		odata      bool
	}{
		{"not found", 404, nil, odata("Request_ResourceNotFound", "Resource 'x' does not exist or one of its queried reference-property objects are not present."), backend.NotFound, "", 0, true},
		{"not found without message", 404, nil, odata("Request_ResourceNotFound", ""), backend.NotFound, "", 0, true},
		{"not found empty body", 404, nil, nil, backend.NotFound, "", 0, false},
		{"object conflict", 400, nil, odata("Request_BadRequest", "Another object with the same value for property userPrincipalName already exists.",
			map[string]any{"code": "ObjectConflict", "target": "userPrincipalName"}), backend.AlreadyExists, "", 0, true},
		{"no free license", 400, nil, odata("Request_BadRequest", "Subscription with SKU x does not have any available licenses."), backend.FailedPrecondition, backend.ReasonNoFreeLicense, 0, true},
		{"usage location", 400, nil, odata("Request_BadRequest", "License assignment cannot be done for user with invalid usage location."), backend.FailedPrecondition, backend.ReasonUsageLocationRequired, 0, true},
		{"unknown sku", 400, nil, odata("Request_BadRequest", "License abc does not correspond to a valid company License."), backend.InvalidArgument, backend.ReasonUnknownSKU, 0, true},
		{"upn domain", 400, nil, odata("Request_BadRequest", "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."), backend.InvalidArgument, backend.ReasonUPNDomainUnverified, 0, true},
		{"password", 400, nil, odata("Request_BadRequest", "The specified password does not comply with password complexity requirements. Please provide a different password."), backend.InvalidArgument, backend.ReasonPasswordPolicy, 0, true},
		{"emulator reason", 400, nil, odata("Request_BadRequest", "Property userPrincipalName is invalid.",
			map[string]any{"code": backend.ReasonUPNSyntax, "target": "essentials365.reason"}), backend.InvalidArgument, backend.ReasonUPNSyntax, 0, true},
		{"emulator precondition reason", 400, nil, odata("Request_BadRequest", "The domain is used.",
			map[string]any{"code": backend.ReasonDomainInUse, "target": "essentials365.reason"}), backend.FailedPrecondition, backend.ReasonDomainInUse, 0, true},
		{"unauthorized", 401, nil, odata("InvalidAuthenticationToken", "Access token is empty."), backend.PermissionDenied, "", 0, true},
		{"forbidden", 403, nil, odata("Authorization_RequestDenied", "Insufficient privileges to complete the operation."), backend.PermissionDenied, "", 0, true},
		{"throttled seconds", 429, map[string]string{"Retry-After": "7"}, odata("TooManyRequests", "Too many requests"), backend.Throttled, "", 7 * time.Second, true},
		{"throttled date", 429, map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, odata("TooManyRequests", "Too many requests"), backend.Throttled, "", 90 * time.Second, true},
		{"throttled without message", 429, map[string]string{"Retry-After": "1"}, odata("TooManyRequests", ""), backend.Throttled, "", time.Second, true},
		{"503 with retry-after", 503, map[string]string{"Retry-After": "2"}, odata("serviceNotAvailable", "The service is temporarily unavailable."), backend.Throttled, "", 2 * time.Second, true},
		{"503", 503, nil, odata("serviceNotAvailable", "The service is temporarily unavailable."), backend.Unavailable, "", 0, true},
		{"504", 504, nil, odata("GatewayTimeout", "timeout"), backend.Unavailable, "", 0, true},
		{"500 empty", 500, nil, nil, backend.Unavailable, "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			tn, _ := newWireTenant(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				if tc.body == nil {
					w.WriteHeader(tc.status)
					return
				}
				writeJSON(w, tc.status, tc.body)
			}), func(c *Config) { c.Now = func() time.Time { return now } })
			_, err := tn.GetUser(t.Context(), "x")
			require.Error(t, err)
			msg := err.Error() // must not panic, whatever the body held
			assert.NotEmpty(t, msg)
			assert.Equal(t, tc.kind, backend.KindOf(err), "error %v", err)
			assert.Equal(t, tc.reason, backend.ReasonOf(err))
			var be *backend.Error
			require.ErrorAs(t, err, &be)
			assert.Equal(t, tc.retryAfter, be.RetryAfter)
			if tc.kind == backend.Throttled {
				d, ok := backend.RetryAfter(err)
				assert.True(t, ok)
				assert.Equal(t, tc.retryAfter, d)
			}
			var re *ResponseError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.status, re.StatusCode)
			var oe *odataerrors.ODataError
			assert.Equal(t, tc.odata, errors.As(err, &oe))
			if tc.odata {
				assert.Equal(t, tc.status, oe.ResponseStatusCode)
				assert.Equal(t, "rid-1", re.RequestID)
			}
			assert.Equal(t, int32(1), calls.Load(), "the driver never retries")
		})
	}
}

func TestConnectionErrorsAreUnavailable(t *testing.T) {
	tn, _ := newWireTenant(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		require.True(t, ok)
		conn, _, err := hj.Hijack()
		require.NoError(t, err)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST instead of FIN
		}
		_ = conn.Close()
	}))
	_, err := tn.GetUser(t.Context(), "x")
	require.ErrorIs(t, err, backend.ErrUnavailable)
	assert.True(t, backend.Retryable(err))

	// Nothing listens here any more.
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	tn2, err := New(Config{Credential: StaticToken("x"), BaseURL: addr + "/v1.0"})
	require.NoError(t, err)
	_, err = tn2.Organization(t.Context())
	require.ErrorIs(t, err, backend.ErrUnavailable)
}

func TestCanceledContext(t *testing.T) {
	block := make(chan struct{})
	tn, _ := newWireTenant(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer close(block)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := tn.GetUser(ctx, "x")
	require.ErrorIs(t, err, backend.ErrCanceled)

	done, cancel2 := context.WithCancel(t.Context())
	cancel2()
	_, errs := tn.CreateUsers(done, []backend.NewOnlineUser{{UserPrincipalName: "a@b.c"}})
	require.ErrorIs(t, errs[0], backend.ErrCanceled)
}

// TestKiotaRetryDisabled proves that a 429, 503 or 504 reaches the server
// once: Kiota's retry handler, which would retry at once on Retry-After 0,
// is off.
func TestKiotaRetryDisabled(t *testing.T) {
	for _, status := range []int{429, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			var calls atomic.Int32
			tn, _ := newWireTenant(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				readBody(t, r)
				w.Header().Set("Retry-After", "0")
				writeJSON(w, status, map[string]any{"error": map[string]any{"code": "TooManyRequests", "message": "slow down"}})
			}))
			_, err := tn.CreateUser(t.Context(), backend.NewOnlineUser{UserPrincipalName: "a@contoso.com", DisplayName: "A", Password: "x"})
			require.Error(t, err)
			assert.True(t, backend.Retryable(err))
			assert.Equal(t, int32(1), calls.Load())
			if status == 429 {
				d, ok := backend.RetryAfter(err)
				assert.True(t, ok)
				assert.Equal(t, time.Duration(0), d)
			}
		})
	}
}

func TestCreateUserWire(t *testing.T) {
	var body map[string]any
	var reads []string
	tn, _ := newWireTenant(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" {
			// The read-back fails, as it may while replicas catch up:
			// the answer is built from the create.
			reads = append(reads, r.URL.Path)
			writeJSON(w, 404, map[string]any{"error": map[string]any{"code": "Request_ResourceNotFound", "message": "not yet"}})
			return
		}
		require.Equal(t, "POST", r.Method)
		require.Equal(t, "/v1.0/users", r.URL.Path)
		require.NoError(t, json.Unmarshal(readBody(t, r), &body))
		// Graph answers with the default properties only.
		writeJSON(w, 201, map[string]any{"id": "new-id", "userPrincipalName": body["userPrincipalName"], "displayName": body["displayName"]})
	}))
	u, err := tn.CreateUser(t.Context(), backend.NewOnlineUser{
		UserPrincipalName: "adele.vance@contoso.com", DisplayName: "Adele", Password: "Pa55w.rd!", UsageLocation: "FR",
		ForceChangePassword: true, ImmutableID: "AAAA", Disabled: true,
	})
	require.NoError(t, err)
	assert.Equal(t, "#microsoft.graph.user", body["@odata.type"])
	assert.Equal(t, "adele.vance", body["mailNickname"], "mailNickname defaults to the UPN's local part")
	assert.Equal(t, false, body["accountEnabled"])
	assert.Equal(t, map[string]any{"password": "Pa55w.rd!", "forceChangePasswordNextSignIn": true}, body["passwordProfile"])
	assert.Equal(t, backend.OnlineUser{ID: "new-id", UserPrincipalName: "adele.vance@contoso.com", DisplayName: "Adele",
		MailNickname: "adele.vance", UsageLocation: "FR", ImmutableID: "AAAA"}, u)
	assert.Equal(t, []string{"/v1.0/users/adele.vance@contoso.com"}, reads)
}

func TestListUsersPages(t *testing.T) {
	var srvURL string
	var tops []string
	tn, srv := newWireTenant(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tops = append(tops, r.URL.Query().Get("$top"))
		switch r.URL.Query().Get("$skiptoken") {
		case "":
			writeJSON(w, 200, map[string]any{"value": []any{map[string]any{"id": "1"}, map[string]any{"id": "2"}},
				"@odata.nextLink": srvURL + "/v1.0/users?$top=2&$skiptoken=p2"})
		case "p2":
			writeJSON(w, 200, map[string]any{"value": []any{map[string]any{"id": "3"}}})
		}
	}), func(c *Config) { c.PageSize = 2 })
	srvURL = srv.URL
	var ids []string
	for u, err := range tn.ListUsers(t.Context()) {
		require.NoError(t, err)
		ids = append(ids, u.ID)
	}
	assert.Equal(t, []string{"1", "2", "3"}, ids)
	assert.Equal(t, []string{"2", "2"}, tops)

	// Stopping early fetches no more pages.
	tops = nil
	for range tn.ListUsers(t.Context()) {
		break
	}
	assert.Len(t, tops, 1)
}

func TestDeltaRoundTrip(t *testing.T) {
	var srvURL string
	var paths []string
	tn, srv := newWireTenant(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path+"?"+r.URL.RawQuery)
		require.Equal(t, "/v1.0/users/delta()", r.URL.Path)
		q := r.URL.Query()
		switch {
		case q.Get("$skiptoken") == "" && q.Get("$deltatoken") == "":
			assert.NotEmpty(t, q.Get("$select"))
			writeJSON(w, 200, map[string]any{"value": []any{map[string]any{"id": "1", "userPrincipalName": "a@c.com"}},
				"@odata.nextLink": srvURL + "/v1.0/users/delta()?$skiptoken=s1"})
		case q.Get("$skiptoken") == "s1":
			writeJSON(w, 200, map[string]any{"value": []any{map[string]any{"id": "2", "userPrincipalName": "b@c.com"}},
				"@odata.deltaLink": srvURL + "/v1.0/users/delta()?$deltatoken=d1"})
		case q.Get("$deltatoken") == "d1":
			writeJSON(w, 200, map[string]any{"value": []any{
				map[string]any{"id": "1", "@removed": map[string]any{"reason": "changed"}},
				map[string]any{"id": "2", "@removed": map[string]any{"reason": "deleted"}},
				map[string]any{"id": "3", "displayName": "C"},
			}, "@odata.deltaLink": srvURL + "/v1.0/users/delta()?$deltatoken=d2"})
		default:
			t.Errorf("unexpected request %s", r.URL)
		}
	}))
	srvURL = srv.URL
	ctx := t.Context()
	c1, err := tn.Changes(ctx, "")
	require.NoError(t, err)
	assert.True(t, c1.More)
	assert.NotContains(t, c1.Watermark, "http", "the watermark is opaque")
	require.Len(t, c1.Changes, 1)
	assert.Equal(t, backend.Upserted, c1.Changes[0].Type)

	c2, err := tn.Changes(ctx, c1.Watermark)
	require.NoError(t, err)
	assert.False(t, c2.More)
	require.Len(t, c2.Changes, 1)

	c3, err := tn.Changes(ctx, c2.Watermark)
	require.NoError(t, err)
	require.Len(t, c3.Changes, 3)
	assert.Equal(t, backend.TenantChange{Type: backend.Deleted, User: backend.OnlineUser{ID: "1"}}, c3.Changes[0])
	assert.Equal(t, backend.TenantChange{Type: backend.Deleted, User: backend.OnlineUser{ID: "2"}, Permanent: true}, c3.Changes[1])
	assert.Equal(t, backend.Upserted, c3.Changes[2].Type)
	assert.Len(t, paths, 3)

	for _, bad := range []string{"garbage", "g1.!!!", encodeWatermark("https://evil.example.com/v1.0/users/delta()?$deltatoken=x"),
		encodeWatermark(srvURL + "/beta/users/delta()?$deltatoken=x"), encodeWatermark("/v1.0/users/delta()")} {
		_, err := tn.Changes(ctx, bad)
		require.ErrorIs(t, err, backend.ErrInvalidArgument, bad)
		assert.Equal(t, backend.ReasonWatermark, backend.ReasonOf(err))
	}
	assert.Len(t, paths, 3, "a bad watermark sends nothing")
}

// batchServer answers $batch requests with respond, shuffling the
// responses as Graph may.
type batchServer struct {
	t       *testing.T
	mu      sync.Mutex
	batches [][]map[string]any
	respond func(i int, req map[string]any) (status int, headers map[string]string, body any)
}

func (b *batchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1.0/$batch" {
		b.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		w.WriteHeader(404)
		return
	}
	var in struct {
		Requests []map[string]any `json:"requests"`
	}
	require.NoError(b.t, json.Unmarshal(readBody(b.t, r), &in))
	b.mu.Lock()
	n := 0
	for _, bt := range b.batches {
		n += len(bt)
	}
	b.batches = append(b.batches, in.Requests)
	b.mu.Unlock()
	var out []map[string]any
	for k, req := range in.Requests {
		status, headers, body := b.respond(n+k, req)
		h := map[string]string{"Content-Type": "application/json"}
		for key, v := range headers {
			h[key] = v
		}
		out = append([]map[string]any{{"id": req["id"], "status": status, "headers": h, "body": body}}, out...)
	}
	writeJSON(w, 200, map[string]any{"responses": out})
}

func TestCreateUsersBatchMixedResults(t *testing.T) {
	bs := &batchServer{t: t}
	bs.respond = func(i int, req map[string]any) (int, map[string]string, any) {
		if req["method"] == "GET" {
			upn, err := url.PathUnescape(strings.TrimPrefix(strings.Split(req["url"].(string), "?")[0], "/users/"))
			require.NoError(t, err)
			if !strings.HasPrefix(upn, "ok") {
				return 424, nil, map[string]any{"error": map[string]any{"code": "FailedDependency", "message": "failed dependency"}}
			}
			return 200, nil, map[string]any{"id": "id-" + upn, "userPrincipalName": upn, "accountEnabled": true,
				"lastPasswordChangeDateTime": "2025-01-01T00:00:00Z"}
		}
		body := req["body"].(map[string]any)
		upn := body["userPrincipalName"].(string)
		switch {
		case strings.HasPrefix(upn, "dup"):
			return 400, nil, map[string]any{"error": map[string]any{"code": "Request_BadRequest",
				"message": "Another object with the same value for property userPrincipalName already exists.",
				"details": []any{map[string]any{"code": "ObjectConflict", "target": "userPrincipalName"}}}}
		case strings.HasPrefix(upn, "slow"):
			return 429, map[string]string{"Retry-After": "3"}, map[string]any{"error": map[string]any{"code": "TooManyRequests", "message": "Too many requests"}}
		case strings.HasPrefix(upn, "bad"):
			return 400, nil, map[string]any{"error": map[string]any{"code": "Request_BadRequest"}} // no message
		}
		return 201, nil, map[string]any{"id": "id-" + upn, "userPrincipalName": upn, "displayName": body["displayName"]}
	}
	tn, _ := newWireTenant(t, bs, func(c *Config) { c.BatchConcurrency = 2 })
	var in []backend.NewOnlineUser
	for i := range 45 {
		prefix := "ok"
		switch i % 9 {
		case 3:
			prefix = "dup"
		case 5:
			prefix = "slow"
		case 7:
			prefix = "bad"
		}
		in = append(in, backend.NewOnlineUser{UserPrincipalName: fmt.Sprintf("%s%02d@contoso.com", prefix, i), DisplayName: "U", Password: "x"})
	}
	out, errs := tn.CreateUsers(t.Context(), in)
	require.Len(t, out, 45)
	require.Len(t, errs, 45)
	for i, u := range in {
		switch {
		case strings.HasPrefix(u.UserPrincipalName, "dup"):
			assert.ErrorIs(t, errs[i], backend.ErrAlreadyExists, i)
		case strings.HasPrefix(u.UserPrincipalName, "slow"):
			d, ok := backend.RetryAfter(errs[i])
			assert.True(t, ok, i)
			assert.Equal(t, 3*time.Second, d)
			var oe *odataerrors.ODataError
			assert.ErrorAs(t, errs[i], &oe)
		case strings.HasPrefix(u.UserPrincipalName, "bad"):
			assert.ErrorIs(t, errs[i], backend.ErrInvalidArgument, i)
			assert.NotEmpty(t, errs[i].Error())
		default:
			require.NoError(t, errs[i], i)
			assert.Equal(t, "id-"+u.UserPrincipalName, out[i].ID)
			assert.Equal(t, u.UserPrincipalName, out[i].UserPrincipalName)
			assert.True(t, out[i].AccountEnabled)
			assert.False(t, out[i].LastPasswordChange.IsZero(), "read back in the same batch")
		}
	}
	// 45 creates in fully parallel batches of 20, then the 30 successful
	// creates read back in batches of 20: 5 batches, none mixing shapes.
	require.Len(t, bs.batches, 5)
	assertParallelBatches(t, bs.batches, "POST", "GET")
	total := 0
	for _, b := range bs.batches {
		total += len(b)
	}
	assert.Equal(t, 75, total)
}

// assertParallelBatches checks that every batch is fully parallel (no
// dependsOn: Graph refuses a batch mixing chains with independent
// requests) and that the batches of the first method all come before
// those of the second.
func assertParallelBatches(t *testing.T, batches [][]map[string]any, first, second string) {
	t.Helper()
	seenSecond := false
	for n, b := range batches {
		assert.LessOrEqual(t, len(b), MaxBatchItems)
		method := b[0]["method"]
		for _, req := range b {
			deps, _ := req["dependsOn"].([]any)
			assert.Empty(t, deps, "batch %d: dependsOn", n) // the SDK writes [] for none
			assert.Equal(t, method, req["method"], "batch %d mixes methods", n)
		}
		switch method {
		case first:
			assert.False(t, seenSecond, "batch %d: a %s batch after a %s batch", n, first, second)
		case second:
			seenSecond = true
		default:
			t.Errorf("batch %d: unexpected method %v", n, method)
		}
	}
}

func TestAssignLicensesManyBatch(t *testing.T) {
	const sku = "c42b9cae-ea4f-4ab7-9717-81576235ccac"
	bs := &batchServer{t: t}
	bs.respond = func(i int, req map[string]any) (int, map[string]string, any) {
		url := req["url"].(string)
		if req["method"] == "POST" {
			if strings.Contains(url, "/users/full/") {
				return 400, nil, map[string]any{"error": map[string]any{"code": "Request_BadRequest",
					"message": "Subscription with SKU " + sku + " does not have any available licenses."}}
			}
			return 200, nil, map[string]any{"id": "x"}
		}
		if strings.Contains(url, "/users/full") {
			return 424, nil, map[string]any{"error": map[string]any{"code": "FailedDependency", "message": "depends on a failed request"}}
		}
		id := strings.TrimPrefix(strings.Split(url, "?")[0], "/users/")
		return 200, nil, map[string]any{"id": id, "assignedLicenses": []any{map[string]any{"skuId": sku, "disabledPlans": []any{}}}}
	}
	tn, _ := newWireTenant(t, bs)
	changes := []backend.LicenseChange{
		{UserID: "u1", Add: []backend.LicenseAssignment{{SKUID: sku}}},
		{UserID: "full", Add: []backend.LicenseAssignment{{SKUID: sku}}},
		{UserID: "u3", Add: []backend.LicenseAssignment{{SKUID: "not-a-guid"}}},
	}
	for i := range 12 {
		changes = append(changes, backend.LicenseChange{UserID: fmt.Sprintf("v%d", i), Add: []backend.LicenseAssignment{{SKUID: sku}}})
	}
	out, errs := tn.AssignLicensesMany(t.Context(), changes)
	require.NoError(t, errs[0])
	assert.Equal(t, "u1", out[0].ID)
	assert.True(t, out[0].Licensed())
	assert.ErrorIs(t, errs[1], backend.ErrFailedPrecondition)
	assert.Equal(t, backend.ReasonNoFreeLicense, backend.ReasonOf(errs[1]))
	assert.ErrorIs(t, errs[2], backend.ErrInvalidArgument)
	for i := 3; i < len(changes); i++ {
		require.NoError(t, errs[i])
		assert.Equal(t, changes[i].UserID, out[i].ID)
	}
	// 14 sendable changes in one parallel batch of assignLicense, then
	// the 13 that succeeded read back in one parallel batch.
	require.Len(t, bs.batches, 2)
	assertParallelBatches(t, bs.batches, "POST", "GET")
	assert.Len(t, bs.batches[0], 14)
	assert.Len(t, bs.batches[1], 13)
}
