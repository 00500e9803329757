//go:build unix

package state

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"github.com/essentials365/sdk/essentials365/backend"
)

// lockDir takes an exclusive, non-blocking flock on dir/.lock. The kernel
// releases it when the process ends, however it ends.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, backend.Wrap(err, backend.FailedPrecondition, "state: open store", dir)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &backend.Error{Kind: backend.FailedPrecondition, Op: "state: open store", Key: dir, Reason: ReasonStoreLocked, Err: err,
				Msg: "another process uses this state directory: stop it first, or give each process its own directory"}
		}
		return nil, backend.Wrap(err, backend.FailedPrecondition, "state: open store", dir)
	}
	return f, nil
}

func unlockDir(f *os.File) error {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return f.Close()
}
