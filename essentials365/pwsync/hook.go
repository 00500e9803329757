//go:build unix

package pwsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// The hook and the agent talk over a Unix socket, but the password never
// crosses it: the hook hands the agent its own standard input and output
// (SCM_RIGHTS), so the agent reads the LDIF straight from the pipe
// syncpasswords wrote it to and answers on the pipe syncpasswords reads.
// The socket carries one byte each way.

const (
	hookHello = 'H'
	ackDone   = 'D' // the agent answered DONE-EXIT
	ackRetry  = 'R' // the agent answered without DONE-EXIT: deliver again
)

// hookReadTimeout bounds reading the LDIF from the hook's standard input.
const hookReadTimeout = 30 * time.Second

// Listen creates the agent's socket at path (removing a stale one), only
// for its owner (mode 0600): whoever can connect can hand the agent a
// change.
func Listen(path string) (*net.UnixListener, error) {
	const op = "pwsync: listen"
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, backend.Errorf(backend.FailedPrecondition, op, path, "the path exists and is not a socket; remove it or choose another")
		}
		_ = os.Remove(path)
	}
	old := syscall.Umask(0o177)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, backend.Wrap(err, backend.Unavailable, op, path)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, backend.Wrap(err, backend.PermissionDenied, op, path)
	}
	return ln, nil
}

// Serve answers hook connections on ln until ctx ends, one change at a
// time (syncpasswords runs one hook at a time). It closes ln when it
// returns.
func (a *Agent) Serve(ctx context.Context, ln *net.UnixListener) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return backend.Wrap(err, backend.Unavailable, "pwsync: serve", "")
		}
		a.serveConn(ctx, conn)
	}
}

func (a *Agent) serveConn(ctx context.Context, conn *net.UnixConn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1)
	oob := make([]byte, syscall.CmsgSpace(2*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil || n != 1 || buf[0] != hookHello {
		a.log.WarnContext(ctx, "hook connection refused: not a hook", "err", err)
		return
	}
	stdin, stdout, err := receiveFiles(oob[:oobn])
	if err != nil {
		a.log.WarnContext(ctx, "hook connection refused", "err", err)
		return
	}
	_ = conn.SetDeadline(time.Time{})
	ack := a.answer(ctx, stdin, stdout)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = conn.Write([]byte{ack})
}

// answer reads one change from stdin, handles it and writes the reply to
// stdout. Both are closed when it returns.
func (a *Agent) answer(ctx context.Context, stdin, stdout *os.File) byte {
	defer stdin.Close()
	defer stdout.Close()
	_ = stdin.SetReadDeadline(time.Now().Add(hookReadTimeout))
	c, err := ParseLDIF(stdin)
	if err != nil && backend.KindOf(err) != backend.InvalidArgument {
		// The pipe failed (timeout): have the change delivered again.
		_, _ = fmt.Fprintf(stdout, "pwsync: change not read, deliver it again: %v\n", err)
		return ackRetry
	}
	if err != nil {
		// A record the agent cannot parse will not parse better next
		// time: acknowledge it so that the other accounts go on.
		a.log.ErrorContext(ctx, "unreadable change skipped", "err", err)
		_, _ = fmt.Fprintf(stdout, "DONE-EXIT: skipped: %v\n", err)
		return ackDone
	}
	res, err := a.Handle(ctx, c)
	if err != nil {
		_, _ = fmt.Fprintf(stdout, "pwsync: change of %s not handled, deliver it again: %v\n", res.User, err)
		return ackRetry
	}
	_, _ = fmt.Fprintf(stdout, "DONE-EXIT: %s %s\n", res.User, res.Outcome)
	return ackDone
}

// receiveFiles takes the two descriptors a hook sent.
func receiveFiles(oob []byte) (stdin, stdout *os.File, err error) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, nil, err
	}
	var fds []int
	for _, m := range msgs {
		f, err := syscall.ParseUnixRights(&m)
		if err == nil {
			fds = append(fds, f...)
		}
	}
	if len(fds) != 2 {
		for _, fd := range fds {
			syscall.Close(fd)
		}
		return nil, nil, fmt.Errorf("expected 2 descriptors, got %d", len(fds))
	}
	for _, fd := range fds {
		syscall.CloseOnExec(fd)
		// Non-blocking, so that read deadlines work on the pipe.
		_ = syscall.SetNonblock(fd, true)
	}
	return os.NewFile(uintptr(fds[0]), "hook-stdin"), os.NewFile(uintptr(fds[1]), "hook-stdout"), nil
}

// RunHook is the hook syncpasswords runs for each change: it hands its
// standard input and output to the agent listening on socket and waits for
// the agent's answer. When the agent cannot be reached it writes a reply
// without DONE-EXIT, so that syncpasswords stops and delivers the change
// again once restarted. It never reads the password itself.
func RunHook(socket string, stdin, stdout *os.File, timeout time.Duration) error {
	const op = "pwsync: hook"
	fail := func(err error) error {
		_, _ = fmt.Fprintf(stdout, "pwsync hook: the password sync agent did not take the change: %v\n", err)
		return backend.Wrap(err, backend.Unavailable, op, socket)
	}
	if socket == "" {
		return fail(errors.New("no agent socket given (the hook runs under the agent only)"))
	}
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	rights := syscall.UnixRights(int(stdin.Fd()), int(stdout.Fd()))
	if _, _, err := conn.WriteMsgUnix([]byte{hookHello}, rights, nil); err != nil {
		return fail(err)
	}
	ack := make([]byte, 1)
	if _, err := io.ReadFull(conn, ack); err != nil {
		return fail(err)
	}
	if ack[0] != ackDone {
		return backend.Errorf(backend.Unavailable, op, socket, "the agent asked for the change to be delivered again")
	}
	return nil
}
