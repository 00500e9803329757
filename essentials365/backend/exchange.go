package backend

import (
	"context"
	"iter"
	"strings"
)

// Exchange is Exchange Online: the email addresses of its recipients
// (mailboxes and distribution groups) and its distribution groups with
// their direct members. Microsoft Graph cannot do either (proxyAddresses
// and distribution groups are read-only there), so Exchange is a separate
// driver, passed explicitly next to the [Tenant].
//
// An identity names one recipient: a mailbox by its user principal name,
// primary address, alias or object id; a group by its ID, name, alias or
// primary address. Matching is case-insensitive. Exchange resolves an
// identity that matches several recipients to NotFound, so callers that
// know an ID use it.
//
// Every address lives in one address space: a user principal name, a
// mailbox's or a group's primary address and every secondary address are
// unique across all recipients (AlreadyExists).
//
// Op wording is "exchange: <verb> <object>" in every driver
// ("exchange: add member").
type Exchange interface {
	// Mail lists, adds and removes the secondary addresses of a recipient:
	// ListAliases, AddAlias and RemoveAlias take the identity of a mailbox
	// or of a group.
	Mail

	// GetRecipient returns the recipient an identity or any of its
	// addresses names, or NotFound. It tells whether an address is in use.
	GetRecipient(ctx context.Context, identity string) (Recipient, error)

	// ListGroups streams the distribution groups. Iteration stops at the
	// first error, which is yielded with a zero DistributionGroup.
	ListGroups(ctx context.Context) iter.Seq2[DistributionGroup, error]
	// GetGroup returns one distribution group, or NotFound.
	GetGroup(ctx context.Context, identity string) (DistributionGroup, error)
	// CreateGroup creates a distribution group. The name must be unique
	// (AlreadyExists), the alias and the primary address well formed
	// (ReasonAliasSyntax) and the address on a verified domain
	// (ReasonAliasDomainUnverified) and unused by any recipient
	// (AlreadyExists).
	CreateGroup(ctx context.Context, g NewDistributionGroup) (DistributionGroup, error)
	// UpdateGroup changes the fields of upd that are set.
	UpdateGroup(ctx context.Context, identity string, upd DistributionGroupUpdate) error
	// DeleteGroup removes the group and frees its addresses. The group
	// also stops being a member of other groups.
	DeleteGroup(ctx context.Context, identity string) error

	// ListMembers returns the direct members of a group, sorted by
	// primary address.
	ListMembers(ctx context.Context, group string) ([]Recipient, error)
	// AddMember adds a direct member: a user mailbox or another
	// distribution group (InvalidArgument, ReasonMemberType, for anything
	// else); AlreadyExists when it is a member already.
	AddMember(ctx context.Context, group, member string) error
	// RemoveMember removes a direct member; NotFound when it is not one.
	RemoveMember(ctx context.Context, group, member string) error
}

// RecipientType is Exchange's RecipientTypeDetails of a recipient.
type RecipientType string

// The recipient types the SDK distinguishes; other values are kept as
// Exchange gives them.
const (
	// RecipientUserMailbox is a user with a mailbox.
	RecipientUserMailbox RecipientType = "UserMailbox"
	// RecipientUser is a user without a mailbox (not mail-enabled).
	RecipientUser RecipientType = "User"
	// RecipientDistributionGroup is a distribution group
	// (MailUniversalDistributionGroup).
	RecipientDistributionGroup RecipientType = "MailUniversalDistributionGroup"
)

// IsGroup reports whether the recipient type is a distribution group.
func (t RecipientType) IsGroup() bool { return t == RecipientDistributionGroup }

// Recipient is one Exchange recipient: a mailbox or a group.
type Recipient struct {
	// ID is Exchange's object GUID (Guid), usable as an identity.
	ID string
	// DirectoryID is the Microsoft Entra object id
	// (ExternalDirectoryObjectId): for a mailbox, the online user's ID in
	// the Tenant. It may be empty for a group Exchange has just created.
	DirectoryID    string
	Name           string
	DisplayName    string
	Alias          string
	PrimaryAddress string
	Type           RecipientType
}

// DistributionGroup is an Exchange Online distribution group.
type DistributionGroup struct {
	// ID is Exchange's object GUID, the identity to use in later calls.
	ID          string
	DirectoryID string
	// Name is unique among the tenant's groups; DisplayName is what
	// address books show.
	Name           string
	DisplayName    string
	Alias          string
	PrimaryAddress string
	Description    string
	// Addresses are the secondary addresses, sorted; the primary one is
	// not listed.
	Addresses []string
	// ExternalSendersAllowed is the negation of Exchange's
	// RequireSenderAuthenticationEnabled: the group receives mail from
	// outside the organization.
	ExternalSendersAllowed bool
}

// Recipient returns the group as a recipient.
func (g DistributionGroup) Recipient() Recipient {
	return Recipient{ID: g.ID, DirectoryID: g.DirectoryID, Name: g.Name, DisplayName: g.DisplayName,
		Alias: g.Alias, PrimaryAddress: g.PrimaryAddress, Type: RecipientDistributionGroup}
}

// NewDistributionGroup is what [Exchange.CreateGroup] takes.
type NewDistributionGroup struct {
	// Name is required: at most 64 characters, unique among groups.
	Name string
	// DisplayName defaults to Name.
	DisplayName string
	// Alias is the mail nickname: required, at most 64 characters of
	// A–Z a–z 0–9 and ! # $ % & ' * + - / = ? ^ _ ` { | } ~, with periods
	// only between other characters.
	Alias string
	// PrimaryAddress is required: alias@a verified domain, unused.
	PrimaryAddress string
	Description    string
	// ExternalSendersAllowed is sent explicitly on every create (Exchange's
	// own default rejects external senders).
	ExternalSendersAllowed bool
}

// DistributionGroupUpdate lists the changes [Exchange.UpdateGroup] makes;
// nil fields are left as they are.
type DistributionGroupUpdate struct {
	DisplayName            *string
	Description            *string
	ExternalSendersAllowed *bool
}

// Reasons of the Exchange contract, shared by every Exchange driver.
const (
	// ReasonNoExchangeOnline (FailedPrecondition): the tenant's
	// subscriptions include no Exchange Online plan (or no Exchange driver
	// was given), so there are no mailboxes, aliases or distribution groups
	// to manage.
	ReasonNoExchangeOnline Reason = "no-exchange-online"
	// ReasonAliasSyntax (InvalidArgument): an email address or a mail alias
	// breaks Exchange's syntax.
	ReasonAliasSyntax Reason = "alias-syntax"
	// ReasonAliasDomainUnverified (InvalidArgument): the domain of an
	// address is not a verified (accepted) domain of the tenant.
	ReasonAliasDomainUnverified Reason = "alias-domain-unverified"
	// ReasonGroupName (InvalidArgument): a group name is empty or longer
	// than 64 characters.
	ReasonGroupName Reason = "group-name"
	// ReasonMemberType (InvalidArgument): the member is neither a user
	// mailbox nor a distribution group (e.g. a user without a mailbox).
	ReasonMemberType Reason = "member-type"
)

// ExchangeAliasRule checks a mail alias (mailNickname) as Exchange does
// and returns "" or the rule it breaks (ReasonAliasSyntax): 1 to 64
// characters of A–Z a–z 0–9 and ! # $ % & ' * + - / = ? ^ _ ` { | } ~, and
// periods only between other characters.
func ExchangeAliasRule(alias string) Reason {
	if alias == "" || len(alias) > 64 {
		return ReasonAliasSyntax
	}
	for _, r := range alias {
		ok := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)
		if !ok {
			return ReasonAliasSyntax
		}
	}
	if strings.HasPrefix(alias, ".") || strings.HasSuffix(alias, ".") || strings.Contains(alias, "..") {
		return ReasonAliasSyntax
	}
	return ""
}

// ExchangeAddressRule checks an SMTP address's syntax and returns "" or
// ReasonAliasSyntax: exactly one @, a local part that passes
// [OnlineLocalPartRule], and a domain of dot-separated labels.
func ExchangeAddressRule(addr string) Reason {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || strings.Contains(domain, "@") || OnlineLocalPartRule(local) != "" {
		return ReasonAliasSyntax
	}
	if domain == "" || len(domain) > 255 || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return ReasonAliasSyntax
	}
	for _, r := range domain {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return ReasonAliasSyntax
		}
	}
	return ""
}

// ExchangeMailboxPlan reports whether a service plan name gives a user an
// Exchange Online mailbox (EXCHANGE_S_STANDARD, EXCHANGE_S_ENTERPRISE,
// EXCHANGE_S_DESKLESS, EXCHANGE_S_ESSENTIALS, ...). EXCHANGE_S_FOUNDATION,
// which many non-mail products carry, gives no mailbox.
func ExchangeMailboxPlan(name string) bool {
	n := strings.ToUpper(name)
	return strings.HasPrefix(n, "EXCHANGE_") && n != "EXCHANGE_S_FOUNDATION"
}
