package pwsync

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Reasons of this package.
const (
	// ReasonLDIFSyntax (InvalidArgument): the hook's input is not one LDIF
	// record as syncpasswords writes it. The message names the line and the
	// attribute, never a value.
	ReasonLDIFSyntax backend.Reason = "ldif-syntax"
	// ReasonLDIFTooLarge (InvalidArgument): the hook's input is larger than
	// MaxRecordSize.
	ReasonLDIFTooLarge backend.Reason = "ldif-too-large"
	// ReasonPusherRequired (InvalidArgument): New was given no Pusher.
	ReasonPusherRequired backend.Reason = "pusher-required"
)

// MaxRecordSize bounds the LDIF record a hook accepts (one account's
// attributes are a few hundred bytes).
const MaxRecordSize = 1 << 20

// The userAccountControl flags the agent reads.
const (
	uacAccountDisable = 0x2
	uacNormalAccount  = 0x200
)

// Secret holds a password. It prints, formats, logs and marshals as
// "[redacted]": only Reveal gives the value, for the one call that needs it.
type Secret struct{ v string }

const redacted = "[redacted]"

// Reveal returns the password.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether there is no password.
func (s Secret) IsZero() bool { return s.v == "" }

func (Secret) String() string                { return redacted }
func (Secret) GoString() string              { return redacted }
func (Secret) LogValue() slog.Value          { return slog.StringValue(redacted) }
func (Secret) MarshalText() ([]byte, error)  { return []byte(redacted), nil }
func (Secret) MarshalJSON() ([]byte, error)  { return []byte(`"` + redacted + `"`), nil }
func (Secret) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, redacted) }

func newSecret(b []byte) Secret { return Secret{v: string(b)} }

// Change is one account as `samba-tool user syncpasswords` hands it to its
// script: its state now, not a diff.
type Change struct {
	DN                string
	ID                backend.GUID
	SAMAccountName    string
	UserPrincipalName string
	// UserAccountControl is the account's flags (0 when absent).
	UserAccountControl int
	// PasswordLastSet is pwdLastSet (a Windows FILETIME); zero when the
	// user must change the password at next logon.
	PasswordLastSet time.Time
	// KeyVersion is msDS-KeyVersionNumber: it rises by one with each
	// password change and stays the same on a disable or a rename. 0 when
	// absent.
	KeyVersion int
	// Deleted is set for a deleted or recycled object.
	Deleted bool
	// Password is the cleartext (virtualClearTextUTF8); zero when the
	// record carries none (no password set since the GPG option was
	// configured, or an account without a password).
	Password Secret
}

// Disabled reports whether the account is disabled.
func (c Change) Disabled() bool { return c.UserAccountControl&uacAccountDisable != 0 }

// Key names the account in logs: its sAMAccountName, else its objectGUID.
func (c Change) Key() string {
	if c.SAMAccountName != "" {
		return c.SAMAccountName
	}
	return c.ID.String()
}

// ParseLDIF reads one LDIF record as syncpasswords writes it to its
// script: folded lines, base64 values ("::"), comments, attributes in any
// order. Errors name the line and the attribute, never a value.
func ParseLDIF(r io.Reader) (Change, error) {
	const op = "pwsync: parse change"
	data, err := io.ReadAll(io.LimitReader(r, MaxRecordSize+1))
	if err != nil {
		return Change{}, backend.Wrap(err, backend.Unavailable, op, "")
	}
	if len(data) > MaxRecordSize {
		return Change{}, backend.Invalid(op, "", ReasonLDIFTooLarge, "the record is larger than %d bytes", MaxRecordSize)
	}
	lines, err := unfold(data)
	if err != nil {
		return Change{}, backend.WithOp(err, op, "")
	}
	var c Change
	var haveGUID bool
	seen := map[string]bool{}
	for _, l := range lines {
		name, val, err := attrValue(l)
		if err != nil {
			return Change{}, backend.WithOp(err, op, "")
		}
		bad := func(what string) error {
			clear(val)
			return backend.Invalid(op, "", ReasonLDIFSyntax, "line %d: %s %s", l.no, name, what)
		}
		lower := strings.ToLower(name)
		if singleValued[lower] {
			// A second value would silently replace the first: two
			// passwords or two GUIDs in one record is not ours to pick.
			if seen[lower] {
				return Change{}, bad("appears more than once")
			}
			seen[lower] = true
			if !utf8.Valid(val) {
				// A password that is not UTF-8 would reach the tenant
				// altered (JSON replaces the bytes), so it is refused.
				return Change{}, bad("is not UTF-8 text")
			}
		}
		switch lower {
		case "dn":
			c.DN = string(val)
		case "objectguid":
			g, err := backend.ParseGUID(string(val))
			if err != nil {
				return Change{}, bad("is not a GUID")
			}
			c.ID, haveGUID = g, true
		case "samaccountname":
			c.SAMAccountName = string(val)
		case "userprincipalname":
			c.UserPrincipalName = string(val)
		case "useraccountcontrol":
			// A 32-bit flags word, written signed or unsigned.
			n, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil || n < -1<<31 || n > 1<<32-1 {
				return Change{}, bad("is not a 32-bit number")
			}
			c.UserAccountControl = int(uint32(n))
		case "pwdlastset":
			n, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil {
				return Change{}, bad("is not a number")
			}
			c.PasswordLastSet = FileTime(n)
		case "msds-keyversionnumber":
			n, err := strconv.Atoi(string(val))
			if err != nil || n < 0 {
				return Change{}, bad("is not a number")
			}
			c.KeyVersion = n
		case "isdeleted", "isrecycled":
			if strings.EqualFold(string(val), "TRUE") {
				c.Deleted = true
			}
		case "virtualcleartextutf8":
			c.Password = newSecret(val)
		}
		clear(val)
	}
	if c.DN == "" {
		return Change{}, backend.Invalid(op, "", ReasonLDIFSyntax, "the record has no dn")
	}
	if !haveGUID {
		return Change{}, backend.Invalid(op, "", ReasonLDIFSyntax, "the record has no objectGUID (initialise the syncpasswords cache with --attributes=objectGUID,...)")
	}
	return c, nil
}

// singleValued are the attributes the agent reads; each may appear once.
var singleValued = map[string]bool{
	"dn": true, "objectguid": true, "samaccountname": true, "userprincipalname": true,
	"useraccountcontrol": true, "pwdlastset": true, "msds-keyversionnumber": true,
	"isdeleted": true, "isrecycled": true, "virtualcleartextutf8": true,
}

// validAttrName reports whether s is an LDIF attribute description: a
// name (letter, then letters, digits, hyphens) or a numeric OID, with
// optional ";option" parts. Anything else is not printed in errors (it may
// be a piece of a wrongly folded value).
func validAttrName(s string) bool {
	for i, part := range strings.Split(s, ";") {
		if part == "" {
			return false
		}
		oid := i == 0 && part[0] >= '0' && part[0] <= '9'
		for j := 0; j < len(part); j++ {
			ch := part[j]
			switch {
			case ch >= '0' && ch <= '9':
			case ch == '.' && oid:
			case (ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch == '-') && !oid:
				if j == 0 && ch == '-' {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

type ldifLine struct {
	no   int
	text []byte
}

// unfold joins continuation lines (starting with one space) and drops
// comments and the empty lines that end the record.
func unfold(data []byte) ([]ldifLine, error) {
	var out []ldifLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxRecordSize+1)
	no, comment := 0, false
	ended := false
	for sc.Scan() {
		no++
		l := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		switch {
		case len(l) == 0:
			ended = len(out) > 0
			comment = false
			continue
		case l[0] == ' ':
			if comment {
				continue
			}
			if len(out) == 0 {
				return nil, backend.Invalid("", "", ReasonLDIFSyntax, "line %d: a continuation line with nothing to continue", no)
			}
			last := &out[len(out)-1]
			last.text = append(last.text, l[1:]...)
			continue
		case l[0] == '#':
			comment = true
			continue
		}
		comment = false
		if ended {
			return nil, backend.Invalid("", "", ReasonLDIFSyntax, "line %d: more than one record", no)
		}
		out = append(out, ldifLine{no: no, text: append([]byte(nil), l...)})
	}
	if err := sc.Err(); err != nil {
		return nil, backend.Invalid("", "", ReasonLDIFSyntax, "line %d: %v", no+1, err)
	}
	if len(out) == 0 {
		return nil, backend.Invalid("", "", ReasonLDIFSyntax, "the record is empty")
	}
	return out, nil
}

// attrValue splits "name: value" or "name:: base64".
func attrValue(l ldifLine) (string, []byte, error) {
	i := bytes.IndexByte(l.text, ':')
	if i <= 0 {
		return "", nil, backend.Invalid("", "", ReasonLDIFSyntax, "line %d: not an attribute line", l.no)
	}
	name := string(l.text[:i])
	if !validAttrName(name) {
		return "", nil, backend.Invalid("", "", ReasonLDIFSyntax, "line %d: not an attribute line", l.no)
	}
	rest := l.text[i+1:]
	switch {
	case len(rest) > 0 && rest[0] == ':':
		enc := bytes.TrimSpace(rest[1:])
		val := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
		n, err := base64.StdEncoding.Decode(val, enc)
		clear(l.text)
		if err != nil {
			return "", nil, backend.Invalid("", "", ReasonLDIFSyntax, "line %d: %s is not valid base64", l.no, name)
		}
		return name, val[:n], nil
	case len(rest) > 0 && rest[0] == '<':
		return "", nil, backend.Invalid("", "", ReasonLDIFSyntax, "line %d: %s is given by URL, which is not supported", l.no, name)
	}
	return name, bytes.TrimLeft(rest, " "), nil
}

// FileTime converts a Windows FILETIME (100 ns since 1601) to a time; 0,
// negative and "never" give the zero time.
func FileTime(ft int64) time.Time {
	if ft <= 0 || ft == 1<<63-1 {
		return time.Time{}
	}
	const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	// Seconds and remainder separately: (ft-epochDiff)*100 overflows an
	// int64 for dates after 2262.
	d := ft - epochDiff
	return time.Unix(d/1e7, d%1e7*100).UTC()
}
