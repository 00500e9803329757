package accounts

import (
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// duplicateIndex finds the online accounts a user probably has already
// under another online ID. Only accounts that no user of this directory
// has (no anchor, no mapping) are candidates. The matching rules, all
// case-insensitive, are documented in the package documentation:
//
//  1. an address of the user (mail, UPN) is the account's UPN or mail;
//  2. the account's mailNickname, or the name before the @ of its UPN or
//     mail, is the user's sAMAccountName;
//  3. the account's display name is the user's display name, or the
//     user's "given surname" (either order);
//  4. the name before the @ of the account's UPN or mail is the user's
//     given name and surname joined by ".", "_", "-" or nothing.
type duplicateIndex struct {
	byAddress map[string][]backend.OnlineUser
	byLocal   map[string][]backend.OnlineUser
	byDisplay map[string][]backend.OnlineUser
}

func newDuplicateIndex(idx tenantIndex, mapped map[string]bool) duplicateIndex {
	d := duplicateIndex{byAddress: map[string][]backend.OnlineUser{}, byLocal: map[string][]backend.OnlineUser{}, byDisplay: map[string][]backend.OnlineUser{}}
	for _, ou := range idx.byID {
		if ou.ImmutableID != "" || mapped[ou.ID] {
			continue
		}
		for _, addr := range []string{ou.UserPrincipalName, ou.Mail} {
			if addr == "" {
				continue
			}
			addr = strings.ToLower(addr)
			d.byAddress[addr] = append(d.byAddress[addr], ou)
			local, _, _ := strings.Cut(addr, "@")
			d.byLocal[local] = append(d.byLocal[local], ou)
		}
		if ou.MailNickname != "" {
			n := strings.ToLower(ou.MailNickname)
			d.byLocal[n] = append(d.byLocal[n], ou)
		}
		if n := normalName(ou.DisplayName); n != "" {
			d.byDisplay[n] = append(d.byDisplay[n], ou)
		}
	}
	return d
}

// normalName folds case and spacing of a person's name.
func normalName(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// candidates returns the online IDs of the accounts u probably has.
func (d duplicateIndex) candidates(u backend.DirectoryUser) []string {
	var out []string
	add := func(list []backend.OnlineUser) {
		for _, ou := range list {
			if !slices.Contains(out, ou.UserPrincipalName) {
				out = append(out, ou.UserPrincipalName)
			}
		}
	}
	for _, a := range []string{u.Mail, u.UserPrincipalName} {
		if a != "" {
			add(d.byAddress[strings.ToLower(a)])
		}
	}
	add(d.byLocal[strings.ToLower(u.SAMAccountName)])
	if n := normalName(u.DisplayName); n != "" {
		add(d.byDisplay[n])
	}
	if u.GivenName != "" && u.Surname != "" {
		add(d.byDisplay[normalName(u.GivenName+" "+u.Surname)])
		add(d.byDisplay[normalName(u.Surname+" "+u.GivenName)])
		g, sn := strings.ToLower(u.GivenName), strings.ToLower(u.Surname)
		for _, sep := range []string{".", "_", "-", ""} {
			add(d.byLocal[g+sep+sn])
		}
	}
	slices.Sort(out)
	return out
}
