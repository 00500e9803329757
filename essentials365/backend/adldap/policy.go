package adldap

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Attributes of the domain object that make the domain's password policy.
var domainPolicyAttrs = []string{
	"minPwdLength", "pwdProperties", "pwdHistoryLength", "minPwdAge", "maxPwdAge",
	"lockoutThreshold", "lockoutDuration", "lockOutObservationWindow",
}

// Attributes of a password settings object (msDS-PasswordSettings).
var psoAttrs = []string{
	"msDS-MinimumPasswordLength", "msDS-PasswordComplexityEnabled", "msDS-PasswordHistoryLength",
	"msDS-MinimumPasswordAge", "msDS-MaximumPasswordAge", "msDS-LockoutThreshold",
	"msDS-LockoutDuration", "msDS-LockoutObservationWindow",
}

// pwdPropertiesComplex is DOMAIN_PASSWORD_COMPLEX, bit 0 of pwdProperties.
const pwdPropertiesComplex = 0x1

// PasswordPolicy reads the domain's password policy from the attributes
// of the domain object (minPwdLength, pwdProperties, pwdHistoryLength,
// minPwdAge, maxPwdAge, lockoutThreshold, lockoutDuration,
// lockOutObservationWindow): one base search.
func (d *Directory) PasswordPolicy(ctx context.Context) (backend.PasswordPolicy, error) {
	const op = backend.OpDirectoryPasswordPolicy
	var p backend.PasswordPolicy
	err := d.do(ctx, op, d.baseDN, func(c *ldap.Conn) error {
		var err error
		p, err = d.domainPolicy(c, op)
		return err
	})
	return p, err
}

func (d *Directory) domainPolicy(c *ldap.Conn, op string) (backend.PasswordPolicy, error) {
	e, err := baseEntry(c, d.baseDN, "(objectClass=domain)", domainPolicyAttrs)
	if err != nil {
		return backend.PasswordPolicy{}, err
	}
	if e == nil || e.GetAttributeValue("minPwdLength") == "" {
		return backend.PasswordPolicy{}, backend.Errorf(backend.PermissionDenied, op, d.baseDN,
			"the domain object shows no password policy to this account")
	}
	props, _ := strconv.ParseInt(e.GetAttributeValue("pwdProperties"), 10, 64)
	return backend.PasswordPolicy{
		MinLength:        atoi(e.GetAttributeValue("minPwdLength")),
		Complexity:       props&pwdPropertiesComplex != 0,
		HistoryLength:    atoi(e.GetAttributeValue("pwdHistoryLength")),
		MinAge:           interval(e.GetAttributeValue("minPwdAge")),
		MaxAge:           interval(e.GetAttributeValue("maxPwdAge")),
		LockoutThreshold: atoi(e.GetAttributeValue("lockoutThreshold")),
		LockoutDuration:  interval(e.GetAttributeValue("lockoutDuration")),
		LockoutWindow:    interval(e.GetAttributeValue("lockOutObservationWindow")),
	}, nil
}

// UserPasswordPolicy reads the user's msDS-ResultantPSO (a constructed
// attribute, read with a base search on the user) and, when set, the
// password settings object it names; otherwise the domain's policy.
// Reading a PSO needs the right to read it (by default Domain Admins):
// without it the call fails with PermissionDenied rather than returning
// the domain's policy, which would not be the one that applies.
func (d *Directory) UserPasswordPolicy(ctx context.Context, id backend.GUID) (backend.PasswordPolicy, error) {
	const op = backend.OpDirectoryUserPasswordPolicy
	key := id.String()
	var p backend.PasswordPolicy
	err := d.do(ctx, op, key, func(c *ldap.Conn) error {
		u, err := baseEntry(c, "<GUID="+key+">", samNormalUser, []string{"msDS-ResultantPSO"})
		if err != nil {
			if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
				return backend.Errorf(backend.NotFound, op, key, "no such user")
			}
			return err
		}
		if u == nil {
			return backend.Errorf(backend.NotFound, op, key, "no such user")
		}
		pso := u.GetAttributeValue("msDS-ResultantPSO")
		if pso == "" {
			p, err = d.domainPolicy(c, op)
			return err
		}
		e, err := baseEntry(c, pso, "(objectClass=msDS-PasswordSettings)", psoAttrs)
		if err != nil {
			return err
		}
		if e == nil || e.GetAttributeValue("msDS-MinimumPasswordLength") == "" {
			return backend.Errorf(backend.PermissionDenied, op, key,
				"the user's fine-grained password policy %s cannot be read with this account", pso)
		}
		p = backend.PasswordPolicy{
			MinLength:        atoi(e.GetAttributeValue("msDS-MinimumPasswordLength")),
			Complexity:       strings.EqualFold(e.GetAttributeValue("msDS-PasswordComplexityEnabled"), "TRUE"),
			HistoryLength:    atoi(e.GetAttributeValue("msDS-PasswordHistoryLength")),
			MinAge:           interval(e.GetAttributeValue("msDS-MinimumPasswordAge")),
			MaxAge:           interval(e.GetAttributeValue("msDS-MaximumPasswordAge")),
			LockoutThreshold: atoi(e.GetAttributeValue("msDS-LockoutThreshold")),
			LockoutDuration:  interval(e.GetAttributeValue("msDS-LockoutDuration")),
			LockoutWindow:    interval(e.GetAttributeValue("msDS-LockoutObservationWindow")),
			Source:           e.DN,
		}
		return nil
	})
	return p, err
}

// baseEntry reads the entry dn when it matches filter, or nil.
func baseEntry(c *ldap.Conn, dn, filter string, attrs []string) (*ldap.Entry, error) {
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, filter, attrs, nil))
	if err != nil {
		return nil, err
	}
	if len(res.Entries) != 1 {
		return nil, nil
	}
	return res.Entries[0], nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// interval converts an AD time interval (a negative count of 100 ns, as
// minPwdAge holds) to a duration. 0, and "never" (the most negative
// 64-bit value), give 0.
func interval(s string) time.Duration {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == math.MinInt64 {
		return 0
	}
	if n < 0 {
		n = -n
	}
	if n > math.MaxInt64/100 {
		return 0
	}
	return time.Duration(n * 100)
}
