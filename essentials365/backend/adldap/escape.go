package adldap

import (
	"encoding/hex"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"

	"github.com/essentials365/sdk/essentials365/backend"
)

// escapeRDNValue escapes an attribute value for use in a DN (RFC 4514,
// section 2.4): the characters " + , ; < > \ = are backslash-escaped, as
// are a leading '#', leading and trailing spaces; NUL and other control
// characters become \hh hex pairs.
func escapeRDNValue(v string) string {
	var b strings.Builder
	last := len(v) - 1
	for i := 0; i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\` + hex.EncodeToString([]byte{v[i]}))
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\` + hex.EncodeToString([]byte{byte(r)}))
		case strings.ContainsRune(`"+,;<>\=`, r),
			r == '#' && i == 0,
			r == ' ' && (i == 0 || i+size-1 == last):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// escapeFilter escapes a value for use in a search filter (RFC 4515):
// * ( ) \ NUL become \2a \28 \29 \5c \00.
func escapeFilter(v string) string { return ldap.EscapeFilter(v) }

// escapeBytesFilter escapes every byte of a binary value, for filters on
// objectGUID.
func escapeBytesFilter(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		s.WriteByte('\\')
		s.WriteString(hex.EncodeToString([]byte{c}))
	}
	return s.String()
}

// guidFilter matches the object whose objectGUID is id.
func guidFilter(id backend.GUID) string { return "(objectGUID=" + escapeBytesFilter(id[:]) + ")" }

// encodePassword returns the unicodePwd value AD expects: the password in
// double quotes, encoded as UTF-16LE.
func encodePassword(pw string) string {
	u := utf16.Encode([]rune(`"` + pw + `"`))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i] = byte(c)
		b[2*i+1] = byte(c >> 8)
	}
	return string(b)
}
