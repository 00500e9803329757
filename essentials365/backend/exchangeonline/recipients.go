package exchangeonline

import (
	"context"
	"encoding/json"
	"iter"
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Cmdlets the driver runs (all on the unofficial beta InvokeCommand
// surface; see the package documentation).
const (
	cmdGetRecipient     = "Get-Recipient"
	cmdSetMailbox       = "Set-Mailbox"
	cmdGetGroup         = "Get-DistributionGroup"
	cmdNewGroup         = "New-DistributionGroup"
	cmdSetGroup         = "Set-DistributionGroup"
	cmdRemoveGroup      = "Remove-DistributionGroup"
	cmdGetGroupMember   = "Get-DistributionGroupMember"
	cmdAddGroupMember   = "Add-DistributionGroupMember"
	cmdRemoveGroupMembr = "Remove-DistributionGroupMember"
)

// recipientOut is the part of Get-Recipient, Get-DistributionGroup and
// Get-DistributionGroupMember output objects the driver reads. Property
// annotations ("EmailAddresses@odata.type") are dropped by decoding.
type recipientOut struct {
	Guid                               string          `json:"Guid"`
	ExternalDirectoryObjectID          string          `json:"ExternalDirectoryObjectId"`
	Identity                           string          `json:"Identity"`
	Name                               string          `json:"Name"`
	DisplayName                        string          `json:"DisplayName"`
	Alias                              string          `json:"Alias"`
	PrimarySMTPAddress                 string          `json:"PrimarySmtpAddress"`
	RecipientTypeDetails               string          `json:"RecipientTypeDetails"`
	EmailAddresses                     []string        `json:"EmailAddresses"`
	Description                        json.RawMessage `json:"Description"`
	RequireSenderAuthenticationEnabled *bool           `json:"RequireSenderAuthenticationEnabled"`
}

func (r recipientOut) recipient() backend.Recipient {
	return backend.Recipient{
		ID: r.Guid, DirectoryID: r.ExternalDirectoryObjectID, Name: r.Name, DisplayName: r.DisplayName,
		Alias: r.Alias, PrimaryAddress: r.PrimarySMTPAddress, Type: backend.RecipientType(r.RecipientTypeDetails),
	}
}

// secondary returns the SMTP addresses other than the primary, sorted:
// "smtp:" entries (the primary is "SMTP:"); other address types (X500,
// SIP, SPO) are left out.
func (r recipientOut) secondary() []string {
	var out []string
	for _, a := range r.EmailAddresses {
		typ, addr, ok := strings.Cut(a, ":")
		if !ok || typ != "smtp" {
			continue
		}
		out = append(out, addr)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

// description reads Description, a string or (as Exchange stores it) a
// list of lines.
func (r recipientOut) description() string {
	if len(r.Description) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(r.Description, &s) == nil {
		return s
	}
	var lines []string
	if json.Unmarshal(r.Description, &lines) == nil {
		return strings.Join(lines, "\n")
	}
	return ""
}

func (r recipientOut) group() backend.DistributionGroup {
	g := backend.DistributionGroup{
		ID: r.Guid, DirectoryID: r.ExternalDirectoryObjectID, Name: r.Name, DisplayName: r.DisplayName,
		Alias: r.Alias, PrimaryAddress: r.PrimarySMTPAddress, Description: r.description(), Addresses: r.secondary(),
	}
	if r.RequireSenderAuthenticationEnabled != nil {
		g.ExternalSendersAllowed = !*r.RequireSenderAuthenticationEnabled
	}
	return g
}

func (d *Driver) getRecipient(ctx context.Context, op, identity string) (recipientOut, error) {
	vals, err := d.invokeAll(ctx, op, identity, cmdGetRecipient, map[string]any{"Identity": identity}, false)
	if err != nil {
		return recipientOut{}, err
	}
	if len(vals) == 0 {
		return recipientOut{}, backend.Errorf(backend.NotFound, op, identity, "no recipient %s", identity)
	}
	return decodeOne[recipientOut](op, identity, cmdGetRecipient, vals)
}

// GetRecipient runs Get-Recipient -Identity.
func (d *Driver) GetRecipient(ctx context.Context, identity string) (backend.Recipient, error) {
	r, err := d.getRecipient(ctx, "exchange: get recipient", identity)
	if err != nil {
		return backend.Recipient{}, err
	}
	return r.recipient(), nil
}

// ListAliases reads the recipient's EmailAddresses (Get-Recipient).
func (d *Driver) ListAliases(ctx context.Context, identity string) ([]string, error) {
	r, err := d.getRecipient(ctx, "exchange: list addresses", identity)
	if err != nil {
		return nil, err
	}
	out := r.secondary()
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// setAddresses edits the EmailAddresses of a mailbox (Set-Mailbox) or a
// group (Set-DistributionGroup) with {Add|Remove: ["smtp:..."]}, which
// leaves the other addresses alone.
func (d *Driver) setAddresses(ctx context.Context, op, identity string, r recipientOut, verb, address string) error {
	cmdlet := cmdSetMailbox
	params := map[string]any{"Identity": cmpOr(r.Guid, identity), "EmailAddresses": hashtable(verb, "smtp:"+address)}
	if backend.RecipientType(r.RecipientTypeDetails).IsGroup() {
		cmdlet = cmdSetGroup
		params["BypassSecurityGroupManagerCheck"] = true
	}
	_, err := d.invokeAll(ctx, op, address, cmdlet, params, true)
	return err
}

// AddAlias adds a secondary address. The address is checked here first
// (Exchange validates SMTP syntax only) and Exchange refuses an address
// any recipient uses.
func (d *Driver) AddAlias(ctx context.Context, identity, address string) error {
	const op = "exchange: add address"
	address = strings.TrimSpace(address)
	if backend.ExchangeAddressRule(address) != "" {
		return backend.Invalid(op, address, backend.ReasonAliasSyntax, "the email address %q isn't correct: use name@domain", address)
	}
	r, err := d.getRecipient(ctx, op, identity)
	if err != nil {
		return err
	}
	return d.setAddresses(ctx, op, identity, r, "Add", address)
}

// RemoveAlias removes a secondary address; NotFound when the recipient
// does not have it (Exchange itself ignores such a removal).
func (d *Driver) RemoveAlias(ctx context.Context, identity, address string) error {
	const op = "exchange: remove address"
	address = strings.TrimSpace(address)
	r, err := d.getRecipient(ctx, op, identity)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(r.secondary(), func(a string) bool { return strings.EqualFold(a, address) }) {
		return backend.Errorf(backend.NotFound, op, address, "%s has no secondary address %s", identity, address)
	}
	return d.setAddresses(ctx, op, identity, r, "Remove", address)
}

// ListGroups runs Get-DistributionGroup -ResultSize Unlimited, page by
// page.
func (d *Driver) ListGroups(ctx context.Context) iter.Seq2[backend.DistributionGroup, error] {
	const op = "exchange: list groups"
	return func(yield func(backend.DistributionGroup, error) bool) {
		stopped := false
		err := d.invoke(ctx, op, "", cmdGetGroup, map[string]any{"ResultSize": "Unlimited"}, false, func(vals []json.RawMessage) bool {
			for _, v := range vals {
				var r recipientOut
				if err := json.Unmarshal(v, &r); err != nil {
					stopped = true
					yield(backend.DistributionGroup{}, &backend.Error{Kind: backend.Unavailable, Op: op, Msg: "Get-DistributionGroup returned an object of an unexpected shape", Err: err})
					return false
				}
				if !yield(r.group(), nil) {
					stopped = true
					return false
				}
			}
			return true
		})
		if err != nil && !stopped {
			yield(backend.DistributionGroup{}, err)
		}
	}
}

// GetGroup runs Get-DistributionGroup -Identity.
func (d *Driver) GetGroup(ctx context.Context, identity string) (backend.DistributionGroup, error) {
	const op = "exchange: get group"
	vals, err := d.invokeAll(ctx, op, identity, cmdGetGroup, map[string]any{"Identity": identity}, false)
	if err != nil {
		return backend.DistributionGroup{}, err
	}
	if len(vals) == 0 {
		return backend.DistributionGroup{}, backend.Errorf(backend.NotFound, op, identity, "no distribution group %s", identity)
	}
	r, err := decodeOne[recipientOut](op, identity, cmdGetGroup, vals)
	return r.group(), err
}

// CreateGroup runs New-DistributionGroup -Type Distribution, always
// sending RequireSenderAuthenticationEnabled (Exchange's default is to
// reject external senders).
func (d *Driver) CreateGroup(ctx context.Context, g backend.NewDistributionGroup) (backend.DistributionGroup, error) {
	const op = "exchange: create group"
	name := strings.TrimSpace(g.Name)
	if name == "" || len([]rune(name)) > 64 {
		return backend.DistributionGroup{}, backend.Invalid(op, g.Name, backend.ReasonGroupName, "a group name is required and has at most 64 characters")
	}
	if backend.ExchangeAliasRule(strings.TrimSpace(g.Alias)) != "" {
		return backend.DistributionGroup{}, backend.Invalid(op, g.Name, backend.ReasonAliasSyntax, "the alias %q isn't valid", g.Alias)
	}
	params := map[string]any{
		"Name":                               name,
		"Alias":                              strings.TrimSpace(g.Alias),
		"Type":                               "Distribution",
		"RequireSenderAuthenticationEnabled": !g.ExternalSendersAllowed,
	}
	if v := strings.TrimSpace(g.DisplayName); v != "" {
		params["DisplayName"] = v
	}
	if v := strings.TrimSpace(g.PrimaryAddress); v != "" {
		if backend.ExchangeAddressRule(v) != "" {
			return backend.DistributionGroup{}, backend.Invalid(op, g.Name, backend.ReasonAliasSyntax, "the email address %q isn't correct: use name@domain", v)
		}
		params["PrimarySmtpAddress"] = v
	}
	if g.Description != "" {
		params["Description"] = g.Description
	}
	vals, err := d.invokeAll(ctx, op, name, cmdNewGroup, params, true)
	if err != nil {
		return backend.DistributionGroup{}, err
	}
	r, err := decodeOne[recipientOut](op, name, cmdNewGroup, vals)
	return r.group(), err
}

// UpdateGroup runs Set-DistributionGroup with the fields that are set.
func (d *Driver) UpdateGroup(ctx context.Context, identity string, upd backend.DistributionGroupUpdate) error {
	const op = "exchange: update group"
	params := map[string]any{"Identity": identity, "BypassSecurityGroupManagerCheck": true}
	if upd.DisplayName != nil {
		if strings.TrimSpace(*upd.DisplayName) == "" {
			return backend.Invalid(op, identity, backend.ReasonGroupName, "a display name is required")
		}
		params["DisplayName"] = strings.TrimSpace(*upd.DisplayName)
	}
	if upd.Description != nil {
		params["Description"] = *upd.Description
	}
	if upd.ExternalSendersAllowed != nil {
		params["RequireSenderAuthenticationEnabled"] = !*upd.ExternalSendersAllowed
	}
	_, err := d.invokeAll(ctx, op, identity, cmdSetGroup, params, true)
	return err
}

// DeleteGroup runs Remove-DistributionGroup.
func (d *Driver) DeleteGroup(ctx context.Context, identity string) error {
	const op = "exchange: delete group"
	_, err := d.invokeAll(ctx, op, identity, cmdRemoveGroup,
		map[string]any{"Identity": identity, "BypassSecurityGroupManagerCheck": true, "Confirm": false}, true)
	return err
}

// ListMembers runs Get-DistributionGroupMember -ResultSize Unlimited.
func (d *Driver) ListMembers(ctx context.Context, group string) ([]backend.Recipient, error) {
	const op = "exchange: list members"
	vals, err := d.invokeAll(ctx, op, group, cmdGetGroupMember, map[string]any{"Identity": group, "ResultSize": "Unlimited"}, false)
	if err != nil {
		return nil, err
	}
	out := make([]backend.Recipient, 0, len(vals))
	for _, v := range vals {
		var r recipientOut
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, &backend.Error{Kind: backend.Unavailable, Op: op, Key: group, Msg: "Get-DistributionGroupMember returned an object of an unexpected shape", Err: err}
		}
		out = append(out, r.recipient())
	}
	slices.SortFunc(out, func(a, b backend.Recipient) int {
		return strings.Compare(strings.ToLower(a.PrimaryAddress), strings.ToLower(b.PrimaryAddress))
	})
	return out, nil
}

// AddMember runs Add-DistributionGroupMember.
func (d *Driver) AddMember(ctx context.Context, group, member string) error {
	_, err := d.invokeAll(ctx, "exchange: add member", member, cmdAddGroupMember,
		map[string]any{"Identity": group, "Member": member, "BypassSecurityGroupManagerCheck": true}, true)
	return err
}

// RemoveMember runs Remove-DistributionGroupMember.
func (d *Driver) RemoveMember(ctx context.Context, group, member string) error {
	_, err := d.invokeAll(ctx, "exchange: remove member", member, cmdRemoveGroupMembr,
		map[string]any{"Identity": group, "Member": member, "BypassSecurityGroupManagerCheck": true, "Confirm": false}, true)
	return err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
