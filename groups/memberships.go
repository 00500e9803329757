package groups

import (
	"context"
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Membership is one group a user belongs to.
type Membership struct {
	Group backend.DistributionGroup
	// Direct is set when the user is a member of Group itself; otherwise
	// the user receives its mail through Via, a group nested in it.
	Direct bool
	Via    string
}

// Memberships returns the groups a user belongs to, directly or through
// nested groups, sorted by group name. It reads every group's members
// (one call per group).
func (s *Service) Memberships(ctx context.Context, user string) ([]Membership, error) {
	const op = "groups: list memberships"
	if err := s.Available(ctx); err != nil {
		return nil, backend.WithOp(err, op, user)
	}
	r, err := s.recipient(ctx, op, user)
	if err != nil {
		return nil, err
	}
	gs, err := s.List(ctx)
	if err != nil {
		return nil, backend.WithOp(err, op, user)
	}
	byID := map[string]backend.DistributionGroup{}
	parents := map[string][]string{} // member group id -> groups containing it
	var direct []string
	for _, g := range gs {
		k := strings.ToLower(g.ID)
		byID[k] = g
		ms, err := s.members(ctx, op, g.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			switch {
			case strings.EqualFold(m.ID, r.ID):
				direct = append(direct, k)
			case m.Type.IsGroup():
				mk := strings.ToLower(m.ID)
				parents[mk] = append(parents[mk], k)
			}
		}
	}
	seen := map[string]Membership{}
	queue := direct
	for _, k := range direct {
		seen[k] = Membership{Group: byID[k], Direct: true}
	}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, p := range parents[k] {
			if _, ok := seen[p]; !ok {
				seen[p] = Membership{Group: byID[p], Via: byID[k].Name}
				queue = append(queue, p)
			}
		}
	}
	out := make([]Membership, 0, len(seen))
	for _, m := range seen {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Membership) int {
		return strings.Compare(strings.ToLower(a.Group.Name), strings.ToLower(b.Group.Name))
	})
	return out, nil
}

// ChangeMemberships changes a user's direct memberships from the user's
// side: it joins the groups of join and leaves those of leave. The user
// must have an active online account to join; every group is checked
// before any change, and running the call again after a partial failure
// completes it.
func (s *Service) ChangeMemberships(ctx context.Context, user string, join, leave []string) error {
	const op = "groups: change memberships"
	if err := s.Available(ctx); err != nil {
		return backend.WithOp(err, op, user)
	}
	var r backend.Recipient
	var err error
	if len(join) > 0 {
		r, err = s.member(ctx, op, user)
	} else {
		r, err = s.recipient(ctx, op, user)
	}
	if err != nil {
		return err
	}
	if r.Type.IsGroup() {
		return backend.Invalid(op, user, backend.ReasonMemberType, "%s is a group: change its memberships with ChangeMembers on each group", user)
	}
	type step struct {
		g   backend.DistributionGroup
		add bool
	}
	var steps []step
	for _, list := range []struct {
		ids []string
		add bool
	}{{join, true}, {leave, false}} {
		for _, id := range list.ids {
			g, err := s.getGroup(ctx, op, id)
			if err != nil {
				return err
			}
			ms, err := s.members(ctx, op, g.ID)
			if err != nil {
				return err
			}
			if hasMember(ms, r) != list.add {
				steps = append(steps, step{g, list.add})
			}
		}
	}
	c := &changes{op: op, key: user}
	for _, st := range steps {
		if st.add {
			s.applyAdds(ctx, op, c, st.g, []backend.Recipient{r})
		} else {
			s.applyRemoves(ctx, op, c, st.g, []backend.Recipient{r})
		}
	}
	return c.err("changing the memberships of " + user)
}
