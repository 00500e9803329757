package backendtest

import (
	"crypto/rand"
	"errors"
	"iter"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// uniqueAlphabet is what UniqueName's suffix is made of: lower-case letters
// and digits, valid in sAMAccountNames, UPNs, mail nicknames and DNS labels.
const uniqueAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// UniqueNameSuffixLen is the number of random characters [UniqueName] adds.
const UniqueNameSuffixLen = 8

// UniqueName returns prefix followed by 8 random lower-case letters and
// digits, for objects a test creates on a shared service. With a prefix of
// at most 12 characters the result fits a sAMAccountName (20 characters).
// It is safe for concurrent use.
func UniqueName(prefix string) string {
	var raw [UniqueNameSuffixLen]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails on supported platforms
	b := []byte(prefix)
	for _, c := range raw {
		b = append(b, uniqueAlphabet[int(c)%len(uniqueAlphabet)])
	}
	return string(b)
}

// dirRequireKind fails the test unless err has the given kind and, when
// reason is not "", names that rule.
func dirRequireKind(t testing.TB, err error, kind backend.Kind, reason backend.Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want kind %v", kind)
	}
	if got := backend.KindOf(err); got != kind {
		t.Fatalf("got error %v of kind %v, want kind %v", err, got, kind)
	}
	if !errors.Is(err, kind.Sentinel()) {
		t.Fatalf("errors.Is(%v, sentinel of %v) = false", err, kind)
	}
	if reason != "" {
		if got := backend.ReasonOf(err); got != reason {
			t.Fatalf("got error %v with rule %q, want rule %q", err, got, reason)
		}
	}
}

// assertStopsEarly consumes seq, requiring no error, and breaks out after
// n items; it asserts that the loop ran exactly n times, so that a listing
// honours a consumer that stops early (msgAndArgs as testify's).
func assertStopsEarly[T any](t testing.TB, seq iter.Seq2[T, error], n int, msgAndArgs ...any) {
	t.Helper()
	got := 0
	for _, err := range seq {
		require.NoError(t, err)
		got++
		if got == n {
			break
		}
	}
	assert.Equal(t, n, got, msgAndArgs...)
}
