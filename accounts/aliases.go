package accounts

import (
	"context"
	"strings"

	"github.com/essentials365/sdk/essentials365/audit"
	"github.com/essentials365/sdk/essentials365/backend"
)

// Aliases returns the extra email addresses of a user's online account.
func (s *Service) Aliases(ctx context.Context, user string) ([]string, error) {
	const op = "accounts: list aliases"
	_, upn, err := s.mailbox(ctx, op, user)
	if err != nil {
		return nil, err
	}
	var out []string
	err = s.do(ctx, op, upn, func() (e error) { out, e = s.mail.ListAliases(ctx, upn); return })
	return out, backend.WithOp(err, op, upn)
}

// AddAlias adds an extra email address to a user's online account, so it
// receives mail there too. The address must be valid and use a verified
// domain of the tenant.
func (s *Service) AddAlias(ctx context.Context, user, address string) error {
	const op = "accounts: add alias"
	address = strings.TrimSpace(address)
	sam, upn, err := s.mailbox(ctx, op, user)
	if err != nil {
		return err
	}
	doms, err := s.domains(ctx, op)
	if err != nil {
		return err
	}
	if err := doms.checkAddress(op, address, "alias"); err != nil {
		return err
	}
	if strings.EqualFold(address, upn) {
		return backend.Invalid(op, address, ReasonAliasSyntax, "this is the account's primary address already")
	}
	address = strings.ToLower(address)
	e := ev(AuditAddAlias, audit.SideExchange, sam, upn)
	e.Target = address
	err = s.write(ctx, op, e, func() error { return s.mail.AddAlias(ctx, upn, address) })
	return backend.WithOp(err, op, address)
}

// RemoveAlias removes an extra email address.
func (s *Service) RemoveAlias(ctx context.Context, user, address string) error {
	const op = "accounts: remove alias"
	sam, upn, err := s.mailbox(ctx, op, user)
	if err != nil {
		return err
	}
	address = strings.ToLower(strings.TrimSpace(address))
	if strings.EqualFold(address, upn) {
		// Refused here, whatever the mail driver would do with it.
		return backend.Invalid(op, address, ReasonAliasSyntax, "this is the account's primary address, not an alias: it cannot be removed")
	}
	e := ev(AuditRemoveAlias, audit.SideExchange, sam, upn)
	e.Target = address
	err = s.write(ctx, op, e, func() error { return s.mail.RemoveAlias(ctx, upn, address) })
	return backend.WithOp(err, op, address)
}

// mailbox returns the user's sAMAccountName and the online ID of its
// assigned online account.
func (s *Service) mailbox(ctx context.Context, op, user string) (sam, upn string, err error) {
	if s.mail == nil {
		return "", "", backend.Errorf(backend.Unimplemented, op, user, "no mail backend: set Options.Mail")
	}
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return "", "", err
	}
	m, err := ParseMapping(u.OnlineAccount)
	if err != nil {
		return "", "", backend.WithOp(err, op, user)
	}
	if m.ID == "" {
		return "", "", backend.Errorf(backend.FailedPrecondition, op, user, "the user has no online account")
	}
	return u.SAMAccountName, m.UPN, nil
}
