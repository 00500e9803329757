package accounts

import (
	"context"

	"github.com/essentials365/sdk/essentials365/backend"
)

// checkNetworkPassword checks a new network password against the policy
// that applies to the user in the directory (its fine-grained policy, else
// the domain's, from Directory.UserPasswordPolicy) before anything is
// written: the minimum length and the complexity rule. The minimum
// password age and the history are left to the directory's change, which
// checks them after the old password, as Active Directory does (so a wrong
// old password is reported as such), and whose min-age refusal says when
// the change becomes possible.
func (s *Service) checkNetworkPassword(ctx context.Context, op string, u backend.DirectoryUser, pw string) error {
	var p backend.PasswordPolicy
	err := s.do(ctx, op, u.SAMAccountName, func() (err error) {
		p, err = s.dir.UserPasswordPolicy(ctx, u.ID)
		return err
	})
	if err != nil {
		return backend.WithOp(err, op, u.SAMAccountName)
	}
	return p.CheckPassword(op, u.SAMAccountName, pw, u.SAMAccountName, u.DisplayName)
}
