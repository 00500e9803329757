package accounts

import (
	"context"
	"fmt"
	"strings"

	"github.com/essentials365/sdk/essentials365/state"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Reasons of the input rules, reported on plan items and in errors. Each
// names the kind of error it comes with.
const (
	// ReasonOnlineIDSyntax (InvalidArgument): an online ID is not
	// name@domain, or its name breaks the length or period rules.
	ReasonOnlineIDSyntax backend.Reason = "online-id-syntax"
	// ReasonOnlineIDCharacters (InvalidArgument): an online ID holds a
	// character Microsoft 365 refuses.
	ReasonOnlineIDCharacters backend.Reason = "online-id-characters"
	// ReasonOnlineIDTaken (AlreadyExists, or InvalidArgument on a plan
	// item): another online account has this online ID.
	ReasonOnlineIDTaken backend.Reason = "online-id-taken"
	// ReasonDomainUnknown (InvalidArgument): the domain of an online ID or
	// alias is not a domain of the tenant.
	ReasonDomainUnknown backend.Reason = "domain-unknown"
	// ReasonDomainUnverified (FailedPrecondition): the domain is a domain
	// of the tenant that is not verified yet; the same reason as the
	// domain contract's [backend.ReasonDomainUnverified].
	ReasonDomainUnverified = backend.ReasonDomainUnverified
	// ReasonAlreadyMapped (InvalidArgument): the user already has an online
	// account, or the online account is assigned to another user.
	ReasonAlreadyMapped backend.Reason = "already-mapped"
	// ReasonUserDisabled (plan items only): the user is disabled.
	ReasonUserDisabled backend.Reason = "user-disabled"
	// ReasonSAMInvalid (InvalidArgument): the user name breaks a rule of
	// Active Directory.
	ReasonSAMInvalid backend.Reason = "sam-invalid"
	// ReasonSAMTaken (InvalidArgument): another user has this user name.
	ReasonSAMTaken backend.Reason = "sam-taken"
	// ReasonOnlineLinked (InvalidArgument): the online account is anchored
	// to another user (of this directory or another).
	ReasonOnlineLinked backend.Reason = "online-account-linked"
	// ReasonNoFreeLicense (FailedPrecondition): a SKU has too few free
	// seats; the cause is a *LicenseShortfall.
	// The same reason as [backend.ReasonNoFreeLicense].
	ReasonNoFreeLicense = backend.ReasonNoFreeLicense
	// ReasonUsageLocation (FailedPrecondition): licensing needs a usage
	// location and none is set (on the online account, in the options);
	// the same reason as the tenant contract's
	// [backend.ReasonUsageLocationRequired].
	ReasonUsageLocation = backend.ReasonUsageLocationRequired
	// ReasonAliasSyntax (InvalidArgument): an alias is not name@domain, or
	// is the account's primary address.
	// The same reason as [backend.ReasonAliasSyntax].
	ReasonAliasSyntax = backend.ReasonAliasSyntax
	// ReasonAliasCharacters (InvalidArgument): an alias holds a character
	// Microsoft 365 refuses.
	ReasonAliasCharacters backend.Reason = "alias-characters"
	// ReasonOnlinePasswordPolicy (InvalidArgument): Microsoft 365 would
	// refuse the password.
	ReasonOnlinePasswordPolicy backend.Reason = "online-password-policy"
	// ReasonOnlineChoice (InvalidArgument): an OnlineChoice names both a
	// new online ID and an existing account.
	ReasonOnlineChoice backend.Reason = "online-choice"
	// ReasonUnknownSKU (InvalidArgument): the tenant has no such
	// subscription.
	// The same reason as [backend.ReasonUnknownSKU].
	ReasonUnknownSKU = backend.ReasonUnknownSKU
	// ReasonDuplicateSKU (InvalidArgument): a SKU is chosen twice.
	ReasonDuplicateSKU backend.Reason = "duplicate-sku"
	// ReasonUnknownServicePlan (InvalidArgument): the SKU has no such
	// service.
	// The same reason as [backend.ReasonUnknownServicePlan].
	ReasonUnknownServicePlan = backend.ReasonUnknownServicePlan
	// ReasonMappingFormat (InvalidArgument): the mapping attribute holds a
	// value this SDK did not write.
	ReasonMappingFormat backend.Reason = "mapping-format"
	// ReasonPlanRequired (InvalidArgument): an apply was given no plan.
	ReasonPlanRequired backend.Reason = "plan-required"
	// ReasonPasswordDestination (InvalidArgument): ApplyImport needs
	// exactly one of PasswordDir and PasswordSink.
	ReasonPasswordDestination backend.Reason = "password-destination"
	// ReasonDirectoryRequired, ReasonTenantRequired (InvalidArgument): New
	// was given no directory or no tenant.
	ReasonDirectoryRequired backend.Reason = "directory-required"
	ReasonTenantRequired    backend.Reason = "tenant-required"
	// ReasonSealerRequired (InvalidArgument): a durable Store needs a
	// Sealer (state.Defaults).
	ReasonSealerRequired = state.ReasonSealerRequired
	// ReasonUserRequired (InvalidArgument): no user was named.
	ReasonUserRequired backend.Reason = "user-required"
	// ReasonUserFormat (InvalidArgument): a user was named as DOMAIN\name;
	// use the sAMAccountName alone, the UPN, the online ID or the
	// objectGUID.
	ReasonUserFormat backend.Reason = "user-format"
)

// usageLocationError is the FailedPrecondition of licensing without a
// usage location (ReasonUsageLocation).
func usageLocationError(op, key, msg string) error {
	return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: key, Reason: ReasonUsageLocation, Msg: msg}
}

// addressReasons are the syntax and character reasons of an address kind.
func addressReasons(kind string) (syntax, chars backend.Reason) {
	if kind == "alias" {
		return ReasonAliasSyntax, ReasonAliasCharacters
	}
	return ReasonOnlineIDSyntax, ReasonOnlineIDCharacters
}

// checkLocalPart validates the part before @ of an online ID or alias.
func checkLocalPart(op, key, local, kind string) error {
	syntax, chars := addressReasons(kind)
	switch backend.OnlineLocalPartRule(local) {
	case "syntax":
		return backend.Invalid(op, key, syntax,
			"the name before @ must have 1 to 64 characters and cannot start or end with a period or hold two in a row")
	case "characters":
		for _, r := range local {
			if !backend.OnlineLocalPartAllowed(r) {
				return backend.Invalid(op, key, chars,
					"%q is not allowed before the @: use letters A-Z, digits and ' . - _ ! # ^ ~", string(r))
			}
		}
	}
	return nil
}

// domainSet is the tenant's domains by lower-case name.
type domainSet map[string]backend.Domain

func (s *Service) domains(ctx context.Context, op string) (domainSet, error) {
	var ds []backend.Domain
	err := s.do(ctx, op, "", func() (e error) { ds, e = s.tenant.Domains(ctx); return })
	if err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	m := domainSet{}
	for _, d := range ds {
		m[strings.ToLower(d.Name)] = d
	}
	return m, nil
}

// defaultDomain picks the domain for new online IDs: the verified custom
// domain marked default, else any verified custom domain, else the initial
// onmicrosoft.com domain.
func (d domainSet) defaultDomain() string {
	var custom, initial string
	for name, dom := range d {
		switch {
		case !dom.IsVerified:
		case dom.IsInitial:
			initial = name
		case dom.IsDefault:
			return name
		case custom == "" || name < custom:
			custom = name
		}
	}
	if custom != "" {
		return custom
	}
	return initial
}

// checkAddress validates "local@domain" for an online ID or alias: syntax,
// characters, and a verified domain of the tenant.
func (d domainSet) checkAddress(op, addr, kind string) error {
	syntax, _ := addressReasons(kind)
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || domain == "" || strings.Contains(domain, "@") {
		return backend.Invalid(op, addr, syntax, "an address looks like name@domain")
	}
	if err := checkLocalPart(op, addr, local, kind); err != nil {
		return err
	}
	dom, known := d[strings.ToLower(domain)]
	if !known {
		return backend.Invalid(op, addr, ReasonDomainUnknown, "%s is not a domain of the tenant: add and verify it, or use one of the tenant's domains", domain)
	}
	if !dom.IsVerified {
		return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: addr, Reason: ReasonDomainUnverified,
			Msg: fmt.Sprintf("%s is not verified yet: verify it before using it in addresses", domain)}
	}
	return nil
}

// proposeSAM derives a sAMAccountName from an online ID: its local part
// without forbidden characters, at most 20 characters, no trailing period.
// It reports whether the name was cut to 20 characters.
func proposeSAM(onlineID string) (string, bool) {
	local, _, _ := strings.Cut(onlineID, "@")
	var b strings.Builder
	n := 0
	for _, r := range local {
		if strings.ContainsRune(backend.SAMForbidden, r) || r < ' ' {
			continue
		}
		if n == 20 {
			return strings.TrimRight(b.String(), ". "), true
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimRight(b.String(), ". "), false
}

// checkSAM validates a user name against Active Directory's rules before
// any change; the failure carries ReasonSAMInvalid and says which rule broke.
func checkSAM(op, sam string) error {
	if err := backend.CheckSAMAccountName(op, sam); err != nil {
		var e *backend.Error
		asError(err, &e)
		return backend.Invalid(op, sam, ReasonSAMInvalid, "%s", e.Msg)
	}
	return nil
}
