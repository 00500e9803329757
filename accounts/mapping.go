package accounts

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/essentials365/sdk/essentials365/backend"
)

// MappingState says whether a mapped online account is in use.
type MappingState string

const (
	// Assigned: the online account belongs to the user and follows it.
	MappingAssigned MappingState = "assigned"
	// Unassigned: the account was unassigned (license removed, sign-in
	// blocked) but the link between user name and online address is kept.
	MappingUnassigned MappingState = "unassigned"
	// MappingCreating: CreateUser created the network user and has not
	// finished its online account yet (ID is empty, UPN the online ID
	// asked for); running the same CreateUser again finishes it.
	MappingCreating MappingState = "creating"
)

// Mapping is the link between an on-premises user and its online account,
// kept in the user's mapping attribute in Active Directory, so it lives
// with the user. On the cloud side the online account's
// onPremisesImmutableId holds the base64 of the user's objectGUID, as Entra
// Connect sets it.
type Mapping struct {
	// ID is the online account's object id.
	ID string
	// UPN is the online ID (the sign-in and mail address).
	UPN   string
	State MappingState
}

const mappingPrefix = "e365:1;"

// String encodes the mapping for the directory attribute:
// "e365:1;id=<id>;upn=<upn>;state=<state>".
func (m Mapping) String() string {
	if m.ID == "" && m.UPN == "" {
		return ""
	}
	v := url.Values{}
	v.Set("id", m.ID)
	v.Set("upn", m.UPN)
	v.Set("state", string(m.State))
	return mappingPrefix + strings.ReplaceAll(v.Encode(), "&", ";")
}

// ParseMapping decodes a mapping attribute written by Mapping.String. An
// empty value is the zero Mapping; a value written by something else is an
// InvalidArgument error (the SDK never overwrites it silently).
func ParseMapping(s string) (Mapping, error) {
	if s == "" {
		return Mapping{}, nil
	}
	rest, ok := strings.CutPrefix(s, mappingPrefix)
	if !ok {
		return Mapping{}, backend.Invalid("accounts: parse mapping", s, ReasonMappingFormat, "the mapping attribute holds a value this SDK did not write")
	}
	v, err := url.ParseQuery(strings.ReplaceAll(rest, ";", "&"))
	if err != nil {
		return Mapping{}, backend.Invalid("accounts: parse mapping", s, ReasonMappingFormat, "the mapping attribute is malformed")
	}
	// String writes id, upn and state once each and nothing else: any
	// other shape was written or altered by something else.
	for _, k := range slices.Sorted(maps.Keys(v)) {
		vals := v[k]
		if k != "id" && k != "upn" && k != "state" {
			return Mapping{}, backend.Invalid("accounts: parse mapping", s, ReasonMappingFormat, "the mapping attribute has a field %q this SDK does not write", k)
		}
		if len(vals) != 1 {
			return Mapping{}, backend.Invalid("accounts: parse mapping", s, ReasonMappingFormat, "the mapping attribute has the field %q more than once", k)
		}
		if !utf8.ValidString(vals[0]) || strings.ContainsFunc(vals[0], unicode.IsControl) {
			return Mapping{}, backend.Invalid("accounts: parse mapping", s, ReasonMappingFormat, "the mapping attribute's field %q is not printable text", k)
		}
	}
	m := Mapping{ID: v.Get("id"), UPN: v.Get("upn"), State: MappingState(v.Get("state"))}
	if m.State != MappingAssigned && m.State != MappingUnassigned && m.State != MappingCreating {
		return Mapping{}, backend.Invalid("accounts: parse mapping", s, ReasonMappingFormat, "unknown mapping state %q", m.State)
	}
	if m.UPN == "" || m.State != MappingCreating && m.ID == "" {
		return Mapping{}, backend.Invalid("accounts: parse mapping", s, ReasonMappingFormat, "the mapping attribute lacks the online account's id or online ID")
	}
	return m, nil
}
