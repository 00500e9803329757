package accounts_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
)

// FuzzParseMapping checks the mapping attribute's codec: any mapping the
// SDK writes reads back the same, and any other value either reads as a
// mapping that writes back to an equivalent value or is refused with
// InvalidArgument and ReasonMappingFormat (a value another tool wrote is
// never taken as ours).
func FuzzParseMapping(f *testing.F) {
	for _, s := range []string{"", "someone else's notes", "e365:1;id=1f0c;state=assigned;upn=ann%40contoso.com",
		"e365:1;id=x;id=y;state=assigned;upn=a", "e365:1;id=x;upn=a;state=assigned;note=mine", "e365:1;state=assigned",
		"e365:1;id=;upn=;state=assigned", "e365:1;state=creating;upn=bob%40contoso.com", "e365:1;id=%zz", "e365:1;id=a%0Ab;upn=x;state=assigned",
		"e365:1;id=a;upn=%ff;state=assigned", "E365:1;id=a;upn=b;state=assigned", "e365:2;id=a;upn=b;state=assigned"} {
		f.Add(s, "id", "upn@contoso.com", "assigned")
	}
	f.Add("", "2a9d", "o'brien;x=y@contoso.com", "unassigned")
	f.Add("", "", "new@contoso.com", "creating")
	f.Fuzz(func(t *testing.T, raw, id, upn, state string) {
		m, err := accounts.ParseMapping(raw)
		if err != nil {
			var be *backend.Error
			if !errors.As(err, &be) || !errors.Is(err, backend.ErrInvalidArgument) || backend.ReasonOf(err) != accounts.ReasonMappingFormat {
				t.Fatalf("%q: %v, want InvalidArgument with %s", raw, err, accounts.ReasonMappingFormat)
			}
		} else if raw != "" {
			if !strings.HasPrefix(raw, "e365:1;") {
				t.Fatalf("%q taken as a mapping", raw)
			}
			again, err := accounts.ParseMapping(m.String())
			if err != nil || again != m {
				t.Fatalf("%q read as %+v, which writes %q and reads back as %+v (%v)", raw, m, m.String(), again, err)
			}
		}
		// What the SDK writes, it reads back.
		w := accounts.Mapping{ID: id, UPN: upn, State: accounts.MappingState(state)}
		if w.String() == "" {
			return
		}
		got, err := accounts.ParseMapping(w.String())
		if err == nil && got != w {
			t.Fatalf("%+v wrote %q, read back as %+v", w, w.String(), got)
		}
		valid := (w.State == accounts.MappingAssigned || w.State == accounts.MappingUnassigned) && id != "" ||
			w.State == accounts.MappingCreating
		if err != nil && valid && upn != "" && printable(id) && printable(upn) {
			t.Fatalf("%+v wrote %q, which does not read back: %v", w, w.String(), err)
		}
	})
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0xfffd {
			return false
		}
	}
	return true
}
