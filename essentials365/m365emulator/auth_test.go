package m365emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

const (
	authTenant = "8f1c3a52-6b1e-4c7d-9a0e-2d4b6f8a1c3e"
	authClient = "3c1d5e7f-0000-4000-8000-00000000a001"
)

type tokenAnswer struct {
	status      int
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
	AccessToken string `json:"access_token"`
}

func requestToken(t *testing.T, srv *httptest.Server, tenant, client, secret string) tokenAnswer {
	t.Helper()
	resp, err := srv.Client().PostForm(srv.URL+"/"+tenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret},
		"scope": {"https://graph.microsoft.com/.default"}})
	require.NoError(t, err)
	defer resp.Body.Close()
	var a tokenAnswer
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	a.status = resp.StatusCode
	return a
}

func TestAuthorityAnswers(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := m365emulator.NewAuthority(authTenant, &m365emulator.AuthorityOptions{Now: clock, TenantNames: []string{"contoso.onmicrosoft.com"}})
	a.RegisterApp(authClient, "User.Read.All")
	sec, err := a.AddClientSecret(authClient, now.Add(time.Hour))
	require.NoError(t, err)
	srv := httptest.NewTLSServer(a)
	defer srv.Close()

	ok := requestToken(t, srv, "contoso.onmicrosoft.com", authClient, sec.Text)
	require.Equal(t, http.StatusOK, ok.status)
	require.Len(t, strings.Split(ok.AccessToken, "."), 3)

	for _, tc := range []struct {
		name, tenant, client, secret string
		status                       int
		code                         int
		oauth                        string
	}{
		{"wrong secret", authTenant, authClient, "nope", 401, 7000215, "invalid_client"},
		{"secret id instead of value", authTenant, authClient, sec.KeyID, 401, 7000215, "invalid_client"},
		{"unknown app", authTenant, "00000000-0000-4000-8000-000000000000", sec.Text, 400, 700016, "unauthorized_client"},
		{"unknown tenant", "fabrikam.onmicrosoft.com", authClient, sec.Text, 400, 90002, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := requestToken(t, srv, tc.tenant, tc.client, tc.secret)
			assert.Equal(t, tc.status, got.status)
			assert.Equal(t, tc.oauth, got.Error)
			assert.Equal(t, []int{tc.code}, got.Codes)
			assert.Contains(t, got.Description, "Trace ID:")
		})
	}
	now = now.Add(2 * time.Hour)
	exp := requestToken(t, srv, authTenant, authClient, sec.Text)
	assert.Equal(t, []int{7000222}, exp.Codes, "an expired secret")

	require.NoError(t, a.FailNextSignIns(1, 90033))
	got := requestToken(t, srv, authTenant, authClient, sec.Text)
	assert.Equal(t, http.StatusServiceUnavailable, got.status)
	assert.Equal(t, "temporarily_unavailable", got.Error)
	require.Error(t, a.FailNextSignIns(1, 12345), "an unknown code is refused")
}

func TestServerEnforcesRoles(t *testing.T) {
	a := m365emulator.NewAuthority(authTenant, nil)
	a.RegisterApp(authClient, "User.Read.All", "Application.ReadWrite.OwnedBy")
	sec, err := a.AddClientSecret(authClient, time.Time{})
	require.NoError(t, err)
	login := httptest.NewTLSServer(a)
	defer login.Close()
	graph := httptest.NewServer(m365emulator.New(memory.NewTenant(&memory.TenantOptions{TenantID: authTenant}), &m365emulator.Options{Authority: a}))
	defer graph.Close()
	tok := requestToken(t, login, authTenant, authClient, sec.Text).AccessToken

	call := func(method, path, token, body string) (int, string) {
		req, err := http.NewRequest(method, graph.URL+"/v1.0"+path, strings.NewReader(body))
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	st, _ := call("GET", "/users", tok, "")
	assert.Equal(t, 200, st, "User.Read.All reads users")
	st, body := call("GET", "/subscribedSkus", tok, "")
	assert.Equal(t, 403, st)
	assert.Contains(t, body, "Authorization_RequestDenied")
	st, _ = call("POST", "/users", tok, `{"userPrincipalName":"a@contoso.onmicrosoft.com"}`)
	assert.Equal(t, 403, st, "writing users needs User.ReadWrite.All")
	st, _ = call("GET", "/users", "", "")
	assert.Equal(t, 401, st)
	st, _ = call("GET", "/users", "forged.token.value", "")
	assert.Equal(t, 401, st)

	// The application rotates its own secret.
	st, body = call("POST", "/applications(appId='"+authClient+"')/addPassword", tok, `{"passwordCredential":{"displayName":"rotated"}}`)
	require.Equal(t, 200, st, body)
	var added struct {
		KeyID      string `json:"keyId"`
		SecretText string `json:"secretText"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &added))
	assert.Equal(t, http.StatusOK, requestToken(t, login, authTenant, authClient, added.SecretText).status, "the new secret signs in")
	st, _ = call("POST", "/applications(appId='"+authClient+"')/removePassword", tok, `{"keyId":"`+sec.KeyID+`"}`)
	require.Equal(t, 204, st)
	assert.Equal(t, []int{7000215}, requestToken(t, login, authTenant, authClient, sec.Text).Codes, "the old secret no longer signs in")
	assert.Equal(t, []string{added.KeyID}, a.Secrets(authClient))
}
