package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startRun runs the program with args until the test ends, and waits for
// the base URL it prints (the first group of baseRE). stop cancels the run
// and requires it to return without error within 10 s.
func startRun(t *testing.T, baseRE string, args ...string) (out *syncBuffer, base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	out = &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, out) }()
	re := regexp.MustCompile(baseRE)
	require.Eventually(t, func() bool {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			return true
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "output: %s", out.String())
	stop = func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return after cancel")
		}
	}
	return out, base, stop
}

func TestRunServesTheDemoTenant(t *testing.T) {
	out, base, stop := startRun(t, `at (http://127\.0\.0\.1:\d+/v1\.0)`, "-addr", "127.0.0.1:0", "-latency", "1ms", "-throttle")
	assert.Contains(t, out.String(), "graphtenant.Config{BaseURL: \""+base+"\"}")

	resp, err := http.Get(base + "/users?$select=userPrincipalName,assignedLicenses")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var page struct {
		Value []struct {
			UPN      string `json:"userPrincipalName"`
			Licenses []any  `json:"assignedLicenses"`
		} `json:"value"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
	require.Len(t, page.Value, 12)
	assert.Equal(t, "adele.vance@contoso.com", page.Value[0].UPN)
	licensed := 0
	for _, u := range page.Value {
		licensed += len(u.Licenses)
	}
	assert.Equal(t, 9, licensed)
	assert.NotEmpty(t, resp.Header.Get("x-ms-resource-unit"))

	stop()
}

func TestRunRejectsBadFlags(t *testing.T) {
	var out syncBuffer
	err := run(t.Context(), []string{"-latency", "soon"}, &out)
	require.Error(t, err)
}

func TestRunServesTLS(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	out, base, stop := startRun(t, `at (https://127\.0\.0\.1:\d+/v1\.0)`, "-addr", "127.0.0.1:0", "-tls", "-ca-out", caFile, "-delta-qualified")
	pemBytes, err := os.ReadFile(caFile)
	require.NoError(t, err)
	assert.Contains(t, out.String(), string(pemBytes), "the CA is printed")
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pemBytes))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := client.Get(base + "/users?$top=5")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var page map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
	assert.Contains(t, page["@odata.nextLink"], "https://")
	resp, err = client.Get(base + "/users/delta()")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
	assert.Contains(t, page["@odata.deltaLink"], base+"/users/microsoft.graph.delta()?", "-delta-qualified")
	stop()
}

func TestRunTLSFlags(t *testing.T) {
	for _, args := range [][]string{{"-cert", "x.pem"}, {"-ca-out", "ca.pem"}, {"-tls", "-cert", "a", "-key", "b"}} {
		var out syncBuffer
		assert.Error(t, run(t.Context(), args, &out), args)
	}
}
