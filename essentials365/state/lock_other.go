//go:build !unix

package state

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/essentials365/sdk/essentials365/backend"
)

// lockDir creates dir/.lock exclusively. Unlike flock, the file outlives a
// crashed process: remove it by hand once sure no process uses the
// directory.
func lockDir(dir string) (*os.File, error) {
	p := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, &backend.Error{Kind: backend.FailedPrecondition, Op: "state: open store", Key: dir, Reason: ReasonStoreLocked, Err: err,
			Msg: "another process uses this state directory (or one crashed: then remove " + p + "): stop it first, or give each process its own directory"}
	}
	if err != nil {
		return nil, backend.Wrap(err, backend.FailedPrecondition, "state: open store", dir)
	}
	return f, nil
}

func unlockDir(f *os.File) error {
	name := f.Name()
	err := f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	return err
}
