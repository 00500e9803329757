// Package bindserver starts a throwaway BIND 9 name server on loopback:
// primary zones that accept RFC 2136 updates signed with a generated TSIG
// key (and refuse unsigned ones), zone transfers only with that key. It is
// used by the zone driver tests and by the example programs that link a
// domain end to end; it is not a BIND manager for production.
package bindserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DefaultNamed is where Debian's bind9 package installs the server.
const DefaultNamed = "/usr/sbin/named"

// KeyName is the name of the TSIG key the server accepts.
const KeyName = "e365-key."

// Server is a running named.
type Server struct {
	// Addr is the server's address, 127.0.0.1:port (UDP and TCP).
	Addr string
	// KeyName, KeyAlgorithm and KeySecret (base64) are the TSIG key.
	KeyName, KeyAlgorithm, KeySecret string
	// Zones are the zones it serves, without final dot.
	Zones []string

	dir    string
	cmd    *exec.Cmd
	done   chan struct{}
	stderr bytes.Buffer
}

// Options tunes Start.
type Options struct {
	// Named is the path of the named binary; default DefaultNamed.
	Named string
	// Dir is a writable directory for the configuration, zone files and
	// journals; required.
	Dir string
	// StartTimeout bounds the wait for the server to answer; default 15 s.
	StartTimeout time.Duration
}

// Available reports whether the named binary exists.
func Available(named string) bool {
	if named == "" {
		named = DefaultNamed
	}
	_, err := exec.LookPath(named)
	return err == nil
}

// Start starts named serving the given zones (each with an SOA and an NS
// record only) and waits until it answers.
func Start(ctx context.Context, opts Options, zones ...string) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("bindserver: a directory is required")
	}
	if len(zones) == 0 {
		return nil, errors.New("bindserver: at least one zone is required")
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	named := opts.Named
	if named == "" {
		named = DefaultNamed
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	s := &Server{
		Addr:         net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		KeyName:      KeyName,
		KeyAlgorithm: dns.HmacSHA256,
		KeySecret:    base64.StdEncoding.EncodeToString(secret),
		dir:          opts.Dir,
		done:         make(chan struct{}),
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, `options {
	directory %q;
	pid-file %q;
	listen-on port %d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	allow-query { any; };
	notify no;
};
controls { };
key %q { algorithm hmac-sha256; secret %q; };
`, opts.Dir, filepath.Join(opts.Dir, "named.pid"), port, strings.TrimSuffix(KeyName, "."), s.KeySecret)
	for _, z := range zones {
		z = strings.ToLower(strings.TrimSuffix(z, "."))
		file := filepath.Join(opts.Dir, z+".zone")
		soa := fmt.Sprintf("$TTL 3600\n@ IN SOA ns.%[1]s. hostmaster.%[1]s. 1 3600 600 86400 300\n@ IN NS ns.%[1]s.\nns IN A 127.0.0.1\n", z)
		if err := os.WriteFile(file, []byte(soa), 0o644); err != nil {
			return nil, err
		}
		fmt.Fprintf(&conf, "zone %q { type primary; file %q; update-policy { grant %s zonesub ANY; }; allow-transfer { key %s; }; };\n",
			z, file, strings.TrimSuffix(KeyName, "."), strings.TrimSuffix(KeyName, "."))
		s.Zones = append(s.Zones, z)
	}
	confFile := filepath.Join(opts.Dir, "named.conf")
	if err := os.WriteFile(confFile, []byte(conf.String()), 0o600); err != nil {
		return nil, err
	}
	s.cmd = exec.Command(named, "-g", "-c", confFile)
	s.cmd.Stderr = &s.stderr
	s.cmd.Stdout = &s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bindserver: start %s: %w", named, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	if err := s.waitReady(ctx, timeout); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &dns.Client{Timeout: 500 * time.Millisecond}
	for {
		select {
		case <-s.done:
			return fmt.Errorf("bindserver: named exited: %s", s.stderr.String())
		default:
		}
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(s.Zones[0]), dns.TypeSOA)
		if r, _, err := c.ExchangeContext(ctx, m, s.Addr); err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("bindserver: named did not answer within %s: %s", timeout, s.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TSIGSecrets returns the key map miekg/dns clients take.
func (s *Server) TSIGSecrets() map[string]string { return map[string]string{s.KeyName: s.KeySecret} }

// Log returns what named wrote so far.
func (s *Server) Log() string { return s.stderr.String() }

// Stop stops named and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		_ = l.Close()
		if err == nil {
			_ = u.Close()
			return port, nil
		}
	}
	return 0, errors.New("bindserver: no free port on 127.0.0.1")
}
