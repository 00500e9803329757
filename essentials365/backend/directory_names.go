package backend

import (
	"strings"
	"unicode/utf8"
)

// CheckName refuses a name or lookup key that Active Directory would
// misread: one holding a control character (NUL, CR, LF, TAB or any other
// C0 code, or DEL) or bytes that are not UTF-8. A domain controller cuts a
// value at a NUL ("ann\x00x" finds or changes ann) and stores CR and LF in
// names that no tool can then show or delete cleanly, so every directory
// driver and the memory directory apply this check, the same way, to the
// names they take (sAMAccountName, userPrincipalName, display, given and
// surname) and to every lookup, before any I/O. key is the error's Key
// (the object: the sAMAccountName of a new user, the name looked up);
// what names the field in the message ("the display name"). The error is
// InvalidArgument with [ReasonNameCharacters]. An empty name passes:
// whether a field is required is another rule.
func CheckName(op, key, what, name string) error {
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return Invalid(op, key, ReasonNameCharacters, "%s is not valid UTF-8 (byte %d)", what, i)
		case r < 0x20 || r == 0x7f:
			return Invalid(op, key, ReasonNameCharacters, "%s cannot hold the control character %U", what, r)
		}
		i += size
	}
	return nil
}

// MaxCN is the longest common name (the rangeUpper of cn) Active
// Directory accepts.
const MaxCN = 64

// UniqueCN returns the common name a new user gets when cn, its display
// name (else its sAMAccountName), is taken in the container: cn followed
// by the sAMAccountName in parentheses, "Jean Martin (jmartin2)", with cn
// cut (and trailing spaces dropped) so that the result keeps within
// [MaxCN] characters. Every directory driver follows this rule.
func UniqueCN(cn, sam string) string {
	suffix := " (" + sam + ")"
	room := MaxCN - utf8.RuneCountInString(suffix)
	if r := []rune(cn); len(r) > room {
		cn = string(r[:max(room, 0)])
	}
	return strings.TrimRight(cn, " ") + suffix
}
