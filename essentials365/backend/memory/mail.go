package memory

import (
	"context"
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Compile-time proof that *Mail implements backend.Mail.
var _ backend.Mail = (*Mail)(nil)

// Mail is the Exchange Online side of a memory [Tenant]: the secondary
// addresses (aliases) of its users. Addresses are unique across the
// tenant's users, whether as UPN or alias, and must be on a verified domain
// of the tenant. Deleting a user frees its aliases.
//
// Mail has its own call log and faults (operation names "ListAliases",
// "AddAlias", "RemoveAlias"), separate from the tenant's.
//
// A Mail is safe for concurrent use by multiple goroutines.
type Mail struct {
	recorder
	t *Tenant
}

func (m *Mail) begin(ctx context.Context, op, key string) error {
	if err := backend.CtxErr(ctx, op); err != nil {
		m.record(op, key, err)
		return err
	}
	if err := m.fault(ctx, op, key); err != nil {
		m.record(op, key, err)
		return err
	}
	return nil
}

func (m *Mail) done(op, key string, err error) error {
	m.record(op, key, err)
	return err
}

// mailUserLocked finds the live user with that UPN (or object id).
func (m *Mail) mailUserLocked(op, upn string) (*tenantUser, error) {
	u, ok := m.t.lookupLocked(upn)
	if !ok {
		return nil, backend.Errorf(backend.NotFound, op, upn, "The operation couldn't be performed because object '%s' couldn't be found.", upn)
	}
	return u, nil
}

// ListAliases returns the user's secondary addresses, sorted
// case-insensitively.
func (m *Mail) ListAliases(ctx context.Context, upn string) ([]string, error) {
	const op = "ListAliases"
	if err := m.begin(ctx, op, upn); err != nil {
		return nil, err
	}
	m.t.mu.Lock()
	m.t.purgeLocked()
	u, err := m.mailUserLocked(op, upn)
	var out []string
	if err == nil {
		out = make([]string, 0, len(u.aliases))
		for _, a := range u.aliases {
			out = append(out, a)
		}
	}
	m.t.mu.Unlock()
	if err != nil {
		return nil, m.done(op, upn, err)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out, m.done(op, upn, nil)
}

// AddAlias adds a secondary address to the user.
func (m *Mail) AddAlias(ctx context.Context, upn, address string) error {
	const op = "AddAlias"
	if err := m.begin(ctx, op, upn); err != nil {
		return err
	}
	return m.done(op, upn, m.addAlias(op, upn, address))
}

func (m *Mail) addAlias(op, upn, address string) error {
	addr := strings.TrimSpace(address)
	local, domain, ok := tenantSplitAddress(addr)
	if !ok || domain == "" || backend.OnlineLocalPartRule(local) != "" {
		return backend.Invalid(op, address, "alias-syntax", "The email address %q isn't correct. Please use this format: user name, the @ sign, followed by the domain name.", address)
	}
	t := m.t
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	if d := t.domainLocked(domain); d == nil || !d.verified {
		return backend.Invalid(op, address, "alias-domain-unverified", "The domain %s of the address isn't a verified domain of the organization.", domain)
	}
	u, err := m.mailUserLocked(op, upn)
	if err != nil {
		return err
	}
	k := strings.ToLower(addr)
	if _, used := t.byAlias[k]; used {
		return backend.Errorf(backend.AlreadyExists, op, address, "The proxy address \"SMTP:%s\" is already being used by the proxy addresses or LegacyExchangeDN.", addr)
	}
	if _, used := t.byUPN[k]; used {
		return backend.Errorf(backend.AlreadyExists, op, address, "The proxy address \"SMTP:%s\" is already being used by the proxy addresses or LegacyExchangeDN.", addr)
	}
	u.aliases[k] = addr
	t.byAlias[k] = u
	t.log.Debug("memory mail added alias", "upn", u.user.UserPrincipalName, "address", addr)
	return nil
}

// RemoveAlias removes a secondary address of the user; NotFound when the
// user does not have it.
func (m *Mail) RemoveAlias(ctx context.Context, upn, address string) error {
	const op = "RemoveAlias"
	if err := m.begin(ctx, op, upn); err != nil {
		return err
	}
	t := m.t
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked()
	u, err := m.mailUserLocked(op, upn)
	if err != nil {
		return m.done(op, upn, err)
	}
	k := strings.ToLower(strings.TrimSpace(address))
	if _, ok := u.aliases[k]; !ok {
		return m.done(op, upn, backend.Errorf(backend.NotFound, op, address, "%s has no secondary address %s.", u.user.UserPrincipalName, address))
	}
	delete(u.aliases, k)
	delete(t.byAlias, k)
	t.log.Debug("memory mail removed alias", "upn", u.user.UserPrincipalName, "address", address)
	return m.done(op, upn, nil)
}
