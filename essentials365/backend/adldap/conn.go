package adldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/essentials365/sdk/essentials365/backend"
)

// pool keeps up to maxConns bound connections. A connection is used by one
// call at a time, so per-call timeouts and closing on cancellation never
// disturb another caller.
type pool struct {
	s   *settings
	sem chan struct{} // one token per connection in use or idle-able

	mu     sync.Mutex
	idle   []*ldap.Conn
	closed bool
	// idleList holds the listing path's idle connections (listing.go).
	idleList []*listConn
}

var errClosed = errors.New("adldap: directory closed")

func newPool(s *settings) *pool {
	return &pool{s: s, sem: make(chan struct{}, s.maxConns)}
}

// getList returns a bound connection of the listing path: an idle one
// still open, or a new one. It takes a token of MaxConns.
func (p *pool) getList(ctx context.Context) (*listConn, error) {
	return take(ctx, p, &p.idleList, (*listConn).alive, func(c *listConn) {
		p.s.log.Debug("adldap: dropping a closed listing connection")
		_ = c.nc.Close()
	}, func() (*listConn, error) { return dialList(ctx, p.s) })
}

// putList returns c to the pool, or closes it when broken.
func (p *pool) putList(c *listConn, broken bool) {
	p.mu.Lock()
	if broken || p.closed {
		p.mu.Unlock()
		c.close()
	} else {
		p.idleList = append(p.idleList, c)
		p.mu.Unlock()
	}
	<-p.sem
}

// get returns a bound connection: an idle one still open, or a new one.
func (p *pool) get(ctx context.Context) (*ldap.Conn, error) {
	// A connection whose server went away is closed by go-ldap's reader;
	// take drops it and looks further (this is how the driver reconnects
	// after a server restart).
	return take(ctx, p, &p.idle, func(c *ldap.Conn) bool { return !c.IsClosing() }, func(c *ldap.Conn) {
		p.s.log.Debug("adldap: dropping a closed connection")
		_ = c.Close()
	}, func() (*ldap.Conn, error) { return dial(ctx, p.s, p.s.user, p.s.password) })
}

// take takes a token of MaxConns and returns the last idle connection of
// *idle (guarded by p.mu) that is still usable, dropping those that are
// not, or else a new one from dial. The token is given back when it
// returns an error. get and getList (the two paths' connection types) both
// use it.
func take[C any](ctx context.Context, p *pool, idle *[]C, usable func(C) bool, drop func(C), dial func() (C, error)) (C, error) {
	var zero C
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			<-p.sem
			return zero, errClosed
		}
		n := len(*idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		c := (*idle)[n-1]
		*idle = (*idle)[:n-1]
		p.mu.Unlock()
		if usable(c) {
			return c, nil
		}
		drop(c)
	}
	c, err := dial()
	if err != nil {
		<-p.sem
		return zero, err
	}
	return c, nil
}

// put returns c to the pool, or closes it when broken.
func (p *pool) put(c *ldap.Conn, broken bool) {
	p.mu.Lock()
	if broken || p.closed || c.IsClosing() {
		p.mu.Unlock()
		_ = c.Close()
	} else {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
	}
	<-p.sem
}

func (p *pool) close() {
	p.mu.Lock()
	idle, idleList := p.idle, p.idleList
	p.idle, p.idleList, p.closed = nil, nil, true
	p.mu.Unlock()
	for _, c := range idle {
		_ = c.Close()
	}
	for _, c := range idleList {
		c.close()
	}
}

// requestTimeout is the time a request may take: the configured timeout,
// or less when ctx's deadline is nearer.
func requestTimeout(ctx context.Context, s *settings) time.Duration {
	t := s.timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < t {
			t = max(left, time.Millisecond)
		}
	}
	return t
}

// dial connects, sets up TLS, and binds as user. It honours ctx throughout.
func dial(ctx context.Context, s *settings, user, password string) (*ldap.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	if s.useTLS {
		tc := tls.Client(nc, s.tlsConfig.Clone())
		if err := tc.HandshakeContext(dctx); err != nil {
			_ = nc.Close()
			return nil, err
		}
		nc = tc
		if s.messages != nil {
			nc = countingConn{nc, s.messages}
		}
	}
	c := ldap.NewConn(nc, s.useTLS)
	c.Start()
	c.SetTimeout(requestTimeout(dctx, s))
	stop := context.AfterFunc(dctx, func() { _ = c.Close() })
	defer stop()
	if s.startTLS {
		var verifyErr error
		if err := c.StartTLS(startTLSConfig(s.tlsConfig, &verifyErr)); err != nil {
			_ = c.Close()
			if verifyErr != nil {
				// go-ldap flattens the handshake error into text; return
				// the certificate error itself, as over LDAPS.
				return nil, verifyErr
			}
			return nil, err
		}
	}
	if err := c.Bind(user, password); err != nil {
		_ = c.Close()
		return nil, err
	}
	s.log.Debug("adldap: connected", "addr", s.addr, "user", user)
	return c, nil
}

// do runs fn on a pooled connection. The connection is closed when ctx is
// done during the call, which aborts it; errors are classified.
func (d *Directory) do(ctx context.Context, op, key string, fn func(c *ldap.Conn) error) error {
	get := func(ctx context.Context) (*ldap.Conn, error) {
		c, err := d.pool.get(ctx)
		if err == nil {
			c.SetTimeout(requestTimeout(ctx, d.s))
		}
		return c, err
	}
	return withConn(ctx, op, key, get, func(c *ldap.Conn) { _ = c.Close() }, d.pool.put, fn)
}

// withConn runs fn on a connection from get (do and doList): abort closes
// it when ctx is done during the call, put gives it back, broken when
// abort fired or fn failed in transport; a closed pool is
// FailedPrecondition and the other errors are classified.
func withConn[C any](ctx context.Context, op, key string, get func(context.Context) (C, error), abort func(C), put func(C, bool), fn func(C) error) error {
	if err := backend.CtxErr(ctx, op); err != nil {
		return err
	}
	c, err := get(ctx)
	if err != nil {
		if errors.Is(err, errClosed) {
			return backend.Errorf(backend.FailedPrecondition, op, key, "the directory is closed")
		}
		return classify(ctx, err, op, key)
	}
	stop := context.AfterFunc(ctx, func() { abort(c) })
	err = fn(c)
	fired := !stop()
	// A call cut short by its context may leave a request under way on
	// the connection: drop it, as after a transport failure.
	put(c, fired || isConnError(err) || backend.KindOf(err) == backend.Canceled)
	return classify(ctx, err, op, key)
}

// startTLSConfig returns a copy of base that verifies the server's
// certificate itself, as crypto/tls would, and keeps the verification
// error in *verifyErr: go-ldap's StartTLS reports a failed handshake as
// text only, and the driver classifies a certificate failure as
// FailedPrecondition ([ReasonTLSCertificate]) whatever the transport.
func startTLSConfig(base *tls.Config, verifyErr *error) *tls.Config {
	cfg := base.Clone()
	if cfg.InsecureSkipVerify {
		return cfg
	}
	cfg.InsecureSkipVerify = true //nolint:gosec // verified below, in VerifyConnection
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			*verifyErr = &tls.CertificateVerificationError{Err: errors.New("the server sent no certificate")}
			return *verifyErr
		}
		opts := x509.VerifyOptions{Roots: base.RootCAs, DNSName: base.ServerName, Intermediates: x509.NewCertPool()}
		for _, ic := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(ic)
		}
		if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
			*verifyErr = &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			return *verifyErr
		}
		return nil
	}
	return cfg
}

// countingConn counts the writes on an LDAPS connection: go-ldap writes
// each request in one call, so the count is the number of requests. Tests
// set settings.messages to check how many requests an operation costs.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(b)
}
