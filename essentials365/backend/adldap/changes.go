package adldap

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Change tracking follows uSNChanged, which every write to an object sets
// to the server's next update sequence number. A watermark holds the
// server's invocationId and its highestCommittedUSN when the previous call
// read it; the next call reports the user accounts with uSNChanged above it
// (upserts) and the deleted user objects (tombstones, read with the
// show-deleted control) above it. USNs are local to one domain controller:
// a watermark from another DC, or from before a restore (new
// invocationId), is refused with FailedPrecondition and rule
// [backend.ReasonWatermarkStale]; start again with an empty watermark.

const watermarkPrefix = "adusn1."

// watermark is the decoded form of the opaque string.
type watermark struct {
	invocation string // hex of the DC's invocationId
	usn        uint64
}

func (w watermark) String() string {
	return watermarkPrefix + base64.RawURLEncoding.EncodeToString([]byte(w.invocation+":"+strconv.FormatUint(w.usn, 10)))
}

func parseWatermark(op, s string) (watermark, error) {
	bad := backend.Invalid(op, s, backend.ReasonWatermark, "the watermark is malformed")
	rest, ok := strings.CutPrefix(s, watermarkPrefix)
	if !ok {
		return watermark{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return watermark{}, bad
	}
	inv, usn, ok := strings.Cut(string(raw), ":")
	if _, err := hex.DecodeString(inv); !ok || err != nil || len(inv) != 32 {
		return watermark{}, bad
	}
	n, err := strconv.ParseUint(usn, 10, 64)
	if err != nil {
		return watermark{}, bad
	}
	return watermark{invocation: inv, usn: n}, nil
}

// Changes returns the users created, modified, enabled, disabled or
// deleted since the watermark, each once with its state now. An empty
// watermark returns every current user (as ListUsers selects them) as an
// upsert. Every change since the watermark comes in one answer: More is
// never set.
//
// A user's first logon also counts as a modification: AD then writes
// lastLogonTimestamp (and again every 9 to 14 days).
func (d *Directory) Changes(ctx context.Context, wm string) (backend.DirectoryChanges, error) {
	const op = backend.OpDirectoryChanges
	var out backend.DirectoryChanges
	if err := backend.CtxErr(ctx, op); err != nil {
		return out, err
	}
	var from watermark
	if wm != "" {
		var err error
		if from, err = parseWatermark(op, wm); err != nil {
			return out, err
		}
	}
	err := d.do(ctx, op, wm, func(c *ldap.Conn) error {
		root, err := readRootDSE(c)
		if err != nil {
			return err
		}
		high, err := strconv.ParseUint(root.GetAttributeValue("highestCommittedUSN"), 10, 64)
		if err != nil {
			return backend.Errorf(backend.Unknown, op, wm, "unreadable highestCommittedUSN")
		}
		inv, err := d.invocationID(c, root.GetAttributeValue("dsServiceName"))
		if err != nil {
			return err
		}
		if wm != "" {
			if from.invocation != inv || from.usn > high {
				return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: wm, Reason: backend.ReasonWatermarkStale,
					Msg: "the watermark is from another domain controller or database; start over with an empty watermark"}
			}
		}
		out.Watermark = watermark{invocation: inv, usn: high}.String()
		attrs := append(append([]string(nil), d.attrs...), "uSNChanged")
		filter := listFilter
		if wm != "" {
			filter = "(&" + listFilter + usnRange(from.usn, high) + ")"
		}
		err = d.searchPaged(c, d.baseDN, filter, attrs, nil, func(e *ldap.Entry) (bool, error) {
			u, err := d.toUser(e)
			if err != nil {
				return false, err
			}
			out.Changes = append(out.Changes, backend.DirectoryChange{Type: backend.Upserted, User: u})
			return true, nil
		})
		if err != nil || wm == "" {
			return err
		}
		// Tombstones keep objectGUID, sAMAccountName and objectClass; the
		// user class without computers selects deleted users.
		deleted := "(&(isDeleted=TRUE)(objectClass=user)(!(objectClass=computer))" + usnRange(from.usn, high) + ")"
		return d.searchPaged(c, d.baseDN, deleted, []string{"objectGUID", "sAMAccountName", "userPrincipalName", "displayName", "uSNChanged"},
			[]ldap.Control{ldap.NewControlMicrosoftShowDeleted()}, func(e *ldap.Entry) (bool, error) {
				id, ok := guidFromBytes(e.GetRawAttributeValue("objectGUID"))
				if !ok {
					return true, nil
				}
				out.Changes = append(out.Changes, backend.DirectoryChange{Type: backend.Deleted, User: backend.DirectoryUser{
					ID:                id,
					DN:                e.DN,
					SAMAccountName:    e.GetAttributeValue("sAMAccountName"),
					UserPrincipalName: e.GetAttributeValue("userPrincipalName"),
					DisplayName:       e.GetAttributeValue("displayName"),
				}})
				return true, nil
			})
	})
	if err != nil {
		return backend.DirectoryChanges{}, err
	}
	return out, nil
}

// usnRange matches uSNChanged in (after, upTo].
func usnRange(after, upTo uint64) string {
	return "(uSNChanged>=" + strconv.FormatUint(after+1, 10) + ")(uSNChanged<=" + strconv.FormatUint(upTo, 10) + ")"
}

// invocationID reads the invocationId of the DC's NTDS Settings object.
func (d *Directory) invocationID(c *ldap.Conn, dsServiceName string) (string, error) {
	res, err := c.Search(ldap.NewSearchRequest(dsServiceName, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", []string{"invocationId"}, nil))
	if err != nil {
		return "", err
	}
	if len(res.Entries) != 1 || len(res.Entries[0].GetRawAttributeValue("invocationId")) != 16 {
		return "", backend.Errorf(backend.Unknown, backend.OpDirectoryChanges, dsServiceName, "no invocationId on the server's NTDS Settings")
	}
	return hex.EncodeToString(res.Entries[0].GetRawAttributeValue("invocationId")), nil
}
