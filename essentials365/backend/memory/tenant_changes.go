package memory

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Changes returns the users changed since watermark: the users created,
// updated or restored as Upserted, the users deleted as Deleted (Permanent
// once purged). Each user appears once per answer, in its latest state. ""
// starts a full round of the live users; a user deleted while the round is
// paged is reported as Deleted on a later page.
func (t *Tenant) Changes(ctx context.Context, watermark string) (backend.TenantChanges, error) {
	return t.ChangesMax(ctx, watermark, 0)
}

// ChangesMax is Changes with pages of at most maxPage changes; maxPage <= 0
// means TenantOptions.PageSize. It implements [backend.PagedChanges].
func (t *Tenant) ChangesMax(ctx context.Context, watermark string, maxPage int) (backend.TenantChanges, error) {
	const op = "Changes"
	pageSize := t.pageSize
	if maxPage > 0 {
		pageSize = maxPage
	}
	if err := t.begin(ctx, op, ""); err != nil {
		return backend.TenantChanges{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	pos, ok := tenantParseWatermark(watermark, t.seq)
	if !ok {
		return backend.TenantChanges{}, t.done(op, "", backend.Invalid(op, "", backend.ReasonWatermark, "the watermark %q was not returned by this tenant", watermark))
	}
	// Deletions are reported when they happened after both the position
	// and the start of a full round: those before the round are of users
	// the caller never saw.
	deletedAfter := max(pos.since, pos.start)
	type item struct {
		seq uint64
		c   backend.TenantChange
	}
	var items []item
	for _, u := range t.users {
		switch {
		case u.seq <= pos.since:
		case !u.deleted:
			items = append(items, item{u.seq, backend.TenantChange{Type: backend.Upserted, User: u.snapshot()}})
		case u.seq > deletedAfter:
			gone := backend.OnlineUser{ID: u.user.ID, UserPrincipalName: u.user.UserPrincipalName, DisplayName: u.user.DisplayName, ImmutableID: u.user.ImmutableID, DeletedAt: u.deletedAt}
			items = append(items, item{u.seq, backend.TenantChange{Type: backend.Deleted, User: gone}})
		}
	}
	for _, ts := range t.tombstones {
		if ts.seq > deletedAfter {
			items = append(items, item{ts.seq, backend.TenantChange{Type: backend.Deleted, User: ts.user, Permanent: true}})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.seq, b.seq) })
	res := backend.TenantChanges{}
	if len(items) > pageSize {
		items = items[:pageSize]
		res.More = true
		res.Watermark = tenantPosition{since: items[len(items)-1].seq, start: pos.start}.String()
	} else {
		res.Watermark = tenantPosition{since: t.seq}.String()
	}
	res.Changes = make([]backend.TenantChange, len(items))
	for i, it := range items {
		res.Changes[i] = it.c
	}
	return res, t.done(op, "", nil)
}

// tenantPosition is where a delta reader stands: the change counter
// reached, and the counter when its full round started (0 outside a full
// round).
type tenantPosition struct{ since, start uint64 }

// String encodes the position as an opaque watermark.
func (p tenantPosition) String() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "m365delta.%d.%d", p.since, p.start))
}

// tenantParseWatermark decodes a watermark; "" is the start of a full round
// at the current counter cur.
func tenantParseWatermark(w string, cur uint64) (tenantPosition, bool) {
	if w == "" {
		return tenantPosition{start: cur}, true
	}
	raw, err := base64.RawURLEncoding.DecodeString(w)
	if err != nil {
		return tenantPosition{}, false
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != "m365delta" {
		return tenantPosition{}, false
	}
	since, err1 := strconv.ParseUint(parts[1], 10, 64)
	start, err2 := strconv.ParseUint(parts[2], 10, 64)
	if err1 != nil || err2 != nil || since > cur || start > cur {
		return tenantPosition{}, false
	}
	return tenantPosition{since: since, start: start}, true
}
