package groups

import (
	"context"
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// Addresses returns the extra email addresses of a recipient (a group by
// name, alias or address; a user by online ID), sorted.
func (s *Service) Addresses(ctx context.Context, recipient string) ([]string, error) {
	const op = "groups: list addresses"
	if err := s.Available(ctx); err != nil {
		return nil, backend.WithOp(err, op, recipient)
	}
	r, err := s.recipient(ctx, op, recipient)
	if err != nil {
		return nil, err
	}
	var out []string
	err = s.do(ctx, op, recipient, func() (e error) { out, e = s.exo.ListAliases(ctx, r.ID); return })
	return out, backend.WithOp(err, op, recipient)
}

// AddAddress gives a recipient an extra email address, so it receives
// mail there too. The address must be valid, on a verified domain of the
// tenant and unused by any recipient; this is checked before the write.
// Adding an address the recipient already has does nothing.
func (s *Service) AddAddress(ctx context.Context, recipient, address string) error {
	const op = "groups: add address"
	r, address, err := s.addressRecipient(ctx, op, recipient, address)
	if err != nil {
		return err
	}
	if strings.EqualFold(r.PrimaryAddress, address) {
		return nil
	}
	var have []string
	if err := s.do(ctx, op, recipient, func() (e error) { have, e = s.exo.ListAliases(ctx, r.ID); return }); err != nil {
		return backend.WithOp(err, op, recipient)
	}
	if slices.ContainsFunc(have, func(a string) bool { return strings.EqualFold(a, address) }) {
		return nil
	}
	doms, err := s.domains(ctx, op)
	if err != nil {
		return err
	}
	if err := s.checkNewAddress(ctx, op, address, address, doms); err != nil {
		return err
	}
	err = s.write(ctx, s.addressEvent(AuditAddAddress, r, address), op, address, func() error {
		return s.exo.AddAlias(ctx, r.ID, strings.ToLower(address))
	})
	return backend.WithOp(err, op, address)
}

// RemoveAddress removes an extra email address of a recipient; NotFound
// when it does not have it.
func (s *Service) RemoveAddress(ctx context.Context, recipient, address string) error {
	const op = "groups: remove address"
	r, address, err := s.addressRecipient(ctx, op, recipient, address)
	if err != nil {
		return err
	}
	err = s.write(ctx, s.addressEvent(AuditRemoveAddress, r, address), op, address, func() error {
		return s.exo.RemoveAlias(ctx, r.ID, address)
	})
	return backend.WithOp(err, op, address)
}

func (s *Service) addressEvent(op string, r backend.Recipient, address string) audit.Event {
	e := audit.Event{Op: op, Target: r.PrimaryAddress, Detail: map[string]string{"address": address}}
	if !r.Type.IsGroup() {
		e.OnlineID, e.Target = r.PrimaryAddress, ""
	}
	return e
}

// addressRecipient is the start of AddAddress and RemoveAddress: the
// address trimmed, the service available, the recipient resolved.
func (s *Service) addressRecipient(ctx context.Context, op, recipient, address string) (backend.Recipient, string, error) {
	address = strings.TrimSpace(address)
	if err := s.Available(ctx); err != nil {
		return backend.Recipient{}, address, backend.WithOp(err, op, address)
	}
	r, err := s.recipient(ctx, op, recipient)
	return r, address, err
}
