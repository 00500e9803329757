package adldap

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Change tracking follows uSNChanged, which every write to an object sets
// to the server's next update sequence number. A run of Changes calls
// starts by reading the server's highestCommittedUSN (the rootDSE) and
// reports the user accounts, and with the show-deleted control the
// deleted users (tombstones), whose uSNChanged lies between the watermark
// and it, in one search. A long run is returned in parts (More set): each
// call searches a window of USNs sized so that one answer holds at most a
// few pages of users, and the watermark says where the run stands, so an
// empty watermark lists a large domain without holding it in memory.
//
// USNs are local to one domain controller: a watermark holds the DC's
// invocationId, read once per connection (it changes only when the DC's
// database is restored, which ends every connection); a watermark from
// another DC, or from before a restore, is refused with FailedPrecondition
// and [backend.ReasonWatermarkStale]; start again with an empty watermark.

const watermarkPrefix = "adusn1."

// Window sizes of a run, in pages (Config.PageSize) of USNs or users.
const (
	// firstWindowPages is the first window of a run, in pages of USNs.
	firstWindowPages = 4
	// maxAnswerPages is the most users one answer holds, in pages; a
	// window that holds more is halved and searched again.
	maxAnswerPages = 4
)

// watermark is the decoded form of the opaque string.
type watermark struct {
	invocation string // hex of the DC's invocationId
	usn        uint64 // changes up to usn have been reported
	// high is where the run in progress ends (0 when none): the
	// highestCommittedUSN read when it started.
	high uint64
	// window is the number of USNs the next call of the run searches.
	window uint64
	// initial marks the run of an empty watermark, which lists the current
	// users only (no tombstones).
	initial bool
}

func (w watermark) String() string {
	s := w.invocation + ":" + strconv.FormatUint(w.usn, 10)
	if w.high != 0 {
		init := "0"
		if w.initial {
			init = "1"
		}
		s += ":" + strconv.FormatUint(w.high, 10) + ":" + strconv.FormatUint(w.window, 10) + ":" + init
	}
	return watermarkPrefix + base64.RawURLEncoding.EncodeToString([]byte(s))
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
	f := strings.Split(string(raw), ":")
	if len(f) != 2 && len(f) != 5 {
		return watermark{}, bad
	}
	if _, err := hex.DecodeString(f[0]); err != nil || len(f[0]) != 32 {
		return watermark{}, bad
	}
	w := watermark{invocation: f[0]}
	if w.usn, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return watermark{}, bad
	}
	if len(f) == 5 {
		var err1, err2 error
		w.high, err1 = strconv.ParseUint(f[2], 10, 64)
		w.window, err2 = strconv.ParseUint(f[3], 10, 64)
		if err1 != nil || err2 != nil || w.high <= w.usn || w.window == 0 || (f[4] != "0" && f[4] != "1") {
			return watermark{}, bad
		}
		w.initial = f[4] == "1"
	}
	return w, nil
}

// Changes returns the users created, modified, enabled, disabled or
// deleted since the watermark, each once with its state now. An empty
// watermark returns every current user (as ListUsers selects them) as an
// upsert. A long answer comes in parts: while More is set, call again at
// once with the returned watermark; each part holds at most a few pages
// (Config.PageSize) of users.
//
// On a connection already used, a run costs two requests (the rootDSE and
// one search) and each further part one.
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
	err := d.doList(ctx, op, wm, func(c *listConn) error {
		run := from
		if run.high == 0 {
			// A new run: read how far it goes.
			root, err := c.rootDSE()
			if err != nil {
				return err
			}
			high, err := strconv.ParseUint(root.highestUSN, 10, 64)
			if err != nil {
				return backend.Errorf(backend.Unknown, op, wm, "unreadable highestCommittedUSN")
			}
			inv, err := c.invocationID(root.dsServiceName)
			if err != nil {
				return err
			}
			if wm != "" && (from.invocation != inv || from.usn > high) {
				return staleWatermark(op, wm)
			}
			run = watermark{invocation: inv, usn: from.usn, high: high,
				window: firstWindowPages * uint64(d.s.pageSize), initial: wm == ""}
			if run.usn == run.high {
				out.Watermark = watermark{invocation: inv, usn: high}.String()
				return nil
			}
		} else {
			inv, err := c.invocationID("")
			if err != nil {
				return err
			}
			if from.invocation != inv {
				return staleWatermark(op, wm)
			}
		}
		changes, next, err := d.changesWindow(c, run)
		if err != nil {
			return err
		}
		out.Changes = changes
		if next.usn >= next.high {
			out.Watermark = watermark{invocation: next.invocation, usn: next.high}.String()
		} else {
			out.Watermark, out.More = next.String(), true
		}
		return nil
	})
	if err != nil {
		return backend.DirectoryChanges{}, err
	}
	return out, nil
}

func staleWatermark(op, wm string) error {
	return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: wm, Reason: backend.ReasonWatermarkStale,
		Msg: "the watermark is from another domain controller or database; start over with an empty watermark"}
}

// errTooMany stops the search of a window that holds more users than one
// answer may.
var errTooMany = errors.New("adldap: too many changes in the window")

// changesWindow searches the next window of run, halving it while it
// holds more than maxAnswerPages pages of users, and returns the changes
// and the run moved past the window, with the next window sized after
// what this one held.
func (d *Directory) changesWindow(c *listConn, run watermark) ([]backend.DirectoryChange, watermark, error) {
	limit := maxAnswerPages * int(d.s.pageSize)
	// uSNChanged selects the entries; its value is not needed.
	attrs := d.attrs
	var controls []byte
	if !run.initial {
		attrs = append(append([]string(nil), d.attrs...), "isDeleted")
		controls = ldap.NewControlMicrosoftShowDeleted().Encode().Bytes()
	}
	for {
		upTo := min(run.usn+run.window, run.high)
		filter := "(&" + listFilter + usnRange(run.usn, upTo) + ")"
		if !run.initial {
			// Tombstones keep objectGUID, sAMAccountName and objectClass;
			// the user class without computers selects deleted users.
			filter = "(&" + usnRange(run.usn, upTo) + "(|(&" + listFilter + "(!(isDeleted=TRUE)))" +
				"(&(isDeleted=TRUE)(objectClass=user)(!(objectClass=computer)))))"
		}
		var changes []backend.DirectoryChange
		err := c.search(d.baseDN, ldap.ScopeWholeSubtree, filter, attrs, controls, d.s.pageSize, func(e []byte) (bool, error) {
			if len(changes) == limit {
				return false, errTooMany
			}
			ch, ok, err := d.toChange(e)
			if ok {
				changes = append(changes, ch)
			}
			return err == nil, err
		})
		if errors.Is(err, errTooMany) && upTo-run.usn > 1 {
			run.window = max((upTo-run.usn)/2, 1)
			continue
		}
		if err != nil {
			return nil, run, err
		}
		run.usn = upTo
		if len(changes) < limit/4 {
			run.window *= 2
		}
		return changes, run, nil
	}
}

// toChange converts an entry of a change search: a live user (upsert) or a
// tombstone (deleted).
func (d *Directory) toChange(entry []byte) (backend.DirectoryChange, bool, error) {
	a, err := d.entryAttrs(entry)
	if err != nil {
		return backend.DirectoryChange{}, false, err
	}
	if !a.deleted {
		u, err := a.user()
		return backend.DirectoryChange{Type: backend.Upserted, User: u}, err == nil, err
	}
	id, ok := guidFromBytes(a.guid)
	if !ok {
		return backend.DirectoryChange{}, false, nil
	}
	return backend.DirectoryChange{Type: backend.Deleted, User: backend.DirectoryUser{
		ID:                id,
		DN:                a.dn,
		SAMAccountName:    a.sam,
		UserPrincipalName: a.upn,
		DisplayName:       a.displayName,
	}}, true, nil
}

// usnRange matches uSNChanged in (after, upTo].
func usnRange(after, upTo uint64) string {
	return "(uSNChanged>=" + strconv.FormatUint(after+1, 10) + ")(uSNChanged<=" + strconv.FormatUint(upTo, 10) + ")"
}

// rootInfo is what change tracking reads from the rootDSE.
type rootInfo struct{ highestUSN, dsServiceName string }

// rootDSE reads the server's highestCommittedUSN and dsServiceName.
func (c *listConn) rootDSE() (rootInfo, error) {
	var r rootInfo
	found := false
	err := c.search("", ldap.ScopeBaseObject, "(objectClass=*)", []string{"highestCommittedUSN", "dsServiceName"}, nil, 0,
		func(e []byte) (bool, error) {
			usn, err1 := entryValue(e, "highestCommittedUSN")
			ds, err2 := entryValue(e, "dsServiceName")
			if err := errors.Join(err1, err2); err != nil {
				return false, ldap.NewError(ldap.ErrorUnexpectedResponse, err)
			}
			r, found = rootInfo{string(usn), string(ds)}, true
			return true, nil
		})
	if err == nil && !found {
		err = errors.New("adldap: the rootDSE was not returned")
	}
	return r, err
}

// invocationID returns the invocationId of the DC's NTDS Settings object
// (named by the rootDSE's dsServiceName), read once per connection.
// dsServiceName may be "" when the rootDSE was not read: it is then read
// when needed.
func (c *listConn) invocationID(dsServiceName string) (string, error) {
	if c.inv != "" {
		return c.inv, nil
	}
	if dsServiceName == "" {
		root, err := c.rootDSE()
		if err != nil {
			return "", err
		}
		dsServiceName = root.dsServiceName
	}
	var raw []byte
	err := c.search(dsServiceName, ldap.ScopeBaseObject, "(objectClass=*)", []string{"invocationId"}, nil, 0,
		func(e []byte) (bool, error) {
			v, err := entryValue(e, "invocationId")
			raw = append([]byte(nil), v...)
			return true, err
		})
	if err != nil {
		return "", err
	}
	if len(raw) != 16 {
		return "", backend.Errorf(backend.Unknown, backend.OpDirectoryChanges, dsServiceName, "no invocationId on the server's NTDS Settings")
	}
	c.inv = hex.EncodeToString(raw)
	return c.inv, nil
}
