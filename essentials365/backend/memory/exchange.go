package memory

import (
	"context"
	"iter"
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Compile-time proof that *Exchange implements the Exchange contracts.
var (
	_ backend.Exchange = (*Exchange)(nil)
	_ backend.Mail     = (*Exchange)(nil)
)

// Mail is the name this driver had when it served aliases only; it is the
// same type as [Exchange].
type Mail = Exchange

// Messages Exchange Online gives for the same failures (Microsoft's
// troubleshooting pages and the error bodies quoted in the package
// exchangeonline), so a program reads the same words from memory and from
// the real service.
const (
	exoMsgNotFound      = "The operation couldn't be performed because object '%s' couldn't be found."
	exoMsgProxyTaken    = "The proxy address \"SMTP:%s\" is already being used by the proxy addresses or LegacyExchangeDN. Please choose another proxy address."
	exoMsgAddressSyntax = "The email address %q isn't correct. Please use this format: user name, the @ sign, followed by the domain name."
	exoMsgDomain        = "The domain %s of the address isn't an accepted domain of the organization: verify it first."
	exoMsgMemberExists  = "The recipient %q is already a member of the group %q."
	exoMsgNotMember     = "The recipient %q isn't a member of the group %q."
	exoMsgNameTaken     = "The name %q is already being used. Please try another name."
)

// Exchange is the Exchange Online side of a memory [Tenant]: the
// secondary addresses (aliases) of its users and its distribution groups
// with their direct members. It shares the tenant's address space: user
// principal names, user aliases and groups' addresses are unique across
// all of them, and an address must be on a verified domain of the tenant.
// Deleting a user frees its aliases; a deleted user is not listed as a
// member (restoring it brings its memberships back).
//
// A user is a mailbox (RecipientUserMailbox) once a license with an
// Exchange plan gives it a mail address, a plain user (RecipientUser)
// before; only mailboxes and groups can be members. Unlike Exchange Online,
// aliases are accepted on a user without a mailbox, as this driver always
// did.
//
// Exchange has its own call log and faults, separate from the tenant's;
// operation names are the method names ("AddAlias", "CreateGroup", ...).
// Errors carry the contract's op wording ("exchange: add address").
//
// An Exchange is safe for concurrent use by multiple goroutines; its state
// is guarded by the tenant's lock.
type Exchange struct {
	recorder
	t *Tenant

	// guarded by t.mu; maps are made on first write
	groups map[string]*exoGroup // by lower-cased ID
	order  []*exoGroup          // creation order, for ListGroups
	byAddr map[string]*exoGroup // lower-cased primary and secondary addresses
}

// Exchange returns the Exchange Online side of this tenant.
func (t *Tenant) Exchange() *Exchange { return t.mail }

// exoGroup is the stored state of one distribution group.
type exoGroup struct {
	g         backend.DistributionGroup // Addresses computed on the way out
	addresses map[string]string         // secondary: lower-cased -> as given
	members   map[string]exoMember      // by lower-cased member key
	deleted   bool
}

// exoMember is one direct member: a user or a group.
type exoMember struct {
	user  *tenantUser
	group *exoGroup
}

// exchangeOpWording is the wording of the Exchange contract's operations
// in errors, by fault name, the same in every Exchange driver
// ("exchange: <verb> <object>").
var exchangeOpWording = map[string]string{
	string(OpGetRecipient): "exchange: get recipient",
	string(OpListAliases):  "exchange: list addresses",
	string(OpAddAlias):     "exchange: add address",
	string(OpRemoveAlias):  "exchange: remove address",
	string(OpListGroups):   "exchange: list groups",
	string(OpGetGroup):     "exchange: get group",
	string(OpCreateGroup):  "exchange: create group",
	string(OpUpdateGroup):  "exchange: update group",
	string(OpDeleteGroup):  "exchange: delete group",
	string(OpListMembers):  "exchange: list members",
	string(OpAddMember):    "exchange: add member",
	string(OpRemoveMember): "exchange: remove member",
}

// begin checks the context and the injected faults of the call op (a
// fault name, e.g. "AddAlias"); a cancelled call is worded as the
// contract words op.
func (e *Exchange) begin(ctx context.Context, op, key string) error {
	if err := backend.CtxErr(ctx, exchangeOpWording[op]); err != nil {
		e.record(op, key, err)
		return err
	}
	if err := e.fault(ctx, op, key); err != nil {
		e.record(op, key, err)
		return err
	}
	return nil
}

func (e *Exchange) done(op, key string, err error) error {
	e.record(op, key, err)
	return err
}

func (e *Exchange) initLocked() {
	if e.groups == nil {
		e.groups = map[string]*exoGroup{}
		e.byAddr = map[string]*exoGroup{}
	}
}

// groupAddressTakenLocked reports whether a group holds the lower-cased
// address. The tenant calls it so that a new user's UPN cannot take a
// group's address.
func (e *Exchange) groupAddressTakenLocked(k string) bool {
	_, ok := e.byAddr[k]
	return ok
}

// addressTakenLocked reports whether any recipient holds the lower-cased
// address: a user's UPN (live or deleted), a user's alias, a group's
// address.
func (e *Exchange) addressTakenLocked(k string) bool {
	if _, ok := e.t.byUPN[k]; ok {
		return true
	}
	if _, ok := e.t.byAlias[k]; ok {
		return true
	}
	return e.groupAddressTakenLocked(k)
}

func exoNotFound(op, identity string) error {
	return backend.Errorf(backend.NotFound, op, identity, exoMsgNotFound, identity)
}

// mailboxID is the Exchange object GUID of a user's mailbox: stable and
// different from the user's directory id, as in Exchange Online.
func mailboxID(u *tenantUser) string { return tenantStableID("exchange-mailbox", u.user.ID) }

// resolveLocked finds the live recipient an identity names: exactly one
// of user and group is set, or NotFound (also when several match, as
// Exchange answers an ambiguous identity).
func (e *Exchange) resolveLocked(op, identity string) (*tenantUser, *exoGroup, error) {
	k := strings.ToLower(strings.TrimSpace(identity))
	var user *tenantUser
	var group *exoGroup
	n := 0
	if g := e.groupByKeyLocked(k); g != nil {
		group = g
		n++
	}
	if u := e.userByKeyLocked(k); u != nil {
		user = u
		n++
	}
	if n != 1 {
		return nil, nil, exoNotFound(op, identity)
	}
	return user, group, nil
}

func (e *Exchange) groupByKeyLocked(k string) *exoGroup {
	if k == "" {
		return nil
	}
	if g, ok := e.groups[k]; ok {
		return g
	}
	if g, ok := e.byAddr[k]; ok {
		return g
	}
	var found *exoGroup
	for _, g := range e.order {
		if !g.deleted && (strings.EqualFold(g.g.Name, k) || strings.EqualFold(g.g.Alias, k)) {
			if found != nil && found != g {
				return nil
			}
			found = g
		}
	}
	return found
}

func (e *Exchange) userByKeyLocked(k string) *tenantUser {
	if k == "" {
		return nil
	}
	if u, ok := e.t.lookupLocked(k); ok {
		return u
	}
	if u, ok := e.t.byAlias[k]; ok && !u.deleted {
		return u
	}
	if _, err := backend.ParseGUID(k); err == nil {
		for _, u := range e.t.order {
			if !u.deleted && mailboxID(u) == k {
				return u
			}
		}
	}
	return nil
}

func (e *Exchange) userRecipient(u *tenantUser) backend.Recipient {
	typ := backend.RecipientUser
	if u.user.Mail != "" {
		typ = backend.RecipientUserMailbox
	}
	return backend.Recipient{
		ID: mailboxID(u), DirectoryID: u.user.ID, Name: u.user.MailNickname, DisplayName: u.user.DisplayName,
		Alias: u.user.MailNickname, PrimaryAddress: u.user.UserPrincipalName, Type: typ,
	}
}

func (g *exoGroup) snapshot() backend.DistributionGroup {
	out := g.g
	out.Addresses = sortedAddresses(g.addresses)
	return out
}

func sortedAddresses(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, a := range m {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

// checkNewAddressLocked applies Exchange's rules to an address about to be
// given to a recipient: syntax, verified domain, unused.
func (e *Exchange) checkNewAddressLocked(op, key, addr string) error {
	if backend.ExchangeAddressRule(addr) != "" {
		return backend.Invalid(op, key, backend.ReasonAliasSyntax, exoMsgAddressSyntax, addr)
	}
	_, domain, _ := strings.Cut(addr, "@")
	if d := e.t.domainLocked(domain); d == nil || !d.verified {
		return backend.Invalid(op, key, backend.ReasonAliasDomainUnverified, exoMsgDomain, domain)
	}
	if e.addressTakenLocked(strings.ToLower(addr)) {
		return backend.Errorf(backend.AlreadyExists, op, key, exoMsgProxyTaken, addr)
	}
	return nil
}

// GetRecipient returns the live recipient an identity or address names.
func (e *Exchange) GetRecipient(ctx context.Context, identity string) (backend.Recipient, error) {
	const op, fault = "exchange: get recipient", "GetRecipient"
	if err := e.begin(ctx, fault, identity); err != nil {
		return backend.Recipient{}, err
	}
	e.t.mu.Lock()
	e.t.purgeLocked()
	u, g, err := e.resolveLocked(op, identity)
	var out backend.Recipient
	switch {
	case err != nil:
	case u != nil:
		out = e.userRecipient(u)
	default:
		out = g.g.Recipient()
	}
	e.t.mu.Unlock()
	return out, e.done(fault, identity, err)
}

// ListAliases returns the recipient's secondary addresses, sorted
// case-insensitively.
func (e *Exchange) ListAliases(ctx context.Context, identity string) ([]string, error) {
	const op, fault = "exchange: list addresses", "ListAliases"
	if err := e.begin(ctx, fault, identity); err != nil {
		return nil, err
	}
	e.t.mu.Lock()
	e.t.purgeLocked()
	u, g, err := e.resolveLocked(op, identity)
	var out []string
	switch {
	case err != nil:
	case u != nil:
		out = sortedAddresses(u.aliases)
	default:
		out = sortedAddresses(g.addresses)
	}
	e.t.mu.Unlock()
	return out, e.done(fault, identity, err)
}

// AddAlias adds a secondary address to a user or a group.
func (e *Exchange) AddAlias(ctx context.Context, identity, address string) error {
	const op, fault = "exchange: add address", "AddAlias"
	if err := e.begin(ctx, fault, identity); err != nil {
		return err
	}
	return e.done(fault, identity, e.addAlias(op, identity, address))
}

func (e *Exchange) addAlias(op, identity, address string) error {
	addr := strings.TrimSpace(address)
	if backend.ExchangeAddressRule(addr) != "" {
		return backend.Invalid(op, address, backend.ReasonAliasSyntax, exoMsgAddressSyntax, address)
	}
	t := e.t
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	e.initLocked()
	u, g, err := e.resolveLocked(op, identity)
	if err != nil {
		return err
	}
	if err := e.checkNewAddressLocked(op, address, addr); err != nil {
		return err
	}
	k := strings.ToLower(addr)
	if u != nil {
		u.aliases[k] = addr
		t.byAlias[k] = u
		t.log.Debug("memory exchange added alias", "upn", u.user.UserPrincipalName, "address", addr)
		return nil
	}
	g.addresses[k] = addr
	e.byAddr[k] = g
	t.log.Debug("memory exchange added group address", "group", g.g.Name, "address", addr)
	return nil
}

// RemoveAlias removes a secondary address of a user or a group; NotFound
// when the recipient does not have it.
func (e *Exchange) RemoveAlias(ctx context.Context, identity, address string) error {
	const op, fault = "exchange: remove address", "RemoveAlias"
	if err := e.begin(ctx, fault, identity); err != nil {
		return err
	}
	t := e.t
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	u, g, err := e.resolveLocked(op, identity)
	if err != nil {
		return e.done(fault, identity, err)
	}
	k := strings.ToLower(strings.TrimSpace(address))
	if u != nil {
		if _, ok := u.aliases[k]; !ok {
			return e.done(fault, identity, backend.Errorf(backend.NotFound, op, address, "%s has no secondary address %s.", u.user.UserPrincipalName, address))
		}
		delete(u.aliases, k)
		delete(t.byAlias, k)
		return e.done(fault, identity, nil)
	}
	if _, ok := g.addresses[k]; !ok {
		return e.done(fault, identity, backend.Errorf(backend.NotFound, op, address, "%s has no secondary address %s.", g.g.Name, address))
	}
	delete(g.addresses, k)
	delete(e.byAddr, k)
	return e.done(fault, identity, nil)
}

// ListGroups streams the live groups in creation order, one page (the
// tenant's page size) at a time.
func (e *Exchange) ListGroups(ctx context.Context) iter.Seq2[backend.DistributionGroup, error] {
	const fault = "ListGroups"
	return func(yield func(backend.DistributionGroup, error) bool) {
		pos := 0
		for {
			if err := e.begin(ctx, fault, ""); err != nil {
				yield(backend.DistributionGroup{}, err)
				return
			}
			e.t.mu.Lock()
			var page []backend.DistributionGroup
			for pos < len(e.order) && len(page) < e.t.pageSize {
				if g := e.order[pos]; !g.deleted {
					page = append(page, g.snapshot())
				}
				pos++
			}
			more := pos < len(e.order)
			e.t.mu.Unlock()
			e.record(fault, "", nil)
			for _, g := range page {
				if !yield(g, nil) {
					return
				}
			}
			if !more {
				return
			}
		}
	}
}
