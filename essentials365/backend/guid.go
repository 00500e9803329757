package backend

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// GUID is an Active Directory objectGUID, the stable anchor of a user, in the
// byte order AD stores it (the first three fields little-endian).
type GUID [16]byte

// NewGUID returns a random (version 4) GUID.
func NewGUID() GUID {
	var g GUID
	_, _ = rand.Read(g[:])  // crypto/rand.Read never fails on supported platforms
	g[7] = g[7]&0x0f | 0x40 // version 4 (byte 7 holds the high byte of the third field)
	g[8] = g[8]&0x3f | 0x80
	return g
}

// IsZero reports whether g is the zero GUID.
func (g GUID) IsZero() bool { return g == GUID{} }

// String returns the usual text form, e.g. 7e2b1a3c-...: the first three
// fields are read little-endian, as Windows does.
func (g GUID) String() string {
	return fmt.Sprintf("%08x-%04x-%04x-%s-%s",
		binary.LittleEndian.Uint32(g[0:4]),
		binary.LittleEndian.Uint16(g[4:6]),
		binary.LittleEndian.Uint16(g[6:8]),
		hex.EncodeToString(g[8:10]),
		hex.EncodeToString(g[10:16]))
}

// ImmutableID returns the value Microsoft 365 keeps in a synchronized user's
// onPremisesImmutableId: the base64 of the objectGUID's bytes, as Entra
// Connect sets it.
func (g GUID) ImmutableID() string { return base64.StdEncoding.EncodeToString(g[:]) }

// ReasonGUIDSyntax (InvalidArgument): a GUID's text is not
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in hexadecimal digits.
const ReasonGUIDSyntax Reason = "guid-syntax"

// ParseGUID parses the text form written by [GUID.String] (braces allowed);
// anything else gives InvalidArgument with [ReasonGUIDSyntax].
func ParseGUID(s string) (GUID, error) {
	t := strings.TrimSpace(s)
	if inner, ok := strings.CutPrefix(t, "{"); ok {
		if t, ok = strings.CutSuffix(inner, "}"); !ok {
			return GUID{}, Invalid("backend: parse guid", s, ReasonGUIDSyntax, "a GUID's opening brace has no closing brace")
		}
	}
	parts := strings.Split(t, "-")
	if len(parts) != 5 || len(parts[0]) != 8 || len(parts[1]) != 4 || len(parts[2]) != 4 || len(parts[3]) != 4 || len(parts[4]) != 12 {
		return GUID{}, Invalid("backend: parse guid", s, ReasonGUIDSyntax, "a GUID looks like xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
	}
	raw, err := hex.DecodeString(strings.Join(parts, ""))
	if err != nil {
		return GUID{}, Invalid("backend: parse guid", s, ReasonGUIDSyntax, "a GUID holds hexadecimal digits only")
	}
	var g GUID
	binary.LittleEndian.PutUint32(g[0:4], binary.BigEndian.Uint32(raw[0:4]))
	binary.LittleEndian.PutUint16(g[4:6], binary.BigEndian.Uint16(raw[4:6]))
	binary.LittleEndian.PutUint16(g[6:8], binary.BigEndian.Uint16(raw[6:8]))
	copy(g[8:], raw[8:])
	return g, nil
}

// GUIDFromImmutableID decodes an onPremisesImmutableId written by
// [GUID.ImmutableID].
func GUIDFromImmutableID(id string) (GUID, error) {
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil || len(raw) != 16 {
		return GUID{}, Invalid("backend: decode immutable id", id, ReasonImmutableID, "an immutableId made from an objectGUID is the base64 of 16 bytes")
	}
	var g GUID
	copy(g[:], raw)
	// The decoder skips line breaks and ignores the unused bits of the
	// last character: only the one text [GUID.ImmutableID] writes names g,
	// so two different immutableIds never match the same user.
	if g.ImmutableID() != id {
		return GUID{}, Invalid("backend: decode immutable id", id, ReasonImmutableID, "the immutableId is not in the form Entra Connect writes (the base64 of 16 bytes, padded, on one line)")
	}
	return g, nil
}
