package backend

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rules Microsoft 365 applies to names and passwords. Drivers that keep the
// service's rules (the memory tenant) and the portable packages that check
// input before any change (accounts) share them from here, so the two never
// disagree.

// OnlinePasswordOK reports whether p meets Microsoft 365's password policy:
// 8 to 256 characters from at least three of upper case, lower case, digits
// and symbols.
func OnlinePasswordOK(p string) bool {
	n := len([]rune(p))
	if n < 8 || n > 256 {
		return false
	}
	var upper, lower, digit, symbol bool
	for _, r := range p {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			symbol = true
		}
	}
	classes := 0
	for _, b := range []bool{upper, lower, digit, symbol} {
		if b {
			classes++
		}
	}
	return classes >= 3
}

// OnlineLocalPartAllowed reports whether Microsoft 365 accepts r in the part
// of a user principal name or address before the @: A–Z, a–z, 0–9 and
// ' . - _ ! # ^ ~.
func OnlineLocalPartAllowed(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("'.-_!#^~", r)
}

// OnlineLocalPartRule checks the part before the @ of a user principal name
// or address and returns the rule it breaks: "syntax" (empty, longer than
// 64, a period at either end or two in a row), "characters", or "" when it is
// fine.
func OnlineLocalPartRule(local string) string {
	if local == "" || len(local) > 64 {
		return "syntax"
	}
	for _, r := range local {
		if !OnlineLocalPartAllowed(r) {
			return "characters"
		}
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "syntax"
	}
	return ""
}

// Rules of Active Directory's default password policy, shared by the
// memory directory (which applies them) and the LDAP driver (which names the
// rule a domain controller's refusal broke).

// PasswordClasses counts the character classes of Windows' complexity
// rule present in pw: upper case, lower case, digits, letters without case
// (e.g. CJK) and symbols. The policy asks for 3.
func PasswordClasses(pw string) int {
	var upper, lower, digit, letter, other bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case unicode.IsLetter(r):
			letter = true
		default:
			other = true
		}
	}
	n := 0
	for _, b := range []bool{upper, lower, digit, letter, other} {
		if b {
			n++
		}
	}
	return n
}

// PasswordContainsName applies Windows' name check: the sAMAccountName (3+
// characters) or a token of the display name (3+ characters, split at
// , . - _ # space and tab) appears in pw, ignoring case.
func PasswordContainsName(pw, sam, displayName string) bool {
	lp := strings.ToLower(pw)
	if utf8.RuneCountInString(sam) >= 3 && strings.Contains(lp, strings.ToLower(sam)) {
		return true
	}
	for _, tok := range strings.FieldsFunc(displayName, func(r rune) bool { return strings.ContainsRune(",.-_# \t", r) }) {
		if utf8.RuneCountInString(tok) >= 3 && strings.Contains(lp, strings.ToLower(tok)) {
			return true
		}
	}
	return false
}

// SAMForbidden holds the characters Active Directory refuses in a
// sAMAccountName.
const SAMForbidden = `"/\[]:;|=,+*?<>@`

// CheckSAMAccountName applies Active Directory's sAMAccountName rules and
// names the one that fails: [ReasonSAMRequired], [ReasonSAMLength] (more
// than 20 characters) or [ReasonSAMCharacters] (a forbidden character or a
// trailing period); a control character gives [ReasonNameCharacters], as
// [CheckName] does for every name.
func CheckSAMAccountName(op, sam string) error {
	if err := CheckName(op, sam, "a sAMAccountName", sam); err != nil {
		return err
	}
	if strings.TrimSpace(sam) == "" {
		return Invalid(op, sam, ReasonSAMRequired, "a sAMAccountName is required")
	}
	if n := utf8.RuneCountInString(sam); n > 20 {
		return Invalid(op, sam, ReasonSAMLength, "a sAMAccountName has at most 20 characters, not %d", n)
	}
	for _, r := range sam {
		if strings.ContainsRune(SAMForbidden, r) {
			return Invalid(op, sam, ReasonSAMCharacters, "a sAMAccountName cannot hold %q", r)
		}
	}
	if strings.HasSuffix(sam, ".") {
		return Invalid(op, sam, ReasonSAMCharacters, "a sAMAccountName cannot end with a period")
	}
	return nil
}
