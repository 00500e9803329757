package adldap_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend/adldap"
	"github.com/essentials365/sdk/internal/sambatest"
)

// config returns the driver configuration for the test DC, skipping the
// test when none is configured.
func config(t testing.TB) adldap.Config {
	t.Helper()
	s := sambatest.Settings(t)
	return adldap.Config{
		URL:      s.URL,
		User:     s.User,
		Password: s.Password,
		BaseDN:   s.BaseDN,
		CAFile:   s.CAFile,
		Timeout:  20 * time.Second,
	}
}

// open opens the driver on the test DC and closes it at cleanup.
func open(t testing.TB, cfg adldap.Config) *adldap.Directory {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := adldap.Open(ctx, cfg)
	require.NoError(t, err, "Open")
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func tlsConfig(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
