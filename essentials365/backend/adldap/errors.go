package adldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"regexp"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Reasons of this driver's own; the rules it shares with every directory
// driver (password rules, logon refusals, name rules, watermarks) are the
// backend.ReasonXxx constants.
const (
	// ReasonTLSRequired (FailedPrecondition): the server or the driver
	// refuses a bind or a password write without TLS (LDAP results 8 and
	// 13, or a password write on a plain connection).
	ReasonTLSRequired backend.Reason = "tls-required"
	// ReasonTLSCertificate (FailedPrecondition): the server's certificate
	// is not trusted or does not name the server, over LDAPS and StartTLS
	// alike; set Config.CA, Config.CAFile or Config.ServerName.
	ReasonTLSCertificate backend.Reason = "tls-certificate"
	// ReasonConstraint (InvalidArgument): the server refused a value under
	// a constraint that is not a password rule (LDAP result 19).
	ReasonConstraint backend.Reason = "constraint"
	// ReasonURL (InvalidArgument): Config.URL is not ldaps:// or ldap://
	// with a host.
	ReasonURL backend.Reason = "url"
	// ReasonCredentials (InvalidArgument): Config.User or Config.Password
	// is empty.
	ReasonCredentials backend.Reason = "credentials"
	// ReasonPlaintextBind (InvalidArgument): an ldap:// URL without
	// StartTLS or AllowPlaintextBind.
	ReasonPlaintextBind backend.Reason = "plaintext-bind"
	// ReasonCAFile (InvalidArgument): Config.CAFile holds no PEM
	// certificate.
	ReasonCAFile backend.Reason = "ca-file"
	// ReasonMappingAttribute (InvalidArgument): Config.MappingAttribute is
	// not an LDAP attribute name.
	ReasonMappingAttribute backend.Reason = "mapping-attribute"
	// ReasonPageSize (InvalidArgument): Config.PageSize is out of range.
	ReasonPageSize backend.Reason = "page-size"
	// ReasonBaseDN (InvalidArgument): Config.BaseDN is not the naming
	// context of a domain (the Configuration or Schema partition, an
	// application partition such as DomainDnsZones, an OU, or unknown).
	ReasonBaseDN backend.Reason = "base-dn"
	// ReasonNotActiveDirectory (FailedPrecondition): the server has no
	// default or configuration naming context.
	ReasonNotActiveDirectory backend.Reason = "not-active-directory"
)

// bindDataCode finds the Windows error of a failed bind in the server's
// diagnostic message ("... AcceptSecurityContext error, data 52e, v1db1").
var bindDataCode = regexp.MustCompile(`(?i)\bdata ([0-9a-f]{1,8})\b`)

// bindReasons maps the data sub-codes of result 49 to reasons.
var bindReasons = map[string]backend.Reason{
	"525": backend.ReasonInvalidCredentials, // no such user: reported like a wrong password
	"52e": backend.ReasonInvalidCredentials,
	"530": backend.ReasonLogonRestricted, // outside logon hours
	"531": backend.ReasonLogonRestricted, // workstation not allowed
	"532": backend.ReasonPasswordExpired,
	"533": backend.ReasonAccountDisabled,
	"701": backend.ReasonAccountExpired,
	"773": backend.ReasonPasswordMustChange,
	"775": backend.ReasonAccountLocked,
}

// bindReason decodes the reason of an invalid-credentials (49) error.
func bindReason(msg string) backend.Reason {
	m := bindDataCode.FindStringSubmatch(msg)
	if m == nil {
		return backend.ReasonInvalidCredentials
	}
	if r, ok := bindReasons[strings.ToLower(strings.TrimLeft(m[1], "0"))]; ok {
		return r
	}
	return backend.ReasonInvalidCredentials
}

// passwordReason recognizes a password-policy rejection in the server's
// diagnostic message and returns the rule, or "".
//
// Samba names the rule in its message (check_password_restrictions: "the
// password is too short", "does not meet the complexity criteria", "was
// already used (in history)", "is too young to change"; "The old password
// specified doesn't match"). Windows only gives the Win32 code: 0000052D
// (ERROR_PASSWORD_RESTRICTION, any policy rule) or 00000056
// (ERROR_INVALID_PASSWORD, wrong old password).
func passwordReason(msg string) backend.Reason {
	m := strings.ToLower(msg)
	pw := strings.Contains(m, "password")
	switch {
	case strings.Contains(m, "old password"):
		return backend.ReasonOldPassword
	case pw && (strings.Contains(m, "too short") || strings.Contains(m, "too long")):
		return backend.ReasonPasswordLength
	case pw && strings.Contains(m, "complexity"):
		return backend.ReasonPasswordComplexity
	case pw && (strings.Contains(m, "history") || strings.Contains(m, "already used")):
		return backend.ReasonPasswordHistory
	case pw && strings.Contains(m, "too young"):
		return backend.ReasonPasswordMinAge
	case strings.HasPrefix(m, "00000056"):
		return backend.ReasonOldPassword
	case strings.HasPrefix(m, "0000052d"), strings.Contains(m, "check_password_restrictions"):
		return backend.ReasonPasswordPolicy
	}
	return ""
}

// classify turns an error from go-ldap or the network into a
// *backend.Error of the right kind. The original error stays reachable with
// errors.As; a done context makes the error Canceled whatever happened.
func classify(ctx context.Context, err error, op, key string) error {
	if err == nil {
		return nil
	}
	var be *backend.Error
	if errors.As(err, &be) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return &backend.Error{Kind: backend.Canceled, Op: op, Key: key, Err: errors.Join(cerr, err)}
	}
	var le *ldap.Error
	var cve *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	if errors.As(err, &cve) || errors.As(err, &hostErr) || errors.As(err, &authErr) {
		return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: key, Reason: ReasonTLSCertificate,
			Msg: "the server certificate is not trusted (set Config.CA or Config.CAFile)", Err: err}
	}
	if !errors.As(err, &le) {
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, net.ErrClosed) {
			return &backend.Error{Kind: backend.Unavailable, Op: op, Key: key, Err: err}
		}
		return &backend.Error{Kind: backend.Unknown, Op: op, Key: key, Err: err}
	}
	e := &backend.Error{Kind: backend.Unknown, Op: op, Key: key, Err: err}
	msg := ""
	if le.Err != nil {
		msg = le.Err.Error()
	}
	switch le.ResultCode {
	case ldap.LDAPResultNoSuchObject:
		e.Kind = backend.NotFound
	case ldap.LDAPResultEntryAlreadyExists:
		e.Kind = backend.AlreadyExists
	case ldap.LDAPResultConstraintViolation, ldap.LDAPResultUnwillingToPerform:
		if r := passwordReason(msg); r != "" {
			e.Kind, e.Reason = backend.InvalidArgument, r
		} else if le.ResultCode == ldap.LDAPResultConstraintViolation {
			e.Kind, e.Reason = backend.InvalidArgument, ReasonConstraint
		} else {
			e.Kind = backend.FailedPrecondition
		}
	case ldap.LDAPResultInsufficientAccessRights:
		e.Kind = backend.PermissionDenied
	case ldap.LDAPResultInvalidCredentials:
		e.Kind, e.Reason = backend.PermissionDenied, bindReason(msg)
	case ldap.LDAPResultStrongAuthRequired, ldap.LDAPResultConfidentialityRequired:
		e.Kind, e.Reason = backend.FailedPrecondition, ReasonTLSRequired
	case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.LDAPResultTimeLimitExceeded,
		ldap.LDAPResultAdminLimitExceeded, ldap.LDAPResultLoopDetect, ldap.LDAPResultOther:
		e.Kind = backend.Unavailable
		if le.ResultCode == ldap.LDAPResultOther {
			e.Kind = backend.Unknown
		}
	case ldap.LDAPResultInvalidAttributeSyntax, ldap.LDAPResultUndefinedAttributeType,
		ldap.LDAPResultInvalidDNSyntax, ldap.LDAPResultNamingViolation,
		ldap.LDAPResultObjectClassViolation, ldap.LDAPResultNoSuchAttribute,
		ldap.LDAPResultAttributeOrValueExists, ldap.LDAPResultInappropriateMatching,
		ldap.LDAPResultFilterError:
		e.Kind = backend.InvalidArgument
	case ldap.LDAPResultNotAllowedOnNonLeaf, ldap.LDAPResultNotAllowedOnRDN:
		e.Kind = backend.FailedPrecondition
	case ldap.ErrorNetwork, ldap.LDAPResultServerDown, ldap.LDAPResultTimeout,
		ldap.LDAPResultConnectError:
		e.Kind = backend.Unavailable
	case ldap.ErrorEmptyPassword:
		e.Kind, e.Reason = backend.PermissionDenied, backend.ReasonInvalidCredentials
	}
	return e
}

// isConnError reports whether err means the connection is no longer usable.
func isConnError(err error) bool {
	if err == nil {
		return false
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.ErrorNetwork, ldap.LDAPResultServerDown, ldap.LDAPResultTimeout,
			ldap.LDAPResultConnectError, ldap.ErrorUnexpectedResponse, ldap.ErrorUnexpectedMessage:
			return true
		}
		return false
	}
	var be *backend.Error
	if errors.As(err, &be) {
		return false // built by the driver, not a transport failure
	}
	return true // not an LDAP result: a transport or protocol failure
}
