package groups

import (
	"context"
	"strings"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// NewGroup is what [Service.Create] takes: the fields of the seed's "Add a
// distribution group" wizard.
type NewGroup struct {
	// Name is required: at most 64 characters, unique among the tenant's
	// groups. It is also the display name.
	Name string
	// Description is optional.
	Description string
	// Alias is the email alias, required: the part before the @ of the
	// group's address.
	Alias string
	// Domain is the domain of the group's address; default the tenant's
	// default verified domain.
	Domain string
	// RejectExternalSenders makes the group refuse mail from outside the
	// organization. The default (false) lets the group receive it, as the
	// seed's wizard does.
	RejectExternalSenders bool
	// Members are the first members: online IDs of users with an active
	// online account, and names or addresses of other distribution groups.
	Members []string
}

// Create creates a distribution group with its members. Everything is
// checked before any write: the name (unique), the alias, the address
// (valid, on a verified domain, unused by any recipient) and every member.
//
// When adding some members fails, the error says which (its cause is a
// *PartialError) and the group stays; calling Create again with the same
// input finds the group it made (same name, alias and address) and adds
// only the missing members; its other settings are left as they are.
func (s *Service) Create(ctx context.Context, ng NewGroup) (backend.DistributionGroup, error) {
	const op = "groups: create group"
	name := strings.TrimSpace(ng.Name)
	if err := s.Available(ctx); err != nil {
		return backend.DistributionGroup{}, backend.WithOp(err, op, name)
	}
	alias := strings.TrimSpace(ng.Alias)
	if name == "" || alias == "" {
		return backend.DistributionGroup{}, backend.Invalid(op, name, ReasonNameRequired, "a distribution group needs a name and an email alias")
	}
	if len([]rune(name)) > 64 {
		return backend.DistributionGroup{}, backend.Invalid(op, name, backend.ReasonGroupName, "a group name has at most 64 characters")
	}
	if backend.ExchangeAliasRule(alias) != "" {
		return backend.DistributionGroup{}, backend.Invalid(op, name, backend.ReasonAliasSyntax,
			"the alias %q is not valid: use letters, digits and ! # $ %% & ' * + - / = ? ^ _ ` { | } ~, with periods only between them, at most 64 characters", alias)
	}
	doms, err := s.domains(ctx, op)
	if err != nil {
		return backend.DistributionGroup{}, err
	}
	domain := strings.ToLower(strings.TrimSpace(ng.Domain))
	if domain == "" {
		domain = defaultDomain(doms)
	}
	address := alias + "@" + domain
	existing, err := s.groupNamed(ctx, op, name)
	if err != nil {
		return backend.DistributionGroup{}, err
	}
	rerun := existing != nil && strings.EqualFold(existing.PrimaryAddress, address) && strings.EqualFold(existing.Alias, alias)
	switch {
	case existing != nil && !rerun:
		return backend.DistributionGroup{}, backend.Errorf(backend.AlreadyExists, op, name, "a distribution group named %s exists already (%s): choose another name", existing.Name, existing.PrimaryAddress)
	case !rerun:
		if err := s.checkNewAddress(ctx, op, name, address, doms); err != nil {
			return backend.DistributionGroup{}, err
		}
	}
	var g backend.DistributionGroup
	var current []backend.Recipient
	if rerun {
		g = *existing
		if current, err = s.members(ctx, op, g.ID); err != nil {
			return g, err
		}
	}
	toAdd, err := s.plannedAdds(ctx, op, backend.DistributionGroup{ID: g.ID, Name: name}, current, ng.Members)
	if err != nil {
		return g, err
	}
	if !rerun {
		in := backend.NewDistributionGroup{Name: name, DisplayName: name, Alias: alias, PrimaryAddress: address,
			Description: ng.Description, ExternalSendersAllowed: !ng.RejectExternalSenders}
		err := s.write(ctx, audit.Event{Op: AuditCreateGroup, Target: name, Detail: map[string]string{"address": address}}, op, name,
			func() (e error) { g, e = s.exo.CreateGroup(ctx, in); return })
		if err != nil {
			return g, backend.WithOp(err, op, name)
		}
	}
	c := &changes{op: op, key: name}
	s.applyAdds(ctx, op, c, g, toAdd)
	return g, c.err("creating " + name)
}

// groupNamed returns the group with that name (case-insensitive), or nil.
func (s *Service) groupNamed(ctx context.Context, op, name string) (*backend.DistributionGroup, error) {
	gs, err := s.List(ctx)
	if err != nil {
		return nil, backend.WithOp(err, op, name)
	}
	for i := range gs {
		if strings.EqualFold(gs[i].Name, name) {
			return &gs[i], nil
		}
	}
	return nil, nil
}

// defaultDomain is the tenant's default verified domain, else its first
// verified custom domain, else its initial domain.
func defaultDomain(doms map[string]backend.Domain) string {
	var custom, initial string
	for name, d := range doms {
		switch {
		case !d.IsVerified:
		case d.IsDefault:
			return name
		case d.IsInitial:
			initial = name
		case custom == "" || name < custom:
			custom = name
		}
	}
	if custom != "" {
		return custom
	}
	return initial
}

// List returns the tenant's distribution groups.
func (s *Service) List(ctx context.Context) ([]backend.DistributionGroup, error) {
	const op = "groups: list groups"
	if err := s.Available(ctx); err != nil {
		return nil, backend.WithOp(err, op, "")
	}
	var out []backend.DistributionGroup
	err := s.do(ctx, op, "", func() error {
		out = out[:0]
		for g, err := range s.exo.ListGroups(ctx) {
			if err != nil {
				return err
			}
			out = append(out, g)
		}
		return nil
	})
	return out, backend.WithOp(err, op, "")
}

// Get returns one group by name, alias, address or ID.
func (s *Service) Get(ctx context.Context, group string) (backend.DistributionGroup, error) {
	const op = "groups: get group"
	if err := s.Available(ctx); err != nil {
		return backend.DistributionGroup{}, backend.WithOp(err, op, group)
	}
	return s.getGroup(ctx, op, group)
}

// Update lists the changes [Service.Update] makes; nil fields are left
// alone.
type Update struct {
	DisplayName *string
	Description *string
	// ExternalSendersAllowed turns mail from outside the organization on
	// or off.
	ExternalSendersAllowed *bool
}

// Update changes a group's display name, description, or whether it
// receives mail from outside the organization.
func (s *Service) Update(ctx context.Context, group string, u Update) error {
	const op = "groups: update group"
	if err := s.Available(ctx); err != nil {
		return backend.WithOp(err, op, group)
	}
	g, err := s.getGroup(ctx, op, group)
	if err != nil {
		return err
	}
	if u.DisplayName != nil && strings.TrimSpace(*u.DisplayName) == "" {
		return backend.Invalid(op, g.Name, ReasonNameRequired, "a display name cannot be empty")
	}
	detail := map[string]string{}
	if u.ExternalSendersAllowed != nil {
		detail["externalSendersAllowed"] = map[bool]string{true: "true", false: "false"}[*u.ExternalSendersAllowed]
	}
	upd := backend.DistributionGroupUpdate{DisplayName: u.DisplayName, Description: u.Description, ExternalSendersAllowed: u.ExternalSendersAllowed}
	err = s.write(ctx, audit.Event{Op: AuditUpdateGroup, Target: g.Name, Detail: detail}, op, g.Name,
		func() error { return s.exo.UpdateGroup(ctx, g.ID, upd) })
	return backend.WithOp(err, op, g.Name)
}

// Delete removes a distribution group from Exchange Online. Its members
// are not touched; groups it was nested in lose it as a member.
func (s *Service) Delete(ctx context.Context, group string) error {
	const op = "groups: delete group"
	if err := s.Available(ctx); err != nil {
		return backend.WithOp(err, op, group)
	}
	g, err := s.getGroup(ctx, op, group)
	if err != nil {
		return err
	}
	err = s.write(ctx, audit.Event{Op: AuditDeleteGroup, Target: g.Name, Detail: map[string]string{"address": g.PrimaryAddress}}, op, g.Name,
		func() error { return s.exo.DeleteGroup(ctx, g.ID) })
	return backend.WithOp(err, op, g.Name)
}
