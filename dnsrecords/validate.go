package dnsrecords

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Policy decides which domain names are accepted.
type Policy int

const (
	// PolicyModern accepts registrable domains and their subdomains, as
	// Microsoft 365 does when the customer manages the domain's DNS.
	PolicyModern Policy = iota
	// PolicyEssentials accepts registrable domains only (contoso.com,
	// contoso.co.uk), as the Windows Server Essentials wizard did: a
	// third-level name such as marketing.contoso.com is rejected.
	PolicyEssentials
)

func (p Policy) String() string {
	switch p {
	case PolicyModern:
		return "modern"
	case PolicyEssentials:
		return "essentials"
	}
	return fmt.Sprintf("policy(%d)", int(p))
}

// ParsePolicy returns the policy named "modern" or "essentials".
func ParsePolicy(s string) (Policy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "modern", "":
		return PolicyModern, nil
	case "essentials":
		return PolicyEssentials, nil
	}
	return 0, invalid(opParse, s, ReasonOption, "unknown policy; want \"modern\" or \"essentials\"")
}

// Limits from RFC 1035 §2.3.4 (in presentation form, without the final dot).
const (
	maxLabelLen = 63
	maxNameLen  = 253
)

// Domain is a validated customer domain.
type Domain struct {
	// Name is the domain in A-labels, lower case, without the final dot
	// (xn--bcher-kva.example for bücher.example).
	Name string
	// Unicode is the domain in U-labels, for explanations; equal to Name for
	// an ASCII-only name.
	Unicode string
	// PublicSuffix is the public suffix the name sits under (com, co.uk).
	PublicSuffix string
	// Registrable is the registrable domain: the public suffix plus one
	// label (contoso.com for marketing.contoso.com).
	Registrable string
	// Subdomain reports whether Name is below Registrable.
	Subdomain bool
	// PrivateSuffix reports whether the public suffix is a private entry of
	// the Public Suffix List (such as blogspot.com) rather than an ICANN one.
	PrivateSuffix bool
	// Warnings are cautions about a valid name: a label mixing scripts
	// (pаypal.com with a Cyrillic а) or written entirely in letters that
	// imitate Latin ones, as a look-alike of another domain would be.
	Warnings []string
}

// ParseDomain validates name under policy and returns it in A-labels. name may
// be in Unicode or in A-labels, in any case, with or without a final dot.
// A rejection is a *backend.Error naming the rule that failed. Names are
// mapped with the UTS 46 lookup profile of golang.org/x/net/idna; a valid
// name whose labels mix scripts gets a warning in Domain.Warnings.
func ParseDomain(name string, policy Policy) (Domain, error) {
	raw := name
	name = strings.TrimSpace(name)
	if name == "" {
		return Domain{}, invalid(opParse, raw, ReasonEmpty, "the domain name is empty")
	}
	if strings.HasSuffix(name, ".") && !strings.HasSuffix(name, "..") {
		name = strings.TrimSuffix(name, ".")
	}
	if utf8.RuneCountInString(name) > maxNameLen {
		return Domain{}, invalid(opParse, raw, ReasonNameLength, "the name has %d characters; at most %d are allowed", utf8.RuneCountInString(name), maxNameLen)
	}
	for _, l := range strings.Split(name, ".") {
		if l == "" {
			return Domain{}, invalid(opParse, raw, ReasonLabelEmpty, "the name has an empty label (a leading dot or two dots in a row)")
		}
	}
	ascii := name
	if !isASCII(name) {
		if !utf8.ValidString(name) {
			return Domain{}, invalid(opParse, raw, ReasonIDNA, "the name is not valid UTF-8")
		}
		a, err := idna.Lookup.ToASCII(name)
		if err != nil {
			return Domain{}, invalid(opParse, raw, ReasonIDNA, "the internationalized name cannot be converted to A-labels: %v", err)
		}
		ascii = a
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > maxNameLen {
		return Domain{}, invalid(opParse, raw, ReasonNameLength, "the name has %d characters in A-labels; at most %d are allowed", len(ascii), maxNameLen)
	}
	labels := strings.Split(ascii, ".")
	for _, l := range labels {
		if err := checkHostLabel(raw, l); err != nil {
			return Domain{}, err
		}
	}
	unicode, err := idna.Lookup.ToUnicode(ascii)
	if err != nil {
		return Domain{}, invalid(opParse, raw, ReasonIDNA, "the name is not valid IDNA: %v", err)
	}
	if len(labels) < 2 {
		return Domain{}, invalid(opParse, raw, ReasonPublicSuffix, "%q has no public suffix: a domain has at least two labels, such as contoso.com", ascii)
	}
	suffix, icann := publicsuffix.PublicSuffix(ascii)
	if !icann && !strings.Contains(suffix, ".") {
		return Domain{}, invalid(opParse, raw, ReasonPublicSuffix, "the top-level domain %q is not in the Public Suffix List", suffix)
	}
	if suffix == ascii {
		return Domain{}, invalid(opParse, raw, ReasonPublicSuffix, "%q is a public suffix, not a domain that can be registered", ascii)
	}
	registrable, err := publicsuffix.EffectiveTLDPlusOne(ascii)
	if err != nil {
		return Domain{}, invalid(opParse, raw, ReasonPublicSuffix, "no registrable domain: %v", err)
	}
	d := Domain{
		Name:          ascii,
		Unicode:       unicode,
		PublicSuffix:  suffix,
		Registrable:   registrable,
		Subdomain:     ascii != registrable,
		PrivateSuffix: !icann,
	}
	d.Warnings = scriptWarnings(unicode)
	if policy == PolicyEssentials && d.Subdomain {
		return Domain{}, invalid(opParse, raw, ReasonEssentialsSubdomain, "the Essentials policy accepts second-level domains such as %s only, not the subdomain %s; use the modern policy for subdomains", registrable, ascii)
	}
	return d, nil
}

// checkHostLabel checks one ASCII label of a host name: LDH, no leading or
// trailing hyphen, at most 63 characters, "--" in positions 3-4 only in a
// valid A-label.
func checkHostLabel(raw, l string) error {
	if l == "" {
		return invalid(opParse, raw, ReasonLabelEmpty, "the name has an empty label")
	}
	if len(l) > maxLabelLen {
		return invalid(opParse, raw, ReasonLabelLength, "the label %q has %d characters; at most %d are allowed", short(l), len(l), maxLabelLen)
	}
	for i := 0; i < len(l); i++ {
		if !isLDH(l[i]) {
			return invalid(opParse, raw, ReasonLabelCharacters, "the label %q contains %q; only letters, digits and hyphens are allowed", l, l[i])
		}
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return invalid(opParse, raw, ReasonLabelHyphen, "the label %q starts or ends with a hyphen", l)
	}
	if len(l) >= 4 && l[2] == '-' && l[3] == '-' {
		if !strings.HasPrefix(l, "xn--") {
			return invalid(opParse, raw, ReasonLabelReserved, "the label %q has \"--\" in positions 3 and 4, which is reserved for A-labels (xn--)", l)
		}
		u, err := idna.Lookup.ToUnicode(l)
		if err != nil {
			return invalid(opParse, raw, ReasonIDNA, "the A-label %q is not valid IDNA: %v", l, err)
		}
		back, err := idna.Lookup.ToASCII(u)
		if err != nil || back != l || u == l {
			return invalid(opParse, raw, ReasonIDNA, "the A-label %q does not decode to a valid internationalized label", l)
		}
	}
	return nil
}

// checkOwnerName checks an owner name for a record under domain: a valid
// name (see checkName) at or below domain.
func checkOwnerName(owner, domain string) error {
	if err := checkName(owner, ReasonOwnerName, "the owner name"); err != nil {
		return err
	}
	o := strings.ToLower(strings.TrimSuffix(owner, "."))
	if o != domain && !strings.HasSuffix(o, "."+domain) {
		return invalid(opParse, owner, ReasonOwnerName, "the owner name is not %s or below it", domain)
	}
	return nil
}

// checkHostName checks a target host name (MX exchange, CNAME or SRV target).
func checkHostName(name string) error {
	return checkName(name, ReasonRecordValue, "the target host name")
}

// checkName checks a DNS name: labels of letters, digits, hyphens and
// underscores (RFC 8552 allows _dmarc and _sip._tls; DKIM targets contain
// _domainkey), and the label and name lengths. what names it in messages.
func checkName(name string, rule backend.Reason, what string) error {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	if n == "" {
		return invalid(opParse, name, rule, "%s is empty", what)
	}
	if len(n) > maxNameLen {
		return invalid(opParse, name, rule, "%s has %d characters; at most %d are allowed", what, len(n), maxNameLen)
	}
	for _, l := range strings.Split(n, ".") {
		if l == "" || len(l) > maxLabelLen {
			return invalid(opParse, name, rule, "%s has an empty label or one longer than %d characters", what, maxLabelLen)
		}
		for i := 0; i < len(l); i++ {
			if !isLDH(l[i]) && l[i] != '_' {
				return invalid(opParse, name, rule, "%s contains %q", what, l[i])
			}
		}
	}
	return nil
}

func isLDH(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func short(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
