package backend

import "context"

// Mail is Exchange Online's side of a user: the extra email addresses
// (aliases) a mailbox receives mail at.
//
// Addresses are plain "local@domain" strings; the primary address is the
// user's UPN and is not listed.
type Mail interface {
	// ListAliases returns the user's secondary addresses, sorted.
	ListAliases(ctx context.Context, upn string) ([]string, error)
	// AddAlias adds a secondary address. An address used by any recipient
	// gives AlreadyExists.
	AddAlias(ctx context.Context, upn, address string) error
	// RemoveAlias removes a secondary address; NotFound if the user does
	// not have it.
	RemoveAlias(ctx context.Context, upn, address string) error
}
