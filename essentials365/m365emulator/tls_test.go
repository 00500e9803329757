package m365emulator_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// TestServesTLS: with a generated certificate, a client trusting only the
// printed CA reads the emulator over https, and the paging links are
// https links (the official clients follow no other).
func TestServesTLS(t *testing.T) {
	cert, err := m365emulator.NewTLSCertificate(nil, time.Now(), 0)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(cert.CAPEM), "-----BEGIN CERTIFICATE-----"))
	tn := memory.NewTenant(nil)
	for i := range 3 {
		_, err := tn.CreateUser(t.Context(), backend.NewOnlineUser{UserPrincipalName: fmt.Sprintf("t%d@contoso.onmicrosoft.com", i),
			DisplayName: "T", Password: "Tls!Passw0rd"})
		require.NoError(t, err)
	}
	srv := httptest.NewUnstartedServer(m365emulator.New(tn, nil))
	srv.TLS = cert.Config()
	srv.StartTLS()
	t.Cleanup(srv.Close)

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.CertPool(), MinVersion: tls.VersionTLS12}}}
	resp, err := client.Get(srv.URL + "/v1.0/users?$top=2")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	next, _ := body["@odata.nextLink"].(string)
	assert.True(t, strings.HasPrefix(next, "https://127.0.0.1:"), next)
	assert.True(t, strings.HasPrefix(body["@odata.context"].(string), "https://"))

	_, err = http.Get(srv.URL + "/v1.0/users") // the default pool does not trust it
	assert.Error(t, err)
}
