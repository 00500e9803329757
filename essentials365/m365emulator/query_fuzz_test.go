package m365emulator

import (
	"strings"
	"testing"
)

// FuzzFilterRoundTrip quotes any value as an OData string literal in each
// form the emulator serves and checks that parseFilter gives the value
// back unchanged (a quote, a comma or a parenthesis inside never cuts the
// clause), and that arbitrary $filter text parses or fails with a
// filterError, never anything else.
func FuzzFilterRoundTrip(f *testing.F) {
	for _, s := range []string{"ann@contoso.com", "O'Brien", "a,b", "x) or (y", "''", "'", " spaced ", "é\x00\xff", "eq 'x'"} {
		f.Add(s, "userPrincipalName eq "+s)
	}
	f.Add("", "startswith(displayName,'a''b')")
	f.Add("", "startswith(mail,'a') and startswith(mail,'b')")
	f.Add("", "displayName eq 'a' or displayName eq 'b'")
	f.Fuzz(func(t *testing.T, v, raw string) {
		lit := "'" + strings.ReplaceAll(v, "'", "''") + "'"
		for _, clause := range []struct{ text, op, prop string }{
			{"userPrincipalName eq " + lit, "eq", "userPrincipalName"},
			{"DisplayName  eq " + lit, "eq", "displayName"},
			{"startswith(displayName," + lit + ")", "startswith", "displayName"},
			{"startswith( mail , " + lit + " )", "startswith", "mail"},
		} {
			got, err := parseFilter(clause.text)
			if err != nil {
				t.Fatalf("%q: %v", clause.text, err)
			}
			if got.op != clause.op || got.prop != clause.prop || got.value != v {
				t.Fatalf("%q parsed as %+v, want %s %s %q", clause.text, got, clause.op, clause.prop, v)
			}
		}
		if _, err := parseFilter(raw); err != nil {
			if _, ok := err.(*filterError); !ok {
				t.Fatalf("%q: %T %v", raw, err, err)
			}
		}
	})
}
