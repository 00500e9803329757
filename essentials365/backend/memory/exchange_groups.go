package memory

import (
	"context"
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// groupLocked finds a live group by identity; NotFound when the identity
// names no group (or a user).
func (e *Exchange) groupLocked(op, identity string) (*exoGroup, error) {
	_, g, err := e.resolveLocked(op, identity)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, exoNotFound(op, identity)
	}
	return g, nil
}

// GetGroup returns one distribution group.
func (e *Exchange) GetGroup(ctx context.Context, identity string) (backend.DistributionGroup, error) {
	const op, fault = "exchange: get group", "GetGroup"
	if err := e.begin(ctx, fault, identity); err != nil {
		return backend.DistributionGroup{}, err
	}
	e.t.mu.Lock()
	g, err := e.groupLocked(op, identity)
	var out backend.DistributionGroup
	if err == nil {
		out = g.snapshot()
	}
	e.t.mu.Unlock()
	return out, e.done(fault, identity, err)
}

// CreateGroup creates a distribution group, keeping New-DistributionGroup's
// rules: a name of 1 to 64 characters unique among groups, a valid alias,
// and a primary address (default alias@the default domain) that is well
// formed, on a verified domain and unused.
func (e *Exchange) CreateGroup(ctx context.Context, ng backend.NewDistributionGroup) (backend.DistributionGroup, error) {
	const fault = "CreateGroup"
	if err := e.begin(ctx, fault, ng.Name); err != nil {
		return backend.DistributionGroup{}, err
	}
	g, err := e.createGroup(ng)
	return g, e.done(fault, ng.Name, err)
}

func (e *Exchange) createGroup(ng backend.NewDistributionGroup) (backend.DistributionGroup, error) {
	const op = "exchange: create group"
	name := strings.TrimSpace(ng.Name)
	if name == "" || len([]rune(name)) > 64 {
		return backend.DistributionGroup{}, backend.Invalid(op, ng.Name, backend.ReasonGroupName, "A group name is required and has at most 64 characters.")
	}
	alias := strings.TrimSpace(ng.Alias)
	if backend.ExchangeAliasRule(alias) != "" {
		return backend.DistributionGroup{}, backend.Invalid(op, ng.Name, backend.ReasonAliasSyntax, "The alias %q isn't valid: use letters, digits and ! # $ %% & ' * + - / = ? ^ _ ` { | } ~, with periods only between them, at most 64 characters.", ng.Alias)
	}
	t := e.t
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	e.initLocked()
	primary := strings.TrimSpace(ng.PrimaryAddress)
	if primary == "" {
		for _, d := range t.domains {
			if d.isDefault {
				primary = alias + "@" + d.name
			}
		}
	}
	for _, g := range e.order {
		if !g.deleted && strings.EqualFold(g.g.Name, name) {
			return backend.DistributionGroup{}, backend.Errorf(backend.AlreadyExists, op, ng.Name, exoMsgNameTaken, name)
		}
	}
	if err := e.checkNewAddressLocked(op, ng.Name, primary); err != nil {
		return backend.DistributionGroup{}, err
	}
	g := &exoGroup{
		g: backend.DistributionGroup{
			ID: tenantNewID(), DirectoryID: tenantNewID(), Name: name, DisplayName: cmpOr(strings.TrimSpace(ng.DisplayName), name),
			Alias: alias, PrimaryAddress: primary, Description: ng.Description, ExternalSendersAllowed: ng.ExternalSendersAllowed,
		},
		addresses: map[string]string{},
		members:   map[string]exoMember{},
	}
	e.groups[strings.ToLower(g.g.ID)] = g
	e.order = append(e.order, g)
	e.byAddr[strings.ToLower(primary)] = g
	t.log.Debug("memory exchange created group", "name", name, "address", primary)
	return g.snapshot(), nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// UpdateGroup changes the display name, the description and whether
// external senders are allowed.
func (e *Exchange) UpdateGroup(ctx context.Context, identity string, upd backend.DistributionGroupUpdate) error {
	const op, fault = "exchange: update group", "UpdateGroup"
	if err := e.begin(ctx, fault, identity); err != nil {
		return err
	}
	if upd.DisplayName != nil && (strings.TrimSpace(*upd.DisplayName) == "" || len([]rune(*upd.DisplayName)) > 256) {
		return e.done(fault, identity, backend.Invalid(op, identity, backend.ReasonGroupName, "A display name is required and has at most 256 characters."))
	}
	e.t.mu.Lock()
	defer e.t.mu.Unlock()
	g, err := e.groupLocked(op, identity)
	if err != nil {
		return e.done(fault, identity, err)
	}
	if upd.DisplayName != nil {
		g.g.DisplayName = strings.TrimSpace(*upd.DisplayName)
	}
	if upd.Description != nil {
		g.g.Description = *upd.Description
	}
	if upd.ExternalSendersAllowed != nil {
		g.g.ExternalSendersAllowed = *upd.ExternalSendersAllowed
	}
	return e.done(fault, identity, nil)
}

// DeleteGroup removes a group, frees its addresses and takes it out of the
// groups it was a member of.
func (e *Exchange) DeleteGroup(ctx context.Context, identity string) error {
	const op, fault = "exchange: delete group", "DeleteGroup"
	if err := e.begin(ctx, fault, identity); err != nil {
		return err
	}
	e.t.mu.Lock()
	defer e.t.mu.Unlock()
	g, err := e.groupLocked(op, identity)
	if err != nil {
		return e.done(fault, identity, err)
	}
	g.deleted = true
	delete(e.groups, strings.ToLower(g.g.ID))
	delete(e.byAddr, strings.ToLower(g.g.PrimaryAddress))
	for k := range g.addresses {
		delete(e.byAddr, k)
	}
	e.order = slices.DeleteFunc(e.order, func(x *exoGroup) bool { return x == g })
	for _, other := range e.order {
		delete(other.members, "g:"+strings.ToLower(g.g.ID))
	}
	e.t.log.Debug("memory exchange deleted group", "name", g.g.Name)
	return e.done(fault, identity, nil)
}

// ListMembers returns the group's direct members sorted by primary
// address; deleted users are left out.
func (e *Exchange) ListMembers(ctx context.Context, group string) ([]backend.Recipient, error) {
	const op, fault = "exchange: list members", "ListMembers"
	if err := e.begin(ctx, fault, group); err != nil {
		return nil, err
	}
	e.t.mu.Lock()
	e.t.purgeLocked()
	g, err := e.groupLocked(op, group)
	var out []backend.Recipient
	if err == nil {
		out = []backend.Recipient{}
		for _, m := range g.members {
			switch {
			case m.group != nil:
				out = append(out, m.group.g.Recipient())
			case !m.user.deleted:
				out = append(out, e.userRecipient(m.user))
			}
		}
	}
	e.t.mu.Unlock()
	slices.SortFunc(out, func(a, b backend.Recipient) int {
		return strings.Compare(strings.ToLower(a.PrimaryAddress), strings.ToLower(b.PrimaryAddress))
	})
	return out, e.done(fault, group, err)
}

// memberLocked resolves a member identity to its key and record.
func (e *Exchange) memberLocked(op, member string) (string, exoMember, error) {
	u, g, err := e.resolveLocked(op, member)
	if err != nil {
		return "", exoMember{}, err
	}
	if g != nil {
		return "g:" + strings.ToLower(g.g.ID), exoMember{group: g}, nil
	}
	return "u:" + strings.ToLower(u.user.ID), exoMember{user: u}, nil
}

// AddMember adds a user mailbox or a group as a direct member. A user
// without a mailbox, and a group added to itself, are refused
// (ReasonMemberType).
func (e *Exchange) AddMember(ctx context.Context, group, member string) error {
	const op = "exchange: add member"
	return e.memberChange(ctx, op, "AddMember", group, member, func(g *exoGroup, k string, m exoMember) error {
		if m.user != nil && m.user.user.Mail == "" {
			return backend.Invalid(op, member, backend.ReasonMemberType,
				"%s has no mailbox: only mailboxes and distribution groups can be members. Assign a license that includes Exchange Online first.", member)
		}
		if m.group == g {
			return backend.Invalid(op, member, backend.ReasonMemberType, "A group can't be a member of itself.")
		}
		if _, ok := g.members[k]; ok {
			return backend.Errorf(backend.AlreadyExists, op, member, exoMsgMemberExists, member, g.g.Name)
		}
		g.members[k] = m
		return nil
	})
}

// RemoveMember removes a direct member; NotFound when it is not one.
func (e *Exchange) RemoveMember(ctx context.Context, group, member string) error {
	const op = "exchange: remove member"
	return e.memberChange(ctx, op, "RemoveMember", group, member, func(g *exoGroup, k string, _ exoMember) error {
		if _, ok := g.members[k]; !ok {
			return backend.Errorf(backend.NotFound, op, member, exoMsgNotMember, member, g.g.Name)
		}
		delete(g.members, k)
		return nil
	})
}

// memberChange resolves group and member under the tenant's lock and runs
// f on them: the shared part of AddMember and RemoveMember. op words the
// errors, fault names the call for fault injection and the call record.
func (e *Exchange) memberChange(ctx context.Context, op, fault, group, member string, f func(g *exoGroup, k string, m exoMember) error) error {
	if err := e.begin(ctx, fault, group); err != nil {
		return err
	}
	e.t.mu.Lock()
	defer e.t.mu.Unlock()
	e.t.purgeLocked()
	g, err := e.groupLocked(op, group)
	if err != nil {
		return e.done(fault, group, err)
	}
	k, m, err := e.memberLocked(op, member)
	if err != nil {
		return e.done(fault, group, err)
	}
	return e.done(fault, group, f(g, k, m))
}
