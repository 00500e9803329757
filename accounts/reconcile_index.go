package accounts

import (
	"context"
	"sync"

	"github.com/essentials365/sdk/essentials365/backend"
)

// maxDeltaPage is the largest page Graph's users/delta answers with
// ("Prefer: odata.maxpagesize", at most 999), asked of tenants that
// implement backend.PagedChanges. Other tenants page at their own size
// (the Graph driver at its Config.PageSize).
const maxDeltaPage = 999

// onlineEntry is what a reconcile needs of an online account: its
// userPrincipalName, its anchor (onPremisesImmutableId) and whether it may
// sign in. With both maps of onlineIndex, about 230 bytes an account
// (measured), against ~1 KB for full backend.OnlineUser records in three
// maps.
type onlineEntry struct {
	upn     string
	anchor  string
	enabled bool
}

// onlineIndex is the compact index of the tenant's online accounts a
// reconcile works from: by object id, and by anchor. It is fed by the
// tenant's delta query (backend.Tenant.Changes): a full round builds it,
// and each later run reads only what changed since watermark.
type onlineIndex struct {
	byID     map[string]onlineEntry
	byAnchor map[string]string // anchor → object id
	// watermark is the tenant's delta watermark after the last refresh;
	// empty when the tenant has no delta query (the index was listed and
	// is not kept).
	watermark string
}

func newOnlineIndex() *onlineIndex {
	return &onlineIndex{byID: map[string]onlineEntry{}, byAnchor: map[string]string{}}
}

// get returns the account with that object id.
func (x *onlineIndex) get(id string) (onlineEntry, bool) {
	if id == "" {
		return onlineEntry{}, false
	}
	e, ok := x.byID[id]
	return e, ok
}

// put records (or updates) an online account.
func (x *onlineIndex) put(u backend.OnlineUser) {
	if old, ok := x.byID[u.ID]; ok && old.anchor != "" && old.anchor != u.ImmutableID && x.byAnchor[old.anchor] == u.ID {
		delete(x.byAnchor, old.anchor)
	}
	x.byID[u.ID] = onlineEntry{upn: u.UserPrincipalName, anchor: u.ImmutableID, enabled: u.AccountEnabled}
	if u.ImmutableID != "" {
		x.byAnchor[u.ImmutableID] = u.ID
	}
}

// remove forgets an online account (deleted).
func (x *onlineIndex) remove(id string) {
	if old, ok := x.byID[id]; ok && old.anchor != "" && x.byAnchor[old.anchor] == id {
		delete(x.byAnchor, old.anchor)
	}
	delete(x.byID, id)
}

// setEnabled records a sign-in change the SDK made.
func (x *onlineIndex) setEnabled(id string, enabled bool) {
	if e, ok := x.byID[id]; ok {
		e.enabled = enabled
		x.byID[id] = e
	}
}

// onlineUser returns the parts of the account the writes need.
func (e onlineEntry) onlineUser(id string) backend.OnlineUser {
	return backend.OnlineUser{ID: id, UserPrincipalName: e.upn, ImmutableID: e.anchor, AccountEnabled: e.enabled}
}

// reconIndex is the Service's cached online index, kept between runs so
// that an incremental run reads only the tenant's changes. mu is held by a
// plan or an apply for as long as it uses the index: reconciles of one
// Service run one at a time.
type reconIndex struct {
	mu  sync.Mutex
	idx *onlineIndex
	// noDelta is set once the tenant answered that it has no delta query.
	noDelta bool
}

// onlineIndexLocked returns the index brought up to date. A full run, or
// the first run of this Service, builds it from a full round of the
// tenant's delta query (at maxDeltaPage per page where the tenant takes a
// page size); later runs follow the delta from the saved watermark, one
// request when nothing much changed. A delta token the tenant no longer
// accepts (expired) costs one full round. A tenant without a delta query
// (Unimplemented) is listed on every run. Call with s.recon.mu held.
func (s *Service) onlineIndexLocked(ctx context.Context, op string, full bool) (*onlineIndex, error) {
	if cur := s.recon.idx; cur != nil && !full && cur.watermark != "" {
		err := s.followDelta(ctx, op, cur, cur.watermark)
		if err == nil {
			return cur, nil
		}
		switch backend.KindOf(err) {
		case backend.Throttled, backend.Unavailable, backend.Canceled, backend.PermissionDenied:
			s.recon.idx = nil // partly followed: rebuild next time
			return nil, err
		}
		// Anything else is a token the tenant refused (Graph answers 410
		// Gone for an expired one): one full round below.
	}
	s.recon.idx = nil
	idx := newOnlineIndex()
	err := s.followDelta(ctx, op, idx, "")
	if backend.KindOf(err) == backend.Unimplemented {
		s.recon.noDelta = true
		idx = newOnlineIndex()
		for u, lerr := range s.tenant.ListUsers(ctx) {
			if lerr != nil {
				return nil, backend.WithOp(lerr, op, "")
			}
			idx.put(u)
		}
		return idx, nil
	}
	if err != nil {
		return nil, err
	}
	s.recon.idx = idx
	return idx, nil
}

// followDelta applies the tenant's changes since watermark to idx, page by
// page, and saves the new watermark in idx once the round is complete.
func (s *Service) followDelta(ctx context.Context, op string, idx *onlineIndex, watermark string) error {
	pc, paged := s.tenant.(backend.PagedChanges)
	w := watermark
	for {
		var ch backend.TenantChanges
		err := s.do(ctx, op, "", func() (e error) {
			if paged {
				ch, e = pc.ChangesMax(ctx, w, maxDeltaPage)
			} else {
				ch, e = s.tenant.Changes(ctx, w)
			}
			return
		})
		if err != nil {
			return backend.WithOp(err, op, "")
		}
		for _, c := range ch.Changes {
			if c.Type == backend.Deleted {
				idx.remove(c.User.ID)
				continue
			}
			idx.put(c.User)
		}
		w = ch.Watermark
		if !ch.More {
			break
		}
	}
	idx.watermark = w
	return nil
}
