package state_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/state"
)

func TestStores(t *testing.T) {
	fileStore, err := state.NewFileStore(filepath.Join(t.TempDir(), "state"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = fileStore.Close() })
	stores := map[string]state.Store{"memory": state.NewMemoryStore(), "file": fileStore}
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			_, err := s.Get(ctx, "watermark/directory")
			require.ErrorIs(t, err, backend.ErrNotFound)
			require.NoError(t, s.Put(ctx, "watermark/directory", []byte("w1")))
			require.NoError(t, s.Put(ctx, "sync/a", []byte("t1")))
			require.NoError(t, s.Put(ctx, "sync/b../../etc", []byte("t2")), "any key maps to a safe file name")
			require.NoError(t, s.Put(ctx, "watermark/directory", []byte("w2")))
			v, err := s.Get(ctx, "watermark/directory")
			require.NoError(t, err)
			assert.Equal(t, "w2", string(v))
			keys, err := s.List(ctx, "sync/")
			require.NoError(t, err)
			assert.Equal(t, []string{"sync/a", "sync/b../../etc"}, keys)
			require.NoError(t, s.Delete(ctx, "sync/a"))
			require.NoError(t, s.Delete(ctx, "sync/a"), "deleting a missing key is fine")
			keys, err = s.List(ctx, "")
			require.NoError(t, err)
			assert.Equal(t, []string{"sync/b../../etc", "watermark/directory"}, keys)
		})
	}
}

func TestFileStoreIsDurableAndPrivate(t *testing.T) {
	dir := t.TempDir()
	s1, err := state.NewFileStore(dir)
	require.NoError(t, err)
	require.NoError(t, s1.Put(t.Context(), "k", []byte("v")))
	require.NoError(t, s1.Close())
	s2, err := state.NewFileStore(dir)
	require.NoError(t, err)
	defer s2.Close()
	v, err := s2.Get(t.Context(), "k")
	require.NoError(t, err)
	assert.Equal(t, "v", string(v))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		fi, err := e.Info()
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), e.Name())
	}
	require.Len(t, names, 2, "the lock and the value, no temporary file left behind: %v", names)
	_, err = state.NewFileStore("")
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
}

func TestMemoryStoreZeroValue(t *testing.T) {
	var s state.MemoryStore
	require.NoError(t, s.Put(t.Context(), "k", []byte("v")))
	v, err := s.Get(t.Context(), "k")
	require.NoError(t, err)
	assert.Equal(t, "v", string(v))
}

// Scenario: two processes shared a state directory without noticing.
func TestFileStoreIsExclusive(t *testing.T) {
	dir := t.TempDir()
	s1, err := state.NewFileStore(dir)
	require.NoError(t, err)
	_, err = state.NewFileStore(dir)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, state.ReasonStoreLocked, backend.ReasonOf(err))
	assert.Contains(t, err.Error(), "another process uses this state directory")
	require.NoError(t, s1.Close())
	s2, err := state.NewFileStore(dir)
	require.NoError(t, err, "closing releases the lock")
	require.NoError(t, s2.Close())
}

func TestFileStoreRefusesADirectoryOthersCanWrite(t *testing.T) {
	for _, mode := range []os.FileMode{0o770, 0o777, 0o702} {
		dir := filepath.Join(t.TempDir(), "state")
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Chmod(dir, mode))
		_, err := state.NewFileStore(dir)
		require.ErrorIs(t, err, backend.ErrFailedPrecondition, "%#o", mode)
		assert.Equal(t, state.ReasonStorePermissions, backend.ReasonOf(err))
		assert.Contains(t, err.Error(), "chmod 700")
	}
	dir := filepath.Join(t.TempDir(), "readable")
	require.NoError(t, os.Mkdir(dir, 0o755))
	s, err := state.NewFileStore(dir)
	require.NoError(t, err, "readable by others is allowed: values are sealed or not secret")
	require.NoError(t, s.Close())
}

// Scenario: a watermark file truncated to 0 bytes read as a missing key.
func TestFileStoreCorruptEntriesAreErrors(t *testing.T) {
	dir := t.TempDir()
	s, err := state.NewFileStore(dir)
	require.NoError(t, err)
	defer s.Close()
	ctx := t.Context()
	require.NoError(t, s.Put(ctx, "a", []byte("value-a")))
	require.NoError(t, s.Put(ctx, "b", []byte("value-b")))
	file := func(key string) string { return filepath.Join(dir, hex.EncodeToString([]byte(key))+".v") }
	good, err := os.ReadFile(file("a"))
	require.NoError(t, err)
	damage := map[string]func(){
		"truncated to 0 bytes": func() { require.NoError(t, os.WriteFile(file("a"), nil, 0o600)) },
		"cut short":            func() { require.NoError(t, os.WriteFile(file("a"), good[:len(good)-3], 0o600)) },
		"altered": func() {
			b := bytes.Clone(good)
			b[len(b)-1] ^= 1
			require.NoError(t, os.WriteFile(file("a"), b, 0o600))
		},
		"copied from another key": func() {
			b, err := os.ReadFile(file("b"))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(file("a"), b, 0o600))
		},
		"written in clear": func() { require.NoError(t, os.WriteFile(file("a"), []byte("value-a"), 0o600)) },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			f()
			_, err := s.Get(ctx, "a")
			require.ErrorIs(t, err, backend.ErrFailedPrecondition)
			assert.Equal(t, state.ReasonStoreCorrupt, backend.ReasonOf(err))
			require.NoError(t, os.WriteFile(file("a"), good, 0o600))
			v, err := s.Get(ctx, "a")
			require.NoError(t, err)
			assert.Equal(t, "value-a", string(v))
		})
	}
}

func TestAESSealerBindsAdditionalData(t *testing.T) {
	s, err := state.NewAESSealer([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	sealed, err := s.SealWith([]byte("Secret-1"), []byte("user-a|v1"))
	require.NoError(t, err)
	out, err := s.OpenWith(sealed, []byte("user-a|v1"))
	require.NoError(t, err)
	assert.Equal(t, "Secret-1", string(out))
	for _, other := range []string{"user-b|v1", "user-a|v2", ""} {
		_, err := s.OpenWith(sealed, []byte(other))
		require.ErrorIs(t, err, backend.ErrFailedPrecondition, other)
		assert.Equal(t, state.ReasonSealedValue, backend.ReasonOf(err))
	}
	_, err = s.OpenWith(sealed[:10], []byte("user-a|v1"))
	require.ErrorIs(t, err, backend.ErrFailedPrecondition, "truncated")
}

func TestAESSealer(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	s, err := state.NewAESSealer(key)
	require.NoError(t, err)
	sealed, err := s.Seal([]byte("Secret-1"))
	require.NoError(t, err)
	assert.NotContains(t, string(sealed), "Secret-1")
	again, err := s.Seal([]byte("Secret-1"))
	require.NoError(t, err)
	assert.NotEqual(t, sealed, again, "a fresh nonce each time")
	out, err := s.Open(sealed)
	require.NoError(t, err)
	assert.Equal(t, "Secret-1", string(out))

	other, err := state.NewAESSealer([]byte(strings.Repeat("x", 32)))
	require.NoError(t, err)
	_, err = other.Open(sealed)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition, "another key cannot open it")
	sealed[len(sealed)-1] ^= 1
	_, err = s.Open(sealed)
	require.Error(t, err, "tampering is detected")
	_, err = state.NewAESSealer([]byte("short"))
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
}
