package m365emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// userFilter is a parsed $filter on users. The emulator understands the
// forms a driver needs:
//
//	userPrincipalName eq '...'
//	onPremisesImmutableId eq '...'
//	id eq '...', mail eq '...', displayName eq '...'
//	startswith(userPrincipalName,'...'), startswith(displayName,'...'), startswith(mail,'...')
//
// Anything else is rejected with Graph's 400 Request_UnsupportedQuery, never
// ignored.
type userFilter struct {
	op    string // "eq" or "startswith"
	prop  string // canonical property name
	value string
}

var (
	filterEqProps         = []string{"userPrincipalName", "onPremisesImmutableId", "id", "mail", "displayName"}
	filterStartsWithProps = []string{"userPrincipalName", "displayName", "mail"}
)

// filterError is a $filter the emulator rejects; unsupported tells an
// understood but unsupported clause from a malformed one.
type filterError struct {
	msg         string
	unsupported bool
}

func (e *filterError) Error() string { return e.msg }

func unsupportedFilter(prop string) error {
	return &filterError{unsupported: true,
		msg: fmt.Sprintf("Unsupported or invalid query filter clause specified for property '%s' of resource 'User'.", prop)}
}

func parseFilter(raw string) (userFilter, error) {
	s := strings.TrimSpace(raw)
	if rest, ok := cutPrefixFold(s, "startswith("); ok {
		inner, ok := strings.CutSuffix(strings.TrimSpace(rest), ")")
		if !ok {
			return userFilter{}, &filterError{msg: "Invalid filter clause: missing ')'."}
		}
		prop, lit, ok := strings.Cut(inner, ",")
		if !ok {
			return userFilter{}, &filterError{msg: "Invalid filter clause: startswith takes a property and a string."}
		}
		prop = strings.TrimSpace(prop)
		v, err := parseLiteral(strings.TrimSpace(lit))
		if err != nil {
			return userFilter{}, err
		}
		canon, ok := canonical(filterStartsWithProps, prop)
		if !ok {
			return userFilter{}, unsupportedFilter(prop)
		}
		return userFilter{op: "startswith", prop: canon, value: v}, nil
	}
	prop, rest, ok := strings.Cut(s, " ")
	if !ok {
		return userFilter{}, &filterError{msg: "Invalid filter clause: " + s}
	}
	op, lit, ok := strings.Cut(strings.TrimSpace(rest), " ")
	if !ok {
		return userFilter{}, &filterError{msg: "Invalid filter clause: " + s}
	}
	if !strings.EqualFold(op, "eq") {
		return userFilter{}, unsupportedFilter(prop)
	}
	v, err := parseLiteral(strings.TrimSpace(lit))
	if err != nil {
		// A non-string operand (true, a number, a compound clause) is not a
		// form the emulator serves.
		return userFilter{}, unsupportedFilter(prop)
	}
	canon, ok := canonical(filterEqProps, prop)
	if !ok {
		return userFilter{}, unsupportedFilter(prop)
	}
	return userFilter{op: "eq", prop: canon, value: v}, nil
}

// parseLiteral parses an OData string literal: quoted, with ” for '.
func parseLiteral(s string) (string, error) {
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return "", &filterError{msg: "Invalid filter clause: expected a quoted string, got " + s}
	}
	inner := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if c == '\'' {
			if i+1 < len(inner) && inner[i+1] == '\'' {
				i++
			} else {
				return "", &filterError{msg: "Invalid filter clause: unescaped quote in " + s}
			}
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

func canonical(props []string, p string) (string, bool) {
	for _, c := range props {
		if strings.EqualFold(c, p) {
			return c, true
		}
	}
	return "", false
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// parseTop parses $top: 1 to 999, as Graph allows for users.
func parseTop(raw string, def int) (int, error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 999 {
		return 0, graphMessage(fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", raw))
	}
	return n, nil
}

// pageToken is the state a $skiptoken or $deltatoken carries. For lists it
// is an offset; for delta, the tenant's opaque watermark and the $select of
// the round.
type pageToken struct {
	Offset    int    `json:"o,omitempty"`
	Watermark string `json:"w,omitempty"`
	Select    string `json:"s,omitempty"`
	// Size is the page size asked with "Prefer: odata.maxpagesize", kept
	// for the following pages (clients do not resend the header).
	Size int `json:"n,omitempty"`
}

func (t pageToken) encode() string {
	b, _ := json.Marshal(t) // a struct of ints and strings always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string) (pageToken, error) {
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	// A token the emulator did not write (a negative offset, a page size
	// Graph would not allow) is refused, not served.
	if err != nil || t.Offset < 0 || t.Size < 0 || t.Size > 999 {
		return pageToken{}, graphMessage("The specified page token value has expired or is invalid.")
	}
	return t, nil
}

// link builds an absolute link: base + path + the given query pairs, with
// '$' kept literal in names as Graph writes them.
func link(base, path string, pairs ...string) string {
	var b strings.Builder
	b.WriteString(base)
	b.WriteString(path)
	sep := "?"
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		b.WriteString(sep)
		b.WriteString(pairs[i])
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(pairs[i+1]), "+", "%20"))
		sep = "&"
	}
	return b.String()
}

// firstUnsupported returns the first OData system query option of q not in
// allowed ("" if none): the emulator rejects options it does not implement
// ($orderby, $search, $count, $expand, ...) rather than answer as if they
// were absent.
func firstUnsupported(q url.Values, allowed ...string) string {
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if !strings.HasPrefix(k, "$") {
			continue
		}
		ok := false
		for _, a := range allowed {
			if strings.EqualFold(k, a) {
				ok = true
			}
		}
		if !ok {
			return k
		}
	}
	return ""
}
