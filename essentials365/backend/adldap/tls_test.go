package adldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"math"
	"net"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// handshake runs a TLS client handshake with cfg against a server showing
// certs.
func handshake(t *testing.T, certs []tls.Certificate, cfg *tls.Config) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		tc := tls.Server(c, &tls.Config{Certificates: certs})
		_ = tc.Handshake()
		_ = tc.Close()
	}()
	defer ln.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer nc.Close()
	return tls.Client(nc, cfg).Handshake()
}

// TestStartTLSVerification checks that the configuration StartTLS uses
// keeps the certificate error as a typed error, classified like an LDAPS
// one, and accepts what crypto/tls accepts.
func TestStartTLSVerification(t *testing.T) {
	// httptest's certificate is valid for 127.0.0.1 and example.com.
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	tests := []struct {
		name   string
		base   *tls.Config
		wantOK bool
	}{
		{"trusted CA and name", &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, true},
		{"trusted CA, DNS name", &tls.Config{RootCAs: pool, ServerName: "example.com"}, true},
		{"unknown CA", &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "127.0.0.1"}, false},
		{"wrong name", &tls.Config{RootCAs: pool, ServerName: "dc.contoso.local"}, false},
		{"verification off", &tls.Config{InsecureSkipVerify: true}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var verifyErr error
			err := handshake(t, srv.TLS.Certificates, startTLSConfig(tc.base, &verifyErr))
			if tc.wantOK {
				require.NoError(t, err)
				assert.NoError(t, verifyErr)
				return
			}
			require.Error(t, err)
			require.Error(t, verifyErr, "the verification error is kept")
			got := classify(context.Background(), verifyErr, backend.OpDirectoryOpen, "ldap://dc")
			assert.Equal(t, backend.FailedPrecondition, backend.KindOf(got), "%v", got)
			assert.Equal(t, ReasonTLSCertificate, backend.ReasonOf(got))
			assert.False(t, backend.Retryable(got), "a certificate failure is not retried")
			// The same failure through crypto/tls directly (LDAPS) is
			// classified the same way.
			direct := handshake(t, srv.TLS.Certificates, tc.base)
			require.Error(t, direct)
			assert.Equal(t, ReasonTLSCertificate, backend.ReasonOf(classify(context.Background(), direct, "op", "")))
		})
	}
}

func TestInterval(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"-864000000000", 24 * time.Hour},
		{"-36288000000000", 42 * 24 * time.Hour},
		{"-18000000000", 30 * time.Minute},
		{"0", 0},
		{strconv.FormatInt(math.MinInt64, 10), 0},
		{"", 0},
		{"junk", 0},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, interval(tc.in), "interval(%q)", tc.in)
	}
}

// TestChecksBeforeIO checks the refusals made before any I/O, with the
// contract's op wording: the directory here points at nothing.
func TestChecksBeforeIO(t *testing.T) {
	c := Config{URL: "ldaps://127.0.0.1:1", User: "u", Password: "p", Timeout: time.Second}
	s, err := c.settings()
	require.NoError(t, err)
	d := &Directory{s: s, pool: newPool(s), netbiosName: "CONTOSO"}
	ctx := t.Context()
	tests := []struct {
		op     string
		reason backend.Reason
		call   func() error
	}{
		{backend.OpDirectoryGetUserBySAM, backend.ReasonNameCharacters, func() error {
			_, err := d.GetUserBySAMAccountName(ctx, "Administrator\x00")
			return err
		}},
		{backend.OpDirectoryGetUserByUPN, backend.ReasonNameCharacters, func() error {
			_, err := d.GetUserByUPN(ctx, "ann@contoso.local\r\n")
			return err
		}},
		{backend.OpDirectoryAuthenticate, backend.ReasonNameCharacters, func() error { return d.Authenticate(ctx, "ann\x00junk", "pw") }},
		{backend.OpDirectorySetOnlineAccount, backend.ReasonNameCharacters, func() error { return d.SetOnlineAccount(ctx, backend.NewGUID(), "a\nb") }},
		{backend.OpDirectoryCreateUser, backend.ReasonNameCharacters, func() error {
			_, err := d.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: "ann", DisplayName: "Ann\x00", Password: "Vq9#rT2!wK"})
			return err
		}},
		{backend.OpDirectoryCreateUser, backend.ReasonSAMLength, func() error {
			_, err := d.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: "abcdefghijklmnopqrstu", Password: "Vq9#rT2!wK"})
			return err
		}},
		{backend.OpDirectoryCreateUser, backend.ReasonUPNCharacters, func() error {
			_, err := d.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: "ann", UserPrincipalName: "a b@c", Password: "Vq9#rT2!wK"})
			return err
		}},
		{backend.OpDirectoryChanges, backend.ReasonWatermark, func() error { _, err := d.Changes(ctx, "bad"); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.op+" "+string(tc.reason), func(t *testing.T) {
			err := tc.call()
			var e *backend.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, backend.InvalidArgument, e.Kind, "%v", err)
			assert.Equal(t, tc.reason, e.Reason)
			assert.Equal(t, tc.op, e.Op)
		})
	}
}
