package state_test

import (
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
	s2, err := state.NewFileStore(dir)
	require.NoError(t, err)
	v, err := s2.Get(t.Context(), "k")
	require.NoError(t, err)
	assert.Equal(t, "v", string(v))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")
	fi, err := entries[0].Info()
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	_, err = state.NewFileStore("")
	require.ErrorIs(t, err, backend.ErrInvalidArgument)
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
