package m365emulator_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
	"github.com/essentials365/sdk/internal/testclock"
)

const (
	testTenantID = "8f1c3a52-6b1e-4c7d-9a0e-2d4b6f8a1c3e"
	// e3SKUID and e3PlanExchange are made-up GUIDs for the test SKU.
	e3SKUID        = "00000000-0000-4000-8000-0000000000e3"
	e3PlanExchange = "00000000-0000-4000-8000-00000000e301"
	e3PlanSPO      = "00000000-0000-4000-8000-00000000e302"
	testPassword   = "Pa55w.rd-Contoso!"
)

// newClock returns the clock shared by the tenant and the emulator.
func newClock() *testclock.Clock {
	return testclock.At(time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC))
}

// fixture is an emulator on httptest over a seeded memory tenant.
type fixture struct {
	t      *testing.T
	clock  *testclock.Clock
	tenant *memory.Tenant
	emu    *m365emulator.Server
	hs     *httptest.Server
	// token is sent as a bearer token when set.
	token string
}

type fixtureOptions struct {
	tenantPageSize int
	seats          int
}

func newFixture(t *testing.T, opts *m365emulator.Options, fo ...fixtureOptions) *fixture {
	t.Helper()
	var fopt fixtureOptions
	if len(fo) > 0 {
		fopt = fo[0]
	}
	if fopt.seats == 0 {
		fopt.seats = 2
	}
	c := newClock()
	tn := memory.NewTenant(&memory.TenantOptions{
		TenantID:      testTenantID,
		DisplayName:   "Contoso",
		InitialDomain: "contoso.onmicrosoft.com",
		Now:           c.Now,
		PageSize:      fopt.tenantPageSize,
	})
	require.NoError(t, tn.AddVerifiedDomain("contoso.com", true))
	_, err := tn.AddSKU(backend.SKU{
		SKUID: e3SKUID, PartNumber: "ENTERPRISEPACK", Enabled: fopt.seats,
		ServicePlans: []backend.ServicePlan{
			{ID: e3PlanExchange, Name: "EXCHANGE_S_ENTERPRISE"},
			{ID: e3PlanSPO, Name: "SHAREPOINTENTERPRISE"},
		},
	})
	require.NoError(t, err)
	var o m365emulator.Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = c.Now
	}
	emu := m365emulator.New(tn, &o)
	hs := httptest.NewServer(emu)
	t.Cleanup(hs.Close)
	return &fixture{t: t, clock: c, tenant: tn, emu: emu, hs: hs}
}

// addUser creates a user straight in the tenant.
func (f *fixture) addUser(local, display string, mods ...func(*backend.NewOnlineUser)) backend.OnlineUser {
	f.t.Helper()
	nu := backend.NewOnlineUser{
		UserPrincipalName: local + "@contoso.com",
		DisplayName:       display,
		MailNickname:      local,
		Password:          testPassword,
	}
	for _, m := range mods {
		m(&nu)
	}
	u, err := f.tenant.CreateUser(f.t.Context(), nu)
	require.NoError(f.t, err)
	return u
}

// reply is a decoded answer.
type reply struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

// do sends a request; body is marshalled to JSON unless it is []byte.
func (f *fixture) do(method, path string, body any, hdr ...string) reply {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(f.t, err)
		rd = bytes.NewReader(raw)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = f.hs.URL + path
	}
	req, err := http.NewRequestWithContext(f.t.Context(), method, url, rd)
	require.NoError(f.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	resp, raw := roundTrip(f.t, req, hdr...)
	r := reply{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 {
		require.NoError(f.t, json.Unmarshal(raw, &r.JSON), "body: %s", raw)
	}
	return r
}

// roundTrip sets the header pairs hdr (name, value, ...) on req, sends it
// and returns the answer with its whole body read (and closed).
func roundTrip(t testing.TB, req *http.Request, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, raw
}

func gzipped(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err = zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func newUserBody(local string) map[string]any {
	return map[string]any{
		"@odata.type":       "#microsoft.graph.user",
		"accountEnabled":    true,
		"displayName":       "User " + local,
		"mailNickname":      local,
		"userPrincipalName": local + "@contoso.com",
		"passwordProfile": map[string]any{
			"@odata.type":                   "#microsoft.graph.passwordProfile",
			"forceChangePasswordNextSignIn": true,
			"password":                      testPassword,
		},
	}
}

// values returns the "value" array of a collection answer.
func values(t *testing.T, r reply) []map[string]any {
	t.Helper()
	raw, ok := r.JSON["value"].([]any)
	require.True(t, ok, "no value array in %s", r.Raw)
	out := make([]map[string]any, 0, len(raw))
	for _, v := range raw {
		out = append(out, v.(map[string]any))
	}
	return out
}

// graphError returns error.code and error.message, asserting the shape.
func graphError(t *testing.T, r reply) (code, message string) {
	t.Helper()
	e, ok := r.JSON["error"].(map[string]any)
	require.True(t, ok, "not an error body: %s", r.Raw)
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	require.NotEmpty(t, code, "error.code")
	require.NotEmpty(t, message, "error.message")
	inner, ok := e["innerError"].(map[string]any)
	require.True(t, ok, "error.innerError")
	require.NotEmpty(t, inner["request-id"])
	require.NotEmpty(t, inner["date"])
	return code, message
}

// details returns error.details as code by target.
func details(r reply) map[string]string {
	out := map[string]string{}
	e, _ := r.JSON["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	for _, d := range ds {
		m := d.(map[string]any)
		target, _ := m["target"].(string)
		code, _ := m["code"].(string)
		out[target] = code
	}
	return out
}
