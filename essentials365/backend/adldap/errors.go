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

// Reasons this driver reports in backend.Error.Reason, beyond the password
// rules it shares with the memory directory.
const (
	ReasonInvalidCredentials = "invalid-credentials"
	ReasonAccountDisabled    = "account-disabled"
	ReasonPasswordMustChange = "password-must-change"
	ReasonPasswordExpired    = "password-expired"
	ReasonAccountExpired     = "account-expired"
	ReasonAccountLocked      = "account-locked"
	ReasonLogonRestricted    = "logon-restricted"
	ReasonTLSRequired        = "tls-required"
	ReasonTLSCertificate     = "tls-certificate"

	ReasonPasswordLength     = "password-length"
	ReasonPasswordComplexity = "password-complexity"
	ReasonPasswordHistory    = "password-history"
	ReasonPasswordMinAge     = "password-min-age"
	ReasonPasswordPolicy     = "password-policy"
	ReasonOldPassword        = "old-password"
)

// bindDataCode finds the Windows error of a failed bind in the server's
// diagnostic message ("... AcceptSecurityContext error, data 52e, v1db1").
var bindDataCode = regexp.MustCompile(`(?i)\bdata ([0-9a-f]{1,8})\b`)

// bindReasons maps the data sub-codes of result 49 to reasons.
var bindReasons = map[string]string{
	"525": ReasonInvalidCredentials, // no such user: reported like a wrong password
	"52e": ReasonInvalidCredentials,
	"530": ReasonLogonRestricted, // outside logon hours
	"531": ReasonLogonRestricted, // workstation not allowed
	"532": ReasonPasswordExpired,
	"533": ReasonAccountDisabled,
	"701": ReasonAccountExpired,
	"773": ReasonPasswordMustChange,
	"775": ReasonAccountLocked,
}

// bindReason decodes the reason of an invalid-credentials (49) error.
func bindReason(msg string) string {
	m := bindDataCode.FindStringSubmatch(msg)
	if m == nil {
		return ReasonInvalidCredentials
	}
	if r, ok := bindReasons[strings.ToLower(strings.TrimLeft(m[1], "0"))]; ok {
		return r
	}
	return ReasonInvalidCredentials
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
func passwordReason(msg string) string {
	m := strings.ToLower(msg)
	pw := strings.Contains(m, "password")
	switch {
	case strings.Contains(m, "old password"):
		return ReasonOldPassword
	case pw && (strings.Contains(m, "too short") || strings.Contains(m, "too long")):
		return ReasonPasswordLength
	case pw && strings.Contains(m, "complexity"):
		return ReasonPasswordComplexity
	case pw && (strings.Contains(m, "history") || strings.Contains(m, "already used")):
		return ReasonPasswordHistory
	case pw && strings.Contains(m, "too young"):
		return ReasonPasswordMinAge
	case strings.HasPrefix(m, "00000056"):
		return ReasonOldPassword
	case strings.HasPrefix(m, "0000052d"), strings.Contains(m, "check_password_restrictions"):
		return ReasonPasswordPolicy
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
			e.Kind, e.Reason = backend.InvalidArgument, backend.Reason(r)
		} else if le.ResultCode == ldap.LDAPResultConstraintViolation {
			e.Kind, e.Reason = backend.InvalidArgument, "constraint"
		} else {
			e.Kind = backend.FailedPrecondition
		}
	case ldap.LDAPResultInsufficientAccessRights:
		e.Kind = backend.PermissionDenied
	case ldap.LDAPResultInvalidCredentials:
		e.Kind, e.Reason = backend.PermissionDenied, backend.Reason(bindReason(msg))
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
		e.Kind, e.Reason = backend.PermissionDenied, ReasonInvalidCredentials
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
