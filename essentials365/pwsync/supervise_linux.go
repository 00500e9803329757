package pwsync

import "syscall"

// childAttr kills syncpasswords if the agent dies, so that a restarted
// agent does not find it still holding the cache's lock.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
