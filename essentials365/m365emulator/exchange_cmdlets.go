package m365emulator

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// runCmdlet runs one cmdlet over Options.Exchange. It returns the output
// objects of this page and the next page's link ("" on the last).
func (s *Server) runCmdlet(ctx context.Context, er *exoRequest) ([]map[string]any, string, *exoError) {
	x := s.opts.Exchange
	switch strings.ToLower(er.cmdlet) { // cmdlet names are case-insensitive [real]
	case "get-recipient":
		p := er.parameters("Identity")
		id := p.require("Identity")
		if p.err != nil {
			return nil, "", p.err
		}
		r, err := x.GetRecipient(ctx, id)
		if err != nil {
			return nil, "", exoBackendError(er.cmdlet, err)
		}
		obj, xerr := s.exoRecipientObject(ctx, er, r)
		if xerr != nil {
			return nil, "", xerr
		}
		return []map[string]any{obj}, "", nil
	case "set-mailbox":
		return nil, "", s.exoSetAddresses(ctx, er, false)
	case "get-distributiongroup":
		return s.exoGetGroups(ctx, er)
	case "new-distributiongroup":
		return s.exoNewGroup(ctx, er)
	case "set-distributiongroup":
		return nil, "", s.exoSetGroup(ctx, er)
	case "remove-distributiongroup":
		p := er.parameters("Identity", "BypassSecurityGroupManagerCheck", "Confirm")
		id := p.require("Identity")
		if p.err != nil {
			return nil, "", p.err
		}
		if err := x.DeleteGroup(ctx, id); err != nil {
			return nil, "", exoBackendError(er.cmdlet, err)
		}
		return nil, "", nil // void cmdlets answer an empty value [client: CIPP]
	case "get-distributiongroupmember":
		p := er.parameters("Identity", "ResultSize")
		id := p.require("Identity")
		if p.err != nil {
			return nil, "", p.err
		}
		ms, err := x.ListMembers(ctx, id)
		if err != nil {
			return nil, "", exoBackendError(er.cmdlet, err)
		}
		var all []map[string]any
		for _, m := range ms {
			all = append(all, exoMemberObject(m))
		}
		return er.page(all)
	case "add-distributiongroupmember", "remove-distributiongroupmember":
		p := er.parameters("Identity", "Member", "BypassSecurityGroupManagerCheck", "Confirm")
		id, member := p.require("Identity"), p.require("Member")
		if p.err != nil {
			return nil, "", p.err
		}
		var err error
		if strings.EqualFold(er.cmdlet, "add-distributiongroupmember") {
			err = x.AddMember(ctx, id, member)
		} else {
			err = x.RemoveMember(ctx, id, member)
		}
		if err != nil {
			return nil, "", exoBackendError(er.cmdlet, err)
		}
		return nil, "", nil
	}
	// [emulator] PowerShell's wording for an unknown command.
	return nil, "", &exoError{status: http.StatusBadRequest, code: "BadRequest", exception: "|System.Management.Automation.CommandNotFoundException",
		text: fmt.Sprintf("The term '%s' is not recognized as the name of a cmdlet served by this emulator.", er.cmdlet)}
}

// page cuts one page of all at the request's offset and builds the next
// link: the same URL with $skiptoken [emulator: the real token's form is
// opaque; clients only re-POST to the link].
func (er *exoRequest) page(all []map[string]any) ([]map[string]any, string, *exoError) {
	if er.skip > len(all) {
		er.skip = len(all)
	}
	end := min(len(all), er.skip+er.pageSize)
	next := ""
	if end < len(all) {
		next = er.base + "?$skiptoken=" + strconv.Itoa(end)
	}
	return all[er.skip:end], next, nil
}

// exoAddresses builds EmailAddresses: "SMTP:" before the primary, "smtp:"
// before the others [real: proxy address convention; Graph's
// proxyAddresses use the same].
func exoAddresses(primary string, secondary []string) []string {
	out := []string{"SMTP:" + primary}
	for _, a := range secondary {
		out = append(out, "smtp:"+a)
	}
	return out
}

// exoRecipientObject is a Get-Recipient output object with the
// per-property annotations clients drop [real: captured answer].
func (s *Server) exoRecipientObject(ctx context.Context, er *exoRequest, r backend.Recipient) (map[string]any, *exoError) {
	aliases, err := s.opts.Exchange.ListAliases(ctx, r.ID)
	if err != nil {
		return nil, exoBackendError(er.cmdlet, err)
	}
	obj := exoMemberObject(r)
	obj["EmailAddresses"] = exoAddresses(r.PrimaryAddress, aliases)
	obj["EmailAddresses@odata.type"] = exoAnnotationCol
	if r.Type.IsGroup() {
		g, err := s.opts.Exchange.GetGroup(ctx, r.ID)
		if err != nil {
			return nil, exoBackendError(er.cmdlet, err)
		}
		return exoGroupObject(g), nil
	}
	return obj, nil
}

// exoMemberObject is a recipient as Get-DistributionGroupMember lists it:
// ExternalDirectoryObjectId, PrimarySmtpAddress, ... [doc: admin API
// DistributionGroupMember endpoint; client: CIPP].
func exoMemberObject(r backend.Recipient) map[string]any {
	typ := "UserMailbox"
	if r.Type.IsGroup() {
		typ = "MailUniversalDistributionGroup"
	} else if r.Type == backend.RecipientUser {
		typ = "User"
	}
	return map[string]any{
		"Identity":                  r.Name,
		"Guid":                      r.ID,
		"Guid@data.type":            "System.Guid", // [real] annotations
		"Guid@odata.type":           "#Guid",
		"ExternalDirectoryObjectId": r.DirectoryID,
		"Name":                      r.Name,
		"DisplayName":               r.DisplayName,
		"Alias":                     r.Alias,
		"PrimarySmtpAddress":        r.PrimaryAddress,
		"RecipientType":             typ,
		"RecipientTypeDetails":      string(r.Type),
	}
}

// exoGroupObject is a Get-DistributionGroup / New-DistributionGroup output
// object. Description is a list of lines, as Exchange stores a
// multi-valued property [emulator: shape assumed, the driver reads a
// string too].
func exoGroupObject(g backend.DistributionGroup) map[string]any {
	obj := exoMemberObject(g.Recipient())
	obj["EmailAddresses"] = exoAddresses(g.PrimaryAddress, g.Addresses)
	obj["EmailAddresses@odata.type"] = exoAnnotationCol
	desc := []string{}
	if g.Description != "" {
		desc = strings.Split(g.Description, "\n")
	}
	obj["Description"] = desc
	obj["Description@odata.type"] = exoAnnotationCol
	obj["RequireSenderAuthenticationEnabled"] = !g.ExternalSendersAllowed
	obj["GroupType"] = "Universal"
	return obj
}

// exoSetAddresses applies EmailAddresses @{Add=...; Remove=...} to a
// mailbox (Set-Mailbox) or a group (Set-DistributionGroup). "smtp:" and
// untyped values are secondary addresses; "SMTP:" would change the
// primary, which the emulator does not do [client: CIPP; doc:
// Set-Mailbox -EmailAddresses]. Removing an address the recipient lacks
// is ignored [emulator: assumed from PowerShell's hashtable semantics].
func (s *Server) exoSetAddresses(ctx context.Context, er *exoRequest, group bool) *exoError {
	allowed := []string{"Identity", "EmailAddresses"}
	if group {
		allowed = append(allowed, "BypassSecurityGroupManagerCheck", "DisplayName", "Description", "RequireSenderAuthenticationEnabled")
	}
	p := er.parameters(allowed...)
	id := p.require("Identity")
	add, remove := p.hashtable("EmailAddresses")
	if p.err != nil {
		return p.err
	}
	x := s.opts.Exchange
	r, err := x.GetRecipient(ctx, id)
	if err != nil {
		return exoBackendError(er.cmdlet, err)
	}
	if r.Type.IsGroup() != group {
		return exoBackendError(er.cmdlet, backend.Errorf(backend.NotFound, "", id, "The operation couldn't be performed because object '%s' couldn't be found.", id))
	}
	// Every address is checked before any change, so that a refused
	// address never leaves the others half applied.
	secondary := func(vs []string) ([]string, *exoError) {
		out := make([]string, 0, len(vs))
		for _, v := range vs {
			addr, xerr := exoSecondary(v)
			if xerr != nil {
				return nil, xerr
			}
			out = append(out, addr)
		}
		return out, nil
	}
	removeAddrs, xerr := secondary(remove)
	if xerr != nil {
		return xerr
	}
	addAddrs, xerr := secondary(add)
	if xerr != nil {
		return xerr
	}
	// The change is whole or nothing: when one address fails (taken by
	// another recipient), the ones already changed are put back
	// [emulator: assumed from the cmdlet saving the recipient once, after
	// checking every value; not confirmed against the service].
	var removed, added []string
	undo := func() {
		for _, a := range added {
			_ = x.RemoveAlias(ctx, r.ID, a)
		}
		for _, a := range removed {
			_ = x.AddAlias(ctx, r.ID, a)
		}
	}
	for _, addr := range removeAddrs {
		err := x.RemoveAlias(ctx, r.ID, addr)
		if err != nil && backend.KindOf(err) != backend.NotFound {
			undo()
			return exoBackendError(er.cmdlet, err)
		}
		if err == nil {
			removed = append(removed, addr)
		}
	}
	for _, addr := range addAddrs {
		if err := x.AddAlias(ctx, r.ID, addr); err != nil {
			undo()
			return exoBackendError(er.cmdlet, err)
		}
		added = append(added, addr)
	}
	return nil
}

func exoSecondary(v string) (string, *exoError) {
	typ, addr, ok := strings.Cut(v, ":")
	switch {
	case !ok:
		return v, nil
	case typ == "smtp":
		return addr, nil
	case typ == "SMTP":
		return "", &exoError{status: http.StatusBadRequest, code: "BadRequest", exception: exoExceptionTask,
			text: "The emulator does not change primary addresses (SMTP:)."}
	}
	return "", &exoError{status: http.StatusBadRequest, code: "BadRequest", exception: exoExceptionTask,
		text: fmt.Sprintf("The emulator handles SMTP addresses only, not %q.", typ)}
}

// exoGetGroups serves Get-DistributionGroup: one group by -Identity, or
// all of them (ResultSize) page by page.
func (s *Server) exoGetGroups(ctx context.Context, er *exoRequest) ([]map[string]any, string, *exoError) {
	p := er.parameters("Identity", "ResultSize")
	id := p.str("Identity")
	if p.err != nil {
		return nil, "", p.err
	}
	x := s.opts.Exchange
	if id != "" {
		g, err := x.GetGroup(ctx, id)
		if err != nil {
			return nil, "", exoBackendError(er.cmdlet, err)
		}
		return []map[string]any{exoGroupObject(g)}, "", nil
	}
	var all []map[string]any
	for g, err := range x.ListGroups(ctx) {
		if err != nil {
			return nil, "", exoBackendError(er.cmdlet, err)
		}
		all = append(all, exoGroupObject(g))
	}
	return er.page(all)
}

// exoNewGroup serves New-DistributionGroup [client: CIPP's parameters;
// doc: RequireSenderAuthenticationEnabled defaults to true, Type to
// Distribution].
func (s *Server) exoNewGroup(ctx context.Context, er *exoRequest) ([]map[string]any, string, *exoError) {
	p := er.parameters("Name", "DisplayName", "Alias", "PrimarySmtpAddress", "Description", "Type", "RequireSenderAuthenticationEnabled", "ManagedBy", "Members")
	ng := backend.NewDistributionGroup{
		Name: p.require("Name"), DisplayName: p.str("DisplayName"), Alias: p.str("Alias"),
		PrimaryAddress: p.str("PrimarySmtpAddress"), Description: p.str("Description"),
	}
	requireAuth, set := p.boolean("RequireSenderAuthenticationEnabled")
	ng.ExternalSendersAllowed = set && !requireAuth
	if typ := p.str("Type"); typ != "" && !strings.EqualFold(typ, "Distribution") && p.err == nil {
		return nil, "", &exoError{status: http.StatusBadRequest, code: "BadRequest", exception: exoExceptionBinding,
			text: "The emulator creates distribution groups only (Type Distribution)."}
	}
	if p.has("ManagedBy") || p.has("Members") {
		return nil, "", &exoError{status: http.StatusBadRequest, code: "BadRequest", exception: exoExceptionBinding,
			text: "The emulator does not take ManagedBy or Members on New-DistributionGroup: add members with Add-DistributionGroupMember."}
	}
	if p.err != nil {
		return nil, "", p.err
	}
	if ng.Alias == "" {
		ng.Alias = ng.Name // Exchange derives the alias from the name [doc]
	}
	g, err := s.opts.Exchange.CreateGroup(ctx, ng)
	if err != nil {
		return nil, "", exoBackendError(er.cmdlet, err)
	}
	return []map[string]any{exoGroupObject(g)}, "", nil
}

// exoSetGroup serves Set-DistributionGroup: DisplayName, Description,
// RequireSenderAuthenticationEnabled and EmailAddresses [client: CIPP].
func (s *Server) exoSetGroup(ctx context.Context, er *exoRequest) *exoError {
	p := er.parameters("Identity", "BypassSecurityGroupManagerCheck", "DisplayName", "Description", "RequireSenderAuthenticationEnabled", "EmailAddresses")
	id := p.require("Identity")
	var upd backend.DistributionGroupUpdate
	if p.has("DisplayName") {
		v := p.str("DisplayName")
		upd.DisplayName = &v
	}
	if p.has("Description") {
		v := p.str("Description")
		upd.Description = &v
	}
	if b, ok := p.boolean("RequireSenderAuthenticationEnabled"); ok {
		allowed := !b
		upd.ExternalSendersAllowed = &allowed
	}
	if p.err != nil {
		return p.err
	}
	if upd != (backend.DistributionGroupUpdate{}) {
		if err := s.opts.Exchange.UpdateGroup(ctx, id, upd); err != nil {
			return exoBackendError(er.cmdlet, err)
		}
	}
	if p.has("EmailAddresses") {
		return s.exoSetAddresses(ctx, er, true)
	}
	return nil
}
