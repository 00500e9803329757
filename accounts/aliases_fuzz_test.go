package accounts_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/essentials365/sdk/essentials365/backend"
)

// FuzzAliases adds and removes arbitrary addresses on a mailbox: an added
// alias is a valid address of a verified domain, listed in lower case; a
// removal takes away only the address named, never the primary address,
// and touches no other mailbox; every refusal is a *backend.Error, with a
// reason when it is InvalidArgument.
func FuzzAliases(f *testing.F) {
	for _, s := range []string{"sales@contoso.com", " Sales@Contoso.COM ", "user001@contoso.com", "user002@contoso.com",
		"smtp:x@contoso.com", "SMTP:user001@contoso.com", "a@b@contoso.com", "x@contoso.com,y@contoso.com", "x\x00@contoso.com",
		"x@contoso.com\x00", "\u202ex@contoso.com", ".x@contoso.com", "x..y@contoso.com", strings.Repeat("a", 65) + "@contoso.com",
		"x@CONTOSO.com.", "x@contoso.onmicrosoft.com", "", "@"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, addr string, remove bool) {
		e := newEnv(t, 10)
		e.addUsers(2)
		e.bulkCreate(e3)
		if err := e.svc.AddAlias(e.ctx, "user002", "keep@contoso.com"); err != nil {
			t.Fatal(err)
		}
		check := func(err error) {
			if err == nil {
				return
			}
			var be *backend.Error
			if !errors.As(err, &be) {
				t.Fatalf("%q: %T %v", addr, err, err)
			}
			if backend.KindOf(err) == backend.InvalidArgument && backend.ReasonOf(err) == "" {
				t.Fatalf("%q: invalid argument without a reason: %v", addr, err)
			}
		}
		norm := strings.ToLower(strings.TrimSpace(addr))
		if remove {
			check(e.svc.AddAlias(e.ctx, "user001", addr))
			before, _ := e.svc.Aliases(e.ctx, "user001")
			rerr := e.svc.RemoveAlias(e.ctx, "user001", addr)
			check(rerr)
			if norm == "user001@contoso.com" && !errors.Is(rerr, backend.ErrInvalidArgument) {
				t.Fatalf("removing the primary address %q: %v", addr, rerr)
			}
			after, err := e.svc.Aliases(e.ctx, "user001")
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range before {
				if a != norm && !slices.Contains(after, a) {
					t.Fatalf("removing %q also removed %q", addr, a)
				}
			}
		} else {
			err := e.svc.AddAlias(e.ctx, "user001", addr)
			check(err)
			got, lerr := e.svc.Aliases(e.ctx, "user001")
			if lerr != nil {
				t.Fatal(lerr)
			}
			if err == nil && !slices.Contains(got, norm) {
				t.Fatalf("added %q, aliases %q", addr, got)
			}
			for _, a := range got {
				local, domain, ok := strings.Cut(a, "@")
				if !ok || domain != "contoso.com" && domain != "contoso.onmicrosoft.com" || local == "" || strings.ContainsAny(local, " ,:\x00@") {
					t.Fatalf("adding %q left the alias %q", addr, a)
				}
			}
		}
		// The primary addresses and the other mailbox are untouched.
		for _, upn := range []string{"user001@contoso.com", "user002@contoso.com"} {
			if got := e.online(upn); got.UserPrincipalName != upn {
				t.Fatalf("%s changed: %+v", upn, got)
			}
		}
		if got, _ := e.svc.Aliases(e.ctx, "user002"); !slices.Equal(got, []string{"keep@contoso.com"}) {
			t.Fatalf("another mailbox changed: %q", got)
		}
	})
}
