package dnsrecords

import (
	"fmt"

	"github.com/essentials365/sdk/essentials365/backend"
)

// The rules a ValidationError can name.
const (
	RuleEmpty               = "empty"                // the name is empty
	RuleNameLength          = "name-length"          // more than 253 characters in all
	RuleLabelEmpty          = "label-empty"          // an empty label (leading dot, "..")
	RuleLabelLength         = "label-length"         // a label longer than 63 characters
	RuleLabelCharacters     = "label-ldh"            // a character other than a letter, digit or hyphen
	RuleLabelHyphen         = "label-hyphen"         // a label starting or ending with a hyphen
	RuleLabelReserved       = "label-reserved"       // "--" in positions 3 and 4 of a label that is not an A-label
	RuleIDNA                = "idna"                 // an internationalized name or xn-- label that is not valid IDNA
	RulePublicSuffix        = "public-suffix"        // no known public suffix, or the name is itself a public suffix
	RuleEssentialsSubdomain = "essentials-subdomain" // a subdomain under the Essentials policy
	RuleOwnerName           = "owner-name"           // a record owner name that is not valid or not under the domain
	RuleRecordType          = "record-type"          // a record type this package does not handle
	RuleRecordValue         = "record-value"         // a record value that is missing or malformed
	RuleOption              = "option"               // an option that is out of range or malformed
	RuleSPF                 = "spf"                  // an existing SPF record that cannot be merged
)

// ValidationError reports input that breaks a rule. It matches
// backend.ErrInvalidArgument with errors.Is.
type ValidationError struct {
	// Name is the input that was rejected (a domain, an owner name, a value).
	Name string
	// Rule is the rule that failed, one of the Rule constants.
	Rule string
	// Detail says in plain words what is wrong.
	Detail string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("dnsrecords: %q: rule %q: %s", e.Name, e.Rule, e.Detail)
}

// Is reports whether target is backend.ErrInvalidArgument.
func (e *ValidationError) Is(target error) bool {
	return target == backend.ErrInvalidArgument
}

func invalid(name, rule, format string, args ...any) *ValidationError {
	return &ValidationError{Name: name, Rule: rule, Detail: fmt.Sprintf(format, args...)}
}
