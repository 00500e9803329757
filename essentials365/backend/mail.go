package backend

import "context"

// Mail is the part of [Exchange] that manages a recipient's extra email
// addresses (aliases). Accounts needs only this part, so it takes a Mail;
// every Exchange driver is one.
//
// The identity is a mailbox's user principal name (or another identity
// [Exchange] accepts, such as a group's). Addresses are plain
// "local@domain" strings; the primary address is not listed.
type Mail interface {
	// ListAliases returns the recipient's secondary addresses, sorted.
	ListAliases(ctx context.Context, identity string) ([]string, error)
	// AddAlias adds a secondary address. An address used by any recipient
	// gives AlreadyExists; a malformed one ReasonAliasSyntax, one on a
	// domain that is not verified ReasonAliasDomainUnverified.
	AddAlias(ctx context.Context, identity, address string) error
	// RemoveAlias removes a secondary address; NotFound if the recipient
	// does not have it.
	RemoveAlias(ctx context.Context, identity, address string) error
}
