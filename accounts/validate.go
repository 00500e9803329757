package accounts

import (
	"context"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Problem rules reported on plan items and in errors.
const (
	RuleOnlineIDSyntax     = "online-id-syntax"
	RuleOnlineIDCharacters = "online-id-characters"
	RuleOnlineIDTaken      = "online-id-taken"
	RuleDomainUnverified   = "domain-unverified"
	RuleAlreadyMapped      = "already-mapped"
	RuleUserDisabled       = "user-disabled"
	RuleSAMInvalid         = "sam-invalid"
	RuleSAMTaken           = "sam-taken"
	RuleOnlineLinked       = "online-account-linked"
	RuleNoFreeLicense      = "no-free-license"
	RuleUsageLocation      = "usage-location-required"
	RuleAliasSyntax        = "alias-syntax"
)

// checkLocalPart validates the part before @ of an online ID or alias.
func checkLocalPart(op, key, local, rulePrefix string) error {
	switch backend.OnlineLocalPartRule(local) {
	case "syntax":
		return backend.Invalid(op, key, backend.Reason(rulePrefix+"-syntax"),
			"the name before @ must have 1 to 64 characters and cannot start or end with a period or hold two in a row")
	case "characters":
		for _, r := range local {
			if !backend.OnlineLocalPartAllowed(r) {
				return backend.Invalid(op, key, backend.Reason(rulePrefix+"-characters"),
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
func (d domainSet) checkAddress(op, addr, rulePrefix string) error {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || strings.Contains(domain, "@") {
		return backend.Invalid(op, addr, backend.Reason(rulePrefix+"-syntax"), "an address looks like name@domain")
	}
	if err := checkLocalPart(op, addr, local, rulePrefix); err != nil {
		return err
	}
	dom, known := d[strings.ToLower(domain)]
	if !known {
		return backend.Invalid(op, addr, RuleDomainUnverified, "%s is not a domain of the tenant", domain)
	}
	if !dom.IsVerified {
		return backend.Invalid(op, addr, RuleDomainUnverified, "%s is not verified yet: verify it before using it in addresses", domain)
	}
	return nil
}

// proposeSAM derives a sAMAccountName from an online ID: its local part
// without forbidden characters, at most 20 characters, no trailing period.
func proposeSAM(onlineID string) string {
	local, _, _ := strings.Cut(onlineID, "@")
	var b strings.Builder
	n := 0
	for _, r := range local {
		if strings.ContainsRune(backend.SAMForbidden, r) || r < ' ' {
			continue
		}
		if n == 20 {
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimRight(b.String(), ". ")
}

// checkSAM validates a user name against Active Directory's rules before
// any change; the failure carries RuleSAMInvalid and says which rule broke.
func checkSAM(op, sam string) error {
	if err := backend.CheckSAMAccountName(op, sam); err != nil {
		var e *backend.Error
		asError(err, &e)
		return backend.Invalid(op, sam, RuleSAMInvalid, "%s", e.Msg)
	}
	return nil
}
