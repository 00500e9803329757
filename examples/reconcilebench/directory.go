package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
)

// dirPage is the page size of the synthetic directory's Changes.
const dirPage = 1000

// userGUID is the objectGUID of the i-th user.
func userGUID(i int) backend.GUID {
	var g backend.GUID
	copy(g[:8], "e365rcb0")
	binary.BigEndian.PutUint64(g[8:], uint64(i))
	return g
}

// userIndex is the inverse of userGUID.
func userIndex(g backend.GUID) (int, bool) {
	if string(g[:8]) != "e365rcb0" {
		return 0, false
	}
	return int(binary.BigEndian.Uint64(g[8:])), true
}

func sam(i int) string { return fmt.Sprintf("u%07d", i) }

// enabled says whether the i-th user may sign in (a fiftieth may not).
func enabled(i int) bool { return i%50 != 0 }

// synthDirectory is a streamed directory of n users, each mapped to its
// online account: users are generated from their index when read, so the
// directory holds only the online ids (16 bytes a user). It implements
// what a reconcile reads (Changes, GetUser); the other methods of
// backend.Directory are not used by this program.
type synthDirectory struct {
	backend.Directory
	ids []backend.GUID // online object ids, by user index
}

func (d *synthDirectory) user(i int) backend.DirectoryUser {
	s := sam(i)
	id := d.ids[i].String()
	return backend.DirectoryUser{
		ID: userGUID(i), DN: "CN=" + s + ",CN=Users,DC=contoso,DC=local", SAMAccountName: s,
		UserPrincipalName: s + "@contoso.local", DisplayName: "User " + s, Enabled: enabled(i),
		OnlineAccount: accounts.Mapping{ID: id, UPN: s + "@contoso.com", State: accounts.MappingAssigned}.String(),
	}
}

// Changes returns every user, page by page, on a full round ("" or a
// page watermark), and nothing after ("done").
func (d *synthDirectory) Changes(ctx context.Context, watermark string) (backend.DirectoryChanges, error) {
	if err := ctx.Err(); err != nil {
		return backend.DirectoryChanges{}, err
	}
	if watermark == "done" {
		return backend.DirectoryChanges{Watermark: "done"}, nil
	}
	from := 0
	if p, ok := strings.CutPrefix(watermark, "page:"); ok {
		from, _ = strconv.Atoi(p)
	}
	to := min(from+dirPage, len(d.ids))
	out := backend.DirectoryChanges{Changes: make([]backend.DirectoryChange, 0, to-from)}
	for i := from; i < to; i++ {
		out.Changes = append(out.Changes, backend.DirectoryChange{Type: backend.Upserted, User: d.user(i)})
	}
	if to < len(d.ids) {
		out.Watermark, out.More = "page:"+strconv.Itoa(to), true
	} else {
		out.Watermark = "done"
	}
	return out, nil
}

// GetUser returns the user with that objectGUID.
func (d *synthDirectory) GetUser(ctx context.Context, g backend.GUID) (backend.DirectoryUser, error) {
	if i, ok := userIndex(g); ok && i < len(d.ids) {
		return d.user(i), nil
	}
	return backend.DirectoryUser{}, backend.Errorf(backend.NotFound, "directory: get user", g.String(), "no such user")
}
