// Package bindtest starts a throwaway BIND 9 server for a test (see
// internal/bindserver). It skips the test when named is not installed, and
// fails it instead when E365_REQUIRE_INTEGRATION=1, as CI sets.
package bindtest

import (
	"os"
	"testing"

	"github.com/essentials365/sdk/internal/bindserver"
)

// SkipMessage is the message a test skips with when BIND is absent.
const SkipMessage = "BIND 9 not installed (" + bindserver.DefaultNamed + "); install the Debian package bind9"

// Start starts named for t with the given zones, in t's temp directory, and
// stops it when t ends.
func Start(t testing.TB, zones ...string) *bindserver.Server {
	t.Helper()
	if !bindserver.Available("") {
		if os.Getenv("E365_REQUIRE_INTEGRATION") == "1" {
			t.Fatal(SkipMessage + "; E365_REQUIRE_INTEGRATION=1 requires it")
		}
		t.Skip(SkipMessage)
	}
	s, err := bindserver.Start(t.Context(), bindserver.Options{Dir: t.TempDir()}, zones...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}
