package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
// never in clear). Keys are short ASCII paths such as "watermark/directory"
// (a FileStore takes keys of at most MaxKeyLen bytes).
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

// MemoryStore is a Store held in memory. Its zero value is an empty store.
// It is safe for concurrent use.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: map[string][]byte{}} }

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := backend.CtxErr(ctx, "state: get entry"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, backend.Errorf(backend.NotFound, "state: get entry", key, "no such key")
	}
	return slices.Clone(v), nil
}

// Put implements Store.
func (s *MemoryStore) Put(ctx context.Context, key string, value []byte) error {
	if err := backend.CtxErr(ctx, "state: put entry"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = slices.Clone(value)
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := backend.CtxErr(ctx, "state: delete entry"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// List implements Store.
func (s *MemoryStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := backend.CtxErr(ctx, "state: list entries"); err != nil {
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

// Reasons of the FileStore's refusals; each names its kind.
const (
	// ReasonStoreDir (InvalidArgument): no directory was given.
	ReasonStoreDir backend.Reason = "store-dir"
	// ReasonStorePermissions (FailedPrecondition): the state directory
	// is not a directory, or others can write to it (group- or
	// world-writable): chmod 700 it.
	ReasonStorePermissions backend.Reason = "store-permissions"
	// ReasonStoreLocked (FailedPrecondition): another process (or another
	// FileStore of this process) holds the state directory.
	ReasonStoreLocked backend.Reason = "store-locked"
	// ReasonStoreCorrupt (FailedPrecondition): an entry is empty,
	// truncated, altered, or was moved from another key; it is never
	// read as a missing or empty value.
	ReasonStoreCorrupt backend.Reason = "store-corrupt"
	// ReasonStateCorrupt (FailedPrecondition): an entry reads back intact
	// but its owner cannot decode it (an empty watermark, a record of
	// another version); it is never taken for a first run.
	ReasonStateCorrupt backend.Reason = "state-corrupt"
	// ReasonStoreKey (InvalidArgument): a key longer than MaxKeyLen
	// bytes (its file name would pass the file system's limit).
	ReasonStoreKey backend.Reason = "store-key"
)

// MaxKeyLen is the longest key a FileStore takes: a file is named by the
// hex of its key, and file names stop at 255 bytes.
const MaxKeyLen = 126

// checkKey refuses a key the FileStore cannot name a file after, with an
// error the caller can act on rather than a retryable I/O failure.
func checkKey(op, key string) error {
	if len(key) > MaxKeyLen {
		return backend.Invalid(op, key[:MaxKeyLen]+"...", ReasonStoreKey, "a state key has at most %d bytes, not %d", MaxKeyLen, len(key))
	}
	return nil
}

// FileStore is a Store that keeps one file per key in a directory. Its
// guarantees:
//
//   - Exclusive: NewFileStore takes an exclusive lock on the directory
//     (flock on a ".lock" file), held until Close; a second process (or a
//     second FileStore) on the same directory gets ReasonStoreLocked.
//   - Private: the directory is created with mode 0700 and refused when
//     group- or world-writable (ReasonStorePermissions); files are 0600.
//   - Atomic: every write goes to a temporary file that is synced and then
//     renamed over the old one, and the directory is synced, so a crash
//     leaves either the old value or the new one.
//   - Checked: each file holds a header and a SHA-256 of its key and
//     value; an empty, truncated or altered file, or one copied under
//     another key, is an error (ReasonStoreCorrupt), never a missing key.
//
// It is safe for concurrent use within one process.
type FileStore struct {
	dir  string
	mu   sync.Mutex
	lock *os.File
}

// NewFileStore opens the FileStore in dir, creating it (mode 0700) if
// needed, and locks it. Call Close to release the lock.
func NewFileStore(dir string) (*FileStore, error) {
	const op = "state: open store"
	if dir == "" {
		return nil, backend.Invalid(op, dir, ReasonStoreDir, "a directory is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, backend.Wrap(err, backend.FailedPrecondition, op, dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, backend.Wrap(err, backend.FailedPrecondition, op, dir)
	}
	if !fi.IsDir() {
		return nil, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: dir, Reason: ReasonStorePermissions, Msg: "this is not a directory"}
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return nil, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: dir, Reason: ReasonStorePermissions,
			Msg: fmt.Sprintf("others can write to the state directory (mode %#o), so they could change or replace its entries: chmod 700 it", perm)}
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	return &FileStore{dir: dir, lock: lock}, nil
}

// Close releases the directory's lock. The store must not be used after.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return nil
	}
	err := unlockDir(s.lock)
	s.lock = nil
	return backend.Wrap(err, backend.Unavailable, "state: close store", s.dir)
}

// File names are the hex of the key, so any key maps to one safe name.
func (s *FileStore) path(key string) string {
	return filepath.Join(s.dir, hex.EncodeToString([]byte(key))+".v")
}

const fileHeader = "e365-state-1\n"

func fileSum(key string, value []byte) string {
	h := sha256.New()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write(value)
	return hex.EncodeToString(h.Sum(nil))
}

// encode wraps value with its header and checksum.
func encode(key string, value []byte) []byte {
	out := make([]byte, 0, len(fileHeader)+65+len(value))
	out = append(out, fileHeader...)
	out = append(out, fileSum(key, value)...)
	out = append(out, '\n')
	return append(out, value...)
}

// decode checks and unwraps a file's content.
func decode(key string, b []byte) ([]byte, error) {
	corrupt := func(what string) error {
		return &backend.Error{Kind: backend.FailedPrecondition, Op: "state: get entry", Key: key, Reason: ReasonStoreCorrupt,
			Msg: "the entry is " + what + ": restore the state directory from a backup, or remove the entry if the owner of the key says it can be rebuilt"}
	}
	if len(b) == 0 {
		return nil, corrupt("empty (truncated)")
	}
	rest, ok := bytes.CutPrefix(b, []byte(fileHeader))
	if !ok || len(rest) < 65 || rest[64] != '\n' {
		return nil, corrupt("not in the store's format, or truncated")
	}
	value := rest[65:]
	if string(rest[:64]) != fileSum(key, value) {
		return nil, corrupt("altered, or copied from another key")
	}
	return value, nil
}

// Get implements Store.
func (s *FileStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := backend.CtxErr(ctx, "state: get entry"); err != nil {
		return nil, err
	}
	if err := checkKey("state: get entry", key); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, backend.Errorf(backend.NotFound, "state: get entry", key, "no such key")
	}
	if err != nil {
		return nil, backend.Wrap(err, backend.Unavailable, "state: get entry", key)
	}
	return decode(key, b)
}

// Put implements Store.
func (s *FileStore) Put(ctx context.Context, key string, value []byte) error {
	if err := backend.CtxErr(ctx, "state: put entry"); err != nil {
		return err
	}
	if err := checkKey("state: put entry", key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := atomicfile.Write(s.path(key), encode(key, value), 0o600); err != nil {
		return backend.Wrap(err, backend.Unavailable, "state: put entry", key)
	}
	return backend.Wrap(syncDir(s.dir), backend.Unavailable, "state: put entry", key)
}

// Delete implements Store.
func (s *FileStore) Delete(ctx context.Context, key string) error {
	if err := backend.CtxErr(ctx, "state: delete entry"); err != nil {
		return err
	}
	if err := checkKey("state: delete entry", key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := os.Remove(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return backend.Wrap(err, backend.Unavailable, "state: delete entry", key)
	}
	return backend.Wrap(syncDir(s.dir), backend.Unavailable, "state: delete entry", key)
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// List implements Store.
func (s *FileStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := backend.CtxErr(ctx, "state: list entries"); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, backend.Wrap(err, backend.Unavailable, "state: list entries", prefix)
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
