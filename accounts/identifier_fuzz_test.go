package accounts_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/essentials365/sdk/essentials365/backend"
)

// FuzzUserIdentifier names a user in any way (sAMAccountName, UPN, GUID
// with or without braces, online ID, DOMAIN\name, with NULs, spaces, case
// changes, bidi or zero-width characters): Status resolves it to the one
// user the identifier names, or fails with NotFound or InvalidArgument
// with a reason; a variant never resolves to a different user ("ann\x00x"
// is not ann).
func FuzzUserIdentifier(f *testing.F) {
	for _, s := range []string{"ann", "ANN", " ann ", "ann\x00x", "ann\x00", "CONTOSO\\ann", "ann@contoso.local",
		"ann@contoso.com", "ann@", "@", "{", "bob", "b\u200bob", "\u202eann", "ann.", "ann\t", "", "\xff",
		"00000000-0000-0000-0000-000000000000", "{00000000-0000-0000-0000-000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		e := newEnv(t, 2)
		ann := e.addUser("ann", "Ann Lee")
		e.addUser("bob", "Bob Ray")
		for _, v := range []string{id, ann.ID.String(), "{" + ann.ID.String() + "}"} {
			st, err := e.svc.Status(e.ctx, v)
			if err != nil {
				var be *backend.Error
				if !errors.As(err, &be) {
					t.Fatalf("%q: %T %v", v, err, err)
				}
				switch backend.KindOf(err) {
				case backend.NotFound:
				case backend.InvalidArgument:
					if backend.ReasonOf(err) == "" {
						t.Fatalf("%q: invalid argument without a reason: %v", v, err)
					}
				default:
					t.Fatalf("%q: %v", v, err)
				}
				if v != id {
					t.Fatalf("ann's GUID form %q: %v", v, err)
				}
				continue
			}
			names := []string{st.SAMAccountName, st.SAMAccountName + "@contoso.local", st.UserID.String(), "{" + st.UserID.String() + "}"}
			ok := false
			for _, n := range names {
				if strings.EqualFold(strings.TrimSpace(v), n) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("%q resolved to %s (%s)", v, st.SAMAccountName, st.UserID)
			}
		}
	})
}
