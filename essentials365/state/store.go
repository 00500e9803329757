package state

import (
	"context"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/internal/atomicfile"
)

// Store keeps the service's local state: the change watermarks, the time of
// each user's last password sync, and the pending password updates (sealed,
// never in clear). Keys are short ASCII paths such as "watermark/directory".
//
// Implementations must be safe for concurrent use.
type Store interface {
	// Get returns the value of key, or an error of kind NotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put sets key to value, atomically.
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys that start with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
}

// MemoryStore is a Store held in memory. It is safe for concurrent use.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: map[string][]byte{}} }

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := backend.CtxErr(ctx, "store: get"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, backend.Errorf(backend.NotFound, "store: get", key, "no such key")
	}
	return slices.Clone(v), nil
}

// Put implements Store.
func (s *MemoryStore) Put(ctx context.Context, key string, value []byte) error {
	if err := backend.CtxErr(ctx, "store: put"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = slices.Clone(value)
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := backend.CtxErr(ctx, "store: delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// List implements Store.
func (s *MemoryStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := backend.CtxErr(ctx, "store: list"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// FileStore is a Store that keeps one file per key in a directory. Every
// write goes to a temporary file that is synced and then renamed over the
// old one, so a crash leaves either the old value or the new one. It is safe
// for concurrent use within one process; two processes must not share a
// directory.
type FileStore struct {
	dir string
	mu  sync.Mutex
}

// NewFileStore returns a FileStore in dir, creating it (mode 0700) if needed.
func NewFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, backend.Invalid("store: open", dir, "store-dir", "a directory is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, backend.Wrap(err, backend.FailedPrecondition, "store: open", dir)
	}
	return &FileStore{dir: dir}, nil
}

// File names are the hex of the key, so any key maps to one safe name.
func (s *FileStore) path(key string) string {
	return filepath.Join(s.dir, hex.EncodeToString([]byte(key))+".v")
}

// Get implements Store.
func (s *FileStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := backend.CtxErr(ctx, "store: get"); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, backend.Errorf(backend.NotFound, "store: get", key, "no such key")
	}
	if err != nil {
		return nil, backend.Wrap(err, backend.Unavailable, "store: get", key)
	}
	return b, nil
}

// Put implements Store.
func (s *FileStore) Put(ctx context.Context, key string, value []byte) error {
	if err := backend.CtxErr(ctx, "store: put"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := atomicfile.Write(s.path(key), value, 0o600); err != nil {
		return backend.Wrap(err, backend.Unavailable, "store: put", key)
	}
	return nil
}

// Delete implements Store.
func (s *FileStore) Delete(ctx context.Context, key string) error {
	if err := backend.CtxErr(ctx, "store: delete"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := os.Remove(s.path(key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return backend.Wrap(err, backend.Unavailable, "store: delete", key)
	}
	return nil
}

// List implements Store.
func (s *FileStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := backend.CtxErr(ctx, "store: list"); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, backend.Wrap(err, backend.Unavailable, "store: list", prefix)
	}
	var keys []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".v")
		if !ok {
			continue
		}
		k, err := hex.DecodeString(name)
		if err != nil {
			continue
		}
		if strings.HasPrefix(string(k), prefix) {
			keys = append(keys, string(k))
		}
	}
	slices.Sort(keys)
	return keys, nil
}
