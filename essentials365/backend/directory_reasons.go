package backend

// Reasons of the [Directory] contract, shared by every directory driver
// (the LDAP driver, the memory directory) and by the portable packages
// that check input against the directory's rules before writing. Each
// names the Kind it comes with. The directory also uses reasons it shares
// with the tenant (tenant_reasons.go): [ReasonUPNSyntax] and
// [ReasonUPNCharacters] for a userPrincipalName, [ReasonPasswordPolicy]
// for a refusal under the password policy that names no rule, and
// [ReasonWatermark] for a malformed change watermark.
const (
	// ReasonSAMRequired (InvalidArgument): the sAMAccountName is empty.
	ReasonSAMRequired Reason = "sam-required"
	// ReasonSAMLength (InvalidArgument): the sAMAccountName is longer than
	// 20 characters.
	ReasonSAMLength Reason = "sam-length"
	// ReasonSAMCharacters (InvalidArgument): the sAMAccountName holds a
	// character Active Directory refuses, or ends with a period.
	ReasonSAMCharacters Reason = "sam-characters"
	// ReasonCNLength (InvalidArgument): the common name (the display name,
	// else the sAMAccountName) is longer than 64 characters.
	ReasonCNLength Reason = "cn-length"
	// ReasonNameCharacters (InvalidArgument): a name or a lookup key holds
	// a control character (NUL, CR, LF or another C0 code, DEL) or is not
	// UTF-8. See [CheckName].
	ReasonNameCharacters Reason = "name-characters"

	// ReasonPasswordLength (InvalidArgument): the password is shorter than
	// the policy's minimum length.
	ReasonPasswordLength Reason = "password-length"
	// ReasonPasswordComplexity (InvalidArgument): the password lacks
	// characters of three kinds, as the complexity rule asks.
	ReasonPasswordComplexity Reason = "password-complexity"
	// ReasonPasswordContainsName (InvalidArgument): the password contains
	// the account name or a part of the user's name (part of Windows'
	// complexity rule).
	ReasonPasswordContainsName Reason = "password-contains-name"
	// ReasonPasswordHistory (InvalidArgument): the new password is one of
	// the user's recent passwords.
	ReasonPasswordHistory Reason = "password-history"
	// ReasonPasswordMinAge (InvalidArgument): the user changed the
	// password less than the policy's minimum password age ago; the
	// message says when a change becomes possible (an administrator's
	// reset is not subject to it).
	ReasonPasswordMinAge Reason = "password-min-age"
	// ReasonOldPassword (InvalidArgument): the old password given for a
	// user's change is wrong.
	ReasonOldPassword Reason = "old-password"

	// ReasonInvalidCredentials (PermissionDenied): unknown user or wrong
	// password (AD's bind sub-codes 52e and 525).
	ReasonInvalidCredentials Reason = "invalid-credentials"
	// ReasonAccountDisabled (PermissionDenied): the password is right but
	// the account is disabled (533).
	ReasonAccountDisabled Reason = "account-disabled"
	// ReasonPasswordMustChange (PermissionDenied): the password is right
	// but must be changed before logging on (773).
	ReasonPasswordMustChange Reason = "password-must-change"
	// ReasonPasswordExpired (PermissionDenied): the password is older than
	// the policy's maximum age (532).
	ReasonPasswordExpired Reason = "password-expired"
	// ReasonAccountExpired (PermissionDenied): the account's expiry date
	// has passed (701).
	ReasonAccountExpired Reason = "account-expired"
	// ReasonAccountLocked (PermissionDenied): too many bad passwords locked
	// the account (775).
	ReasonAccountLocked Reason = "account-locked"
	// ReasonLogonRestricted (PermissionDenied): outside the account's
	// logon hours or from a workstation it may not use (530, 531).
	ReasonLogonRestricted Reason = "logon-restricted"

	// ReasonWatermarkStale (FailedPrecondition): the watermark is from
	// another domain controller or from before a restore; start over with
	// an empty watermark.
	ReasonWatermarkStale Reason = "watermark-stale"
)
