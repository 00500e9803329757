package accounts

import (
	"context"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/retry"
)

// CheckNetworkPassword checks, without writing anything, a new network
// password for user (a sAMAccountName, UPN or objectGUID) against the
// password policy that applies to the user in the directory: its
// fine-grained policy, else the domain's (Directory.UserPasswordPolicy).
// It applies the minimum length and the complexity rule (three kinds of
// characters, and neither the account name nor a part of the user's
// name), and returns an InvalidArgument error naming the rule
// (backend.ReasonPasswordLength, ReasonPasswordComplexity,
// ReasonPasswordContainsName) that says what to do.
//
// The minimum password age and the history are not checked here: a
// user's change is refused by the directory for them after it has checked
// the old password, as Active Directory does, and its min-age refusal
// ([backend.ReasonPasswordMinAge]) says when the change becomes possible.
func (s *Service) CheckNetworkPassword(ctx context.Context, user, password string) error {
	const op = "accounts: check password"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return err
	}
	return s.checkNetworkPassword(ctx, op, u, password)
}

// checkNetworkPassword is CheckNetworkPassword for a user already found.
func (s *Service) checkNetworkPassword(ctx context.Context, op string, u backend.DirectoryUser, pw string) error {
	p, err := s.userPolicy(ctx, op, u)
	if err != nil {
		return backend.WithOp(err, op, u.SAMAccountName)
	}
	return p.CheckPassword(op, u.SAMAccountName, pw, u.SAMAccountName, u.DisplayName)
}

// precheckNetworkPassword refuses, before any write, a password the
// user's directory policy refuses (length, complexity), so that neither
// side is changed. When the policy cannot be read (a bind account without
// the right, a directory without fine-grained policies) the directory
// itself stays the judge: the write goes on and its refusal is returned.
func (s *Service) precheckNetworkPassword(ctx context.Context, op string, u backend.DirectoryUser, pw string) error {
	p, err := s.userPolicy(ctx, op, u)
	if err != nil {
		if backend.KindOf(err) == backend.Canceled {
			return backend.WithOp(err, op, u.SAMAccountName)
		}
		s.log.DebugContext(ctx, "password policy not read; the directory will judge the password", "user", u.SAMAccountName, "kind", backend.KindOf(err).String())
		return nil
	}
	return p.CheckPassword(op, u.SAMAccountName, pw, u.SAMAccountName, u.DisplayName)
}

// userPolicy reads the password policy that applies to u (its fine-grained
// policy, else the domain's).
func (s *Service) userPolicy(ctx context.Context, op string, u backend.DirectoryUser) (backend.PasswordPolicy, error) {
	return retry.Value(ctx, s.retry, op, u.SAMAccountName, func() (backend.PasswordPolicy, error) {
		return s.dir.UserPasswordPolicy(ctx, u.ID)
	})
}
