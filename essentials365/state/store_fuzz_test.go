package state_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/state"
)

// FuzzFileStore stores any key and value, then replaces the entry's file
// with arbitrary bytes: a key with path separators, NULs or dots stays in
// the store's directory and reads back; a key too long is refused with
// InvalidArgument; a replaced file reads back only if it is exactly a
// valid entry for that key, and otherwise is ReasonStoreCorrupt, never
// NotFound, never another value, and other keys are untouched.
func FuzzFileStore(f *testing.F) {
	f.Add("watermark/directory", []byte("w-1"), []byte("e365-state-1\n"))
	f.Add("../../etc/passwd", []byte("x"), []byte{})
	f.Add("a\x00b", []byte{}, []byte("e365-state-1\n0000000000000000000000000000000000000000000000000000000000000000\nvalue"))
	f.Add("", []byte("empty key"), []byte("garbage"))
	f.Add(strings.Repeat("k", 126), []byte("v"), []byte(nil))
	f.Add(strings.Repeat("k", 127), []byte("v"), []byte(nil))
	f.Add("pending/ü\\..", bytes.Repeat([]byte{0xff}, 100), []byte("e365-state-1"))
	dir := f.TempDir()
	s, err := state.NewFileStore(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	ctx := f.Context()
	const other = "other/key"
	if err := s.Put(ctx, other, []byte("other value")); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key string, value, replaced []byte) {
		if key == other {
			return
		}
		err := s.Put(ctx, key, value)
		if len(key) > state.MaxKeyLen {
			var be *backend.Error
			if !errors.As(err, &be) || !errors.Is(err, backend.ErrInvalidArgument) || be.Reason != state.ReasonStoreKey {
				t.Fatalf("a %d-byte key: %v", len(key), err)
			}
			if _, err := s.Get(ctx, key); backend.ReasonOf(err) != state.ReasonStoreKey {
				t.Fatalf("get of a %d-byte key: %v", len(key), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("put %q: %v", key, err)
		}
		defer func() { _ = s.Delete(ctx, key) }()
		got, err := s.Get(ctx, key)
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("get %q: %q, %v; want %q", key, got, err, value)
		}
		keys, err := s.List(ctx, key)
		if err != nil || !slices.Contains(keys, key) {
			t.Fatalf("list %q: %q, %v", key, keys, err)
		}
		// The entry is one file in the directory, whatever the key.
		file := filepath.Join(dir, hex.EncodeToString([]byte(key))+".v")
		if _, err := os.Stat(file); err != nil {
			t.Fatalf("the entry of %q is not in the store's directory: %v", key, err)
		}
		if err := os.WriteFile(file, replaced, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err = s.Get(ctx, key)
		if err != nil {
			var be *backend.Error
			if !errors.As(err, &be) || be.Kind != backend.FailedPrecondition || be.Reason != state.ReasonStoreCorrupt {
				t.Fatalf("a replaced entry of %q: %v", key, err)
			}
		} else {
			// Accepted: the file must be exactly what Put writes for it.
			if err := s.Put(ctx, key, got); err != nil {
				t.Fatal(err)
			}
			if written, _ := os.ReadFile(file); !bytes.Equal(written, replaced) {
				t.Fatalf("%q read from a file that is not a valid entry: %q", got, replaced)
			}
		}
		if v, err := s.Get(ctx, other); err != nil || string(v) != "other value" {
			t.Fatalf("another key changed: %q, %v", v, err)
		}
	})
}

// FuzzAESSealer seals any value under any additional data: it opens back
// to the same value with the same data, and a sealed value with one byte
// changed, cut short, or opened with other data is refused with
// ReasonSealedValue (never opened as something else, never a panic).
func FuzzAESSealer(f *testing.F) {
	f.Add([]byte("Pa55w.rd-Contoso!"), []byte("pending/ann"), []byte("pending/bob"), uint16(0), uint16(0))
	f.Add([]byte{}, []byte{}, []byte{0}, uint16(5), uint16(40))
	f.Add(bytes.Repeat([]byte{0xff}, 300), []byte(nil), []byte("x"), uint16(1000), uint16(3))
	s, err := state.NewAESSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	refused := func(t *testing.T, what string, err error) {
		t.Helper()
		var be *backend.Error
		if !errors.As(err, &be) || be.Kind != backend.FailedPrecondition || be.Reason != state.ReasonSealedValue {
			t.Fatalf("%s: %v", what, err)
		}
	}
	f.Fuzz(func(t *testing.T, plain, ad, otherAD []byte, flip, cut uint16) {
		sealed, err := s.SealWith(plain, ad)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.OpenWith(sealed, ad)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("round trip: %q, %v", got, err)
		}
		if !bytes.Equal(ad, otherAD) {
			_, err := s.OpenWith(sealed, otherAD)
			refused(t, "other additional data", err)
		}
		bad := bytes.Clone(sealed)
		bad[int(flip)%len(bad)] ^= 0x01
		_, err = s.OpenWith(bad, ad)
		refused(t, "one byte changed", err)
		_, err = s.OpenWith(sealed[:int(cut)%len(sealed)], ad)
		refused(t, "cut short", err)
	})
}
