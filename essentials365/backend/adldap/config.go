package adldap

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Defaults used when the corresponding Config field is zero.
const (
	// DefaultMappingAttribute is where the online account is recorded:
	// msDS-cloudExtensionAttribute1 (single-valued Unicode string, in the
	// schema since Windows Server 2012 and in Samba's default 2012 R2
	// schema). Microsoft reserves the msDS-cloudExtensionAttribute1..20
	// family for applications; nothing in AD or Entra Connect writes it.
	DefaultMappingAttribute = "msDS-cloudExtensionAttribute1"
	// DefaultPageSize is the simple-paged-results page size.
	DefaultPageSize = 500
	// DefaultTimeout bounds dialing and each LDAP request when the context
	// has no earlier deadline.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxConns is the number of pooled connections.
	DefaultMaxConns = 4
)

// Config configures [Open].
type Config struct {
	// URL is the server: ldaps://host[:636] or ldap://host[:389]. With
	// ldap:// set StartTLS, or AllowPlaintextBind to bind in the clear.
	URL string
	// StartTLS upgrades an ldap:// connection with the StartTLS operation
	// before binding.
	StartTLS bool
	// User is the bind name: a DN, a UPN (admin@contoso.local) or
	// DOMAIN\name.
	User string
	// Password is the bind password.
	Password string

	// BaseDN is the domain's naming context. Empty: read
	// defaultNamingContext from the rootDSE.
	BaseDN string
	// UsersDN is the container new users are created in. Empty:
	// CN=Users,<BaseDN>.
	UsersDN string
	// MappingAttribute is the user attribute where the online account is
	// recorded. Empty: [DefaultMappingAttribute].
	MappingAttribute string

	// CA verifies the server certificate. When both CA and CAFile are
	// empty the system roots are used.
	CA *x509.CertPool
	// CAFile is a PEM file of CA certificates, added to CA.
	CAFile string
	// ServerName overrides the name the certificate is checked against
	// (default: the URL's host).
	ServerName string
	// InsecureSkipVerify turns off certificate verification. It is an
	// escape hatch for laboratories only: anyone on the path can then read
	// the passwords the driver sends. Never the default.
	InsecureSkipVerify bool
	// AllowPlaintextBind allows binding over ldap:// without TLS. Password
	// writes stay refused on such a connection (AD requires an encrypted
	// connection for unicodePwd).
	AllowPlaintextBind bool

	// PageSize is the simple-paged-results page size (default 500).
	PageSize int
	// Timeout bounds dialing and each request (default 30 s); the context's
	// deadline applies when earlier.
	Timeout time.Duration
	// MaxConns is the number of connections the driver keeps (default 4).
	MaxConns int
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// settings is the validated, defaulted form of Config.
type settings struct {
	addr      string // host:port
	useTLS    bool   // ldaps://
	startTLS  bool
	tlsConfig *tls.Config
	user      string
	password  string
	baseDN    string
	usersDN   string
	mapping   string
	pageSize  uint32
	timeout   time.Duration
	maxConns  int
	log       *slog.Logger
	// messages, when set (by tests), counts the requests sent over LDAPS.
	messages *atomic.Int64
}

// encrypted reports whether connections are protected by TLS.
func (s *settings) encrypted() bool { return s.useTLS || s.startTLS }

func (c *Config) settings() (*settings, error) {
	const op = backend.OpDirectoryOpen
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return nil, backend.Invalid(op, c.URL, ReasonURL, "the URL must look like ldaps://host[:port] or ldap://host[:port]")
	}
	s := &settings{
		user:     c.User,
		password: c.Password,
		baseDN:   c.BaseDN,
		usersDN:  c.UsersDN,
		mapping:  c.MappingAttribute,
		timeout:  c.Timeout,
		maxConns: c.MaxConns,
		log:      c.Logger,
	}
	host, port := u.Hostname(), u.Port()
	switch strings.ToLower(u.Scheme) {
	case "ldaps":
		s.useTLS = true
		if port == "" {
			port = "636"
		}
		if c.StartTLS {
			return nil, backend.Invalid(op, c.URL, ReasonURL, "StartTLS applies to ldap:// URLs only")
		}
	case "ldap":
		s.startTLS = c.StartTLS
		if port == "" {
			port = "389"
		}
	default:
		return nil, backend.Invalid(op, c.URL, ReasonURL, "the URL scheme must be ldaps or ldap")
	}
	s.addr = joinHostPort(host, port)
	if c.User == "" || c.Password == "" {
		return nil, backend.Invalid(op, c.URL, ReasonCredentials, "User and Password are required")
	}
	if !s.encrypted() && !c.AllowPlaintextBind {
		return nil, backend.Invalid(op, c.URL, ReasonPlaintextBind,
			"refusing to send the password over plain LDAP: use ldaps://, StartTLS, or set AllowPlaintextBind")
	}
	if s.encrypted() {
		pool := c.CA
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return nil, backend.Wrap(err, backend.InvalidArgument, op, c.CAFile)
			}
			if pool == nil {
				pool = x509.NewCertPool()
			} else {
				pool = pool.Clone()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, backend.Invalid(op, c.CAFile, ReasonCAFile, "no PEM certificate found in the CA file")
			}
		}
		name := c.ServerName
		if name == "" {
			name = host
		}
		s.tlsConfig = &tls.Config{
			RootCAs:            pool,
			ServerName:         name,
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // documented, opt-in escape hatch
		}
	}
	if s.mapping == "" {
		s.mapping = DefaultMappingAttribute
	}
	if !validAttributeName(s.mapping) {
		return nil, backend.Invalid(op, s.mapping, ReasonMappingAttribute, "not an LDAP attribute name")
	}
	switch {
	case c.PageSize < 0 || c.PageSize > 1<<20:
		return nil, backend.Invalid(op, c.URL, ReasonPageSize, "PageSize must be between 1 and 1048576")
	case c.PageSize == 0:
		s.pageSize = DefaultPageSize
	default:
		s.pageSize = uint32(c.PageSize)
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.maxConns <= 0 {
		s.maxConns = DefaultMaxConns
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// validAttributeName reports whether s is an LDAP attribute description
// made of a letter then letters, digits and hyphens.
func validAttributeName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-'):
		default:
			return false
		}
	}
	return true
}
