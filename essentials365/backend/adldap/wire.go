package adldap

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// A minimal BER codec for the listing path (see listing.go): go-ldap
// decodes every element of a search result into its own packet, about 300
// allocations per user, which made listing cost five times ldapsearch's
// CPU. This reads each LDAP message into one reused buffer and walks it in
// place. LDAP uses definite lengths only (RFC 4511, section 5.1).

// BER tags the listing reads and writes.
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagEnumerated  = 0x0a
	tagSequence    = 0x30
	tagSet         = 0x31
	tagBoolean     = 0x01

	tagBindRequest      = 0x60 // [APPLICATION 0] constructed
	tagBindResponse     = 0x61 // [APPLICATION 1]
	tagUnbindRequest    = 0x42 // [APPLICATION 2] primitive
	tagSearchRequest    = 0x63 // [APPLICATION 3]
	tagSearchEntry      = 0x64 // [APPLICATION 4]
	tagSearchDone       = 0x65 // [APPLICATION 5]
	tagSearchReference  = 0x73 // [APPLICATION 19]
	tagExtendedRequest  = 0x77 // [APPLICATION 23]
	tagExtendedResponse = 0x78 // [APPLICATION 24]
	tagControls         = 0xa0 // [0] constructed, in LDAPMessage
	tagSimpleAuth       = 0x80 // [0] primitive, in BindRequest
	tagExtendedName     = 0x80 // [0] primitive, in ExtendedRequest
)

// errMalformed reports a message that does not parse.
var errMalformed = errors.New("adldap: malformed LDAP message from the server")

// maxMessage bounds one LDAP message (64 MiB), as go-ldap's decoder does.
const maxMessage = 64 << 20

// appendTLV appends one BER element with a definite length.
func appendTLV(b []byte, tag byte, content ...[]byte) []byte {
	n := 0
	for _, c := range content {
		n += len(c)
	}
	b = append(b, tag)
	switch {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 0x100:
		b = append(b, 0x81, byte(n))
	case n < 0x10000:
		b = append(b, 0x82, byte(n>>8), byte(n))
	default:
		b = append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	for _, c := range content {
		b = append(b, c...)
	}
	return b
}

// berInt encodes a non-negative integer's content octets.
func berInt(v int64) []byte {
	var out []byte
	for {
		out = append([]byte{byte(v)}, out...)
		v >>= 8
		if v == 0 && out[0] < 0x80 {
			return out
		}
	}
}

// readMessage reads one LDAP message (a SEQUENCE) into buf, grown as
// needed, and returns its content.
func readMessage(r *bufio.Reader, buf []byte) ([]byte, []byte, error) {
	tag, err := r.ReadByte()
	if err != nil {
		return nil, buf, err
	}
	if tag != tagSequence {
		return nil, buf, errMalformed
	}
	first, err := r.ReadByte()
	if err != nil {
		return nil, buf, unexpected(err)
	}
	n := int(first)
	if first&0x80 != 0 {
		k := int(first & 0x7f)
		if k == 0 || k > 4 {
			return nil, buf, errMalformed
		}
		n = 0
		for range k {
			c, err := r.ReadByte()
			if err != nil {
				return nil, buf, unexpected(err)
			}
			n = n<<8 | int(c)
		}
	}
	if n < 0 || n > maxMessage { // n < 0: a 4-byte length on a 32-bit int
		return nil, buf, fmt.Errorf("adldap: LDAP message of %d bytes is too large", n)
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, buf, unexpected(err)
	}
	return buf, buf, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// next splits the first element off b: its tag, its content and the rest.
func next(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errMalformed
	}
	tag = b[0]
	n := int(b[1])
	i := 2
	if b[1]&0x80 != 0 {
		k := int(b[1] & 0x7f)
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, errMalformed
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		i += k
	}
	if n < 0 || n > len(b)-i {
		return 0, nil, nil, errMalformed
	}
	return tag, b[i : i+n], b[i+n:], nil
}

// expect splits off the first element and checks its tag.
func expect(b []byte, tag byte) (content, rest []byte, err error) {
	t, content, rest, err := next(b)
	if err != nil {
		return nil, nil, err
	}
	if t != tag {
		return nil, nil, errMalformed
	}
	return content, rest, nil
}

// parseInt reads the content of an INTEGER or ENUMERATED of up to 8 bytes.
func parseInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 8 {
		return 0, errMalformed
	}
	v := int64(int8(b[0]))
	for _, c := range b[1:] {
		v = v<<8 | int64(c)
	}
	return v, nil
}

// parseDecimal reads an attribute value holding a decimal integer
// (userAccountControl, pwdLastSet) without allocating. A value that is not
// a decimal int64 (including one that overflows) gives 0, as it did
// through strconv.ParseInt on the go-ldap path.
func parseDecimal(b []byte) int64 {
	neg := len(b) > 0 && b[0] == '-'
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0
		}
		if v > (1<<64-1)/10 {
			return 0
		}
		v = v*10 + uint64(c-'0')
		if v > 1<<63 {
			return 0
		}
	}
	if neg {
		return -int64(v)
	}
	if v > 1<<63-1 {
		return 0
	}
	return int64(v)
}

// equalFoldASCII compares an attribute description with a name, ignoring
// ASCII case, without allocating.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lowerASCII(b[i]) != lowerASCII(s[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
