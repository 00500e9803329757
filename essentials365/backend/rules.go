package backend

import "strings"

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
