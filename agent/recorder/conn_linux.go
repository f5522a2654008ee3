package recorder

import (
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// blocking returns the connection to the daemon as a file in blocking mode, or c itself if
// it cannot. Reading and writing it then block a thread of their own instead of waiting in
// Go's poller: while any goroutine waits there, every read of a busy terminal that blocks
// makes the runtime hand its P to a thread that polls, and take it back when the read
// returns, which under heavy output cost the recorder more CPU than copying the output.
func blocking(c net.Conn) io.ReadWriteCloser {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return c
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return c
	}
	fd := -1
	if cerr := rc.Control(func(f uintptr) { fd, err = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); cerr != nil || err != nil {
		return c
	}
	// The duplicate shares the socket's open file description: blocking mode is set on it
	// once the original, which Go's poller watches, is closed.
	c.Close()
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return c // closed: the session then runs as if the daemon had gone
	}
	return os.NewFile(uintptr(fd), "agent.sock")
}

// socketFD is the descriptor of a connection made by blocking, for push; -1 for any other
// connection (tests), whose output the writer sends.
func socketFD(c io.ReadWriteCloser) int {
	f, ok := c.(*os.File)
	if !ok {
		return -1
	}
	return int(f.Fd())
}

// sendNow writes frames to the socket as far as it takes them without blocking, and returns
// how many bytes it took. A full socket is not an error.
func sendNow(fd int, frames [][]byte) (int, error) {
	n, err := unix.SendmsgBuffers(fd, frames, nil, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	if err == unix.EAGAIN || err == unix.EINTR {
		return max(n, 0), nil
	}
	return max(n, 0), err
}

// readable waits up to d for fd to have something to read (or an error or hang-up for read
// to report), and reports whether it has.
func readable(fd int, d time.Duration) bool {
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(p, int(d/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		return err != nil || n > 0
	}
}
