package groups

import (
	"context"
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// getGroup returns the distribution group an identity names.
func (s *Service) getGroup(ctx context.Context, op, identity string) (backend.DistributionGroup, error) {
	identity = strings.TrimSpace(identity)
	if identity == "" {
		return backend.DistributionGroup{}, backend.Invalid(op, identity, ReasonNameRequired, "name a group by its name, alias, address or ID")
	}
	var g backend.DistributionGroup
	err := s.do(ctx, op, identity, func() (e error) { g, e = s.exo.GetGroup(ctx, identity); return })
	if backend.KindOf(err) == backend.NotFound {
		return g, &backend.Error{Kind: backend.NotFound, Op: op, Key: identity, Msg: "no distribution group has this name, alias or address", Err: err}
	}
	return g, backend.WithOp(err, op, identity)
}

// recipient returns the recipient an identity names.
func (s *Service) recipient(ctx context.Context, op, identity string) (backend.Recipient, error) {
	identity = strings.TrimSpace(identity)
	if identity == "" {
		return backend.Recipient{}, backend.Invalid(op, identity, backend.ReasonMemberType, "name a member by the online ID of a user or the name or address of a group")
	}
	var r backend.Recipient
	err := s.do(ctx, op, identity, func() (e error) { r, e = s.exo.GetRecipient(ctx, identity); return })
	if backend.KindOf(err) == backend.NotFound {
		return r, &backend.Error{Kind: backend.NotFound, Op: op, Key: identity, Msg: "neither an online account nor a distribution group of the tenant has this name or address", Err: err}
	}
	return r, backend.WithOp(err, op, identity)
}

// member resolves an identity that is to become a member: a distribution
// group, or a user with an active online account and a mailbox.
func (s *Service) member(ctx context.Context, op, identity string) (backend.Recipient, error) {
	r, err := s.recipient(ctx, op, identity)
	if err != nil || r.Type.IsGroup() {
		return r, err
	}
	if r.Type != backend.RecipientUserMailbox && r.Type != backend.RecipientUser {
		return r, backend.Invalid(op, identity, backend.ReasonMemberType, "%s is a %s: only users with an online account and distribution groups can be members", identity, r.Type)
	}
	var u backend.OnlineUser
	key := cmpOr(r.DirectoryID, identity)
	if err := s.do(ctx, op, key, func() (e error) { u, e = s.tenant.GetUser(ctx, key); return }); err != nil {
		return r, backend.WithOp(err, op, identity)
	}
	if !u.AccountEnabled || !u.Licensed() {
		return r, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: identity, Reason: ReasonMemberInactive,
			Msg: "the user's online account is not active (blocked or without a license): assign it an online account with a license, or leave it out"}
	}
	if r.Type != backend.RecipientUserMailbox {
		return r, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: identity, Reason: ReasonMemberNoMailbox,
			Msg: "the user's license gives no Exchange Online mailbox: assign a license that includes Exchange Online"}
	}
	return r, nil
}

// members returns a group's direct members.
func (s *Service) members(ctx context.Context, op, groupID string) ([]backend.Recipient, error) {
	var ms []backend.Recipient
	err := s.do(ctx, op, groupID, func() (e error) { ms, e = s.exo.ListMembers(ctx, groupID); return })
	return ms, backend.WithOp(err, op, groupID)
}

// nestedGroups returns the IDs of the groups reachable from start by
// membership, start included, and for each the group it was reached
// through. Cycles already in the tenant are walked once.
func (s *Service) nestedGroups(ctx context.Context, op, start string) (map[string]string, error) {
	seen := map[string]string{strings.ToLower(start): ""}
	queue := []string{start}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		ms, err := s.members(ctx, op, id)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			k := strings.ToLower(m.ID)
			if _, ok := seen[k]; m.Type.IsGroup() && !ok {
				seen[k] = id
				queue = append(queue, m.ID)
			}
		}
	}
	return seen, nil
}

// checkNesting refuses to make child a member of parent when parent is
// child itself or is nested in child, directly or not.
func (s *Service) checkNesting(ctx context.Context, op string, parent backend.DistributionGroup, child backend.Recipient) error {
	if strings.EqualFold(parent.ID, child.ID) {
		return backend.Invalid(op, child.PrimaryAddress, ReasonGroupCycle, "a group cannot be a member of itself")
	}
	nested, err := s.nestedGroups(ctx, op, child.ID)
	if err != nil {
		return err
	}
	if _, ok := nested[strings.ToLower(parent.ID)]; ok {
		return backend.Invalid(op, child.PrimaryAddress, ReasonGroupCycle,
			"%s already contains %s, directly or through other groups: nesting it would make a group a member of itself", cmpOr(child.Name, child.PrimaryAddress), parent.Name)
	}
	return nil
}

func hasMember(ms []backend.Recipient, r backend.Recipient) bool {
	return slices.ContainsFunc(ms, func(m backend.Recipient) bool { return strings.EqualFold(m.ID, r.ID) })
}

// Members returns the group's direct members: users and groups, sorted by
// address.
func (s *Service) Members(ctx context.Context, group string) ([]backend.Recipient, error) {
	const op = "groups: list members"
	if err := s.Available(ctx); err != nil {
		return nil, backend.WithOp(err, op, group)
	}
	g, err := s.getGroup(ctx, op, group)
	if err != nil {
		return nil, err
	}
	return s.members(ctx, op, g.ID)
}

// EffectiveMembers returns the users who receive the group's mail: its
// user members and those of the groups nested in it, at any depth, each
// once, sorted by address.
func (s *Service) EffectiveMembers(ctx context.Context, group string) ([]backend.Recipient, error) {
	const op = "groups: list effective members"
	if err := s.Available(ctx); err != nil {
		return nil, backend.WithOp(err, op, group)
	}
	g, err := s.getGroup(ctx, op, group)
	if err != nil {
		return nil, err
	}
	nested, err := s.nestedGroups(ctx, op, g.ID)
	if err != nil {
		return nil, err
	}
	users := map[string]backend.Recipient{}
	for id := range nested {
		ms, err := s.members(ctx, op, id)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if !m.Type.IsGroup() {
				users[strings.ToLower(m.ID)] = m
			}
		}
	}
	out := make([]backend.Recipient, 0, len(users))
	for _, u := range users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b backend.Recipient) int {
		return strings.Compare(strings.ToLower(a.PrimaryAddress), strings.ToLower(b.PrimaryAddress))
	})
	return out, nil
}

// ChangeMembers adds and removes members of a group: users with an active
// online account and a mailbox, and other distribution groups (never the
// group itself nor a group it is nested in). Every member is checked
// before any change; a member already there (or already gone) is left
// alone, so running the call again after a partial failure completes it.
func (s *Service) ChangeMembers(ctx context.Context, group string, add, remove []string) error {
	const op = "groups: change members"
	if err := s.Available(ctx); err != nil {
		return backend.WithOp(err, op, group)
	}
	g, err := s.getGroup(ctx, op, group)
	if err != nil {
		return err
	}
	current, err := s.members(ctx, op, g.ID)
	if err != nil {
		return err
	}
	toAdd, err := s.plannedAdds(ctx, op, g, current, add)
	if err != nil {
		return err
	}
	var toRemove []backend.Recipient
	for _, id := range remove {
		r, err := s.recipient(ctx, op, id)
		if err != nil {
			return err
		}
		if hasMember(current, r) {
			toRemove = append(toRemove, r)
		}
	}
	c := &changes{op: op, key: g.Name}
	s.applyAdds(ctx, op, c, g, toAdd)
	s.applyRemoves(ctx, op, c, g, toRemove)
	return c.err("changing the members of " + g.Name)
}

// plannedAdds resolves the members to add and checks them, leaving out
// those already members.
func (s *Service) plannedAdds(ctx context.Context, op string, g backend.DistributionGroup, current []backend.Recipient, add []string) ([]backend.Recipient, error) {
	var out []backend.Recipient
	for _, id := range add {
		r, err := s.member(ctx, op, id)
		if err != nil {
			return nil, err
		}
		if hasMember(current, r) || hasMember(out, r) {
			continue
		}
		if r.Type.IsGroup() {
			if err := s.checkNesting(ctx, op, g, r); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Service) applyAdds(ctx context.Context, op string, c *changes, g backend.DistributionGroup, rs []backend.Recipient) {
	for _, r := range rs {
		e := audit.Event{Op: AuditAddMember, Target: g.Name, Detail: map[string]string{"member": r.PrimaryAddress}}
		if !r.Type.IsGroup() {
			e.OnlineID = r.PrimaryAddress
		}
		err := s.write(ctx, e, op, r.PrimaryAddress, func() error {
			err := s.exo.AddMember(ctx, g.ID, r.ID)
			if backend.KindOf(err) == backend.AlreadyExists {
				return nil // made by an earlier attempt whose answer was lost
			}
			return err
		})
		c.record("add "+r.PrimaryAddress, backend.WithOp(err, op, r.PrimaryAddress))
	}
}

func (s *Service) applyRemoves(ctx context.Context, op string, c *changes, g backend.DistributionGroup, rs []backend.Recipient) {
	for _, r := range rs {
		e := audit.Event{Op: AuditRemoveMember, Target: g.Name, Detail: map[string]string{"member": r.PrimaryAddress}}
		if !r.Type.IsGroup() {
			e.OnlineID = r.PrimaryAddress
		}
		err := s.write(ctx, e, op, r.PrimaryAddress, func() error {
			err := s.exo.RemoveMember(ctx, g.ID, r.ID)
			if backend.KindOf(err) == backend.NotFound {
				return nil // removed by an earlier attempt whose answer was lost
			}
			return err
		})
		c.record("remove "+r.PrimaryAddress, backend.WithOp(err, op, r.PrimaryAddress))
	}
}
