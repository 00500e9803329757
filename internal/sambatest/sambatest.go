package sambatest

import (
	"os"
	"strings"
	"testing"
)

// The environment variables read by [Settings].
const (
	EnvURL      = "E365_LDAP_URL"
	EnvUser     = "E365_LDAP_USER"
	EnvPassword = "E365_LDAP_PASSWORD"
	EnvBaseDN   = "E365_LDAP_BASE_DN"
	EnvCAFile   = "E365_LDAP_CA_FILE"
	// EnvRequire set to 1 turns a missing DC into a test failure.
	EnvRequire = "E365_REQUIRE_INTEGRATION"
)

// SkipMessage is the message a test skips with when no DC is configured.
const SkipMessage = "Samba AD DC not configured: set E365_LDAP_* (scripts/samba-dc start prints them)"

// DC holds the connection settings of a test domain controller.
type DC struct {
	// URL is the LDAP URL, e.g. ldaps://127.0.0.1:636.
	URL string
	// User is the administrator's bind DN or UPN.
	User string
	// Password is the administrator's password.
	Password string
	// BaseDN is the domain's naming context, e.g. DC=ad,DC=e365,DC=test.
	BaseDN string
	// CAFile is the PEM file of the CA that signed the DC's certificate.
	CAFile string
}

// Settings returns the DC settings from the E365_LDAP_* environment
// variables. When any is missing it skips t with [SkipMessage], or fails t
// when E365_REQUIRE_INTEGRATION=1.
func Settings(t testing.TB) DC {
	t.Helper()
	s, missing := Lookup()
	if len(missing) > 0 {
		msg := SkipMessage + " (missing: " + strings.Join(missing, ", ") + ")"
		if os.Getenv(EnvRequire) == "1" {
			t.Fatal(msg + "; " + EnvRequire + "=1 requires it")
			return DC{}
		}
		t.Skip(msg)
		return DC{}
	}
	return s
}

// Lookup reads the settings without a test: it returns them and the names
// of the variables that are unset or empty.
func Lookup() (DC, []string) {
	var missing []string
	get := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	s := DC{
		URL:      get(EnvURL),
		User:     get(EnvUser),
		Password: get(EnvPassword),
		BaseDN:   get(EnvBaseDN),
		CAFile:   get(EnvCAFile),
	}
	return s, missing
}
