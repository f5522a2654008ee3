package recorder

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func tcget(fd uintptr) (*syscall.Termios, error) {
	var t syscall.Termios
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&t))); e != 0 {
		return nil, e
	}
	return &t, nil
}

func tcset(fd uintptr, t *syscall.Termios) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCSETS, uintptr(unsafe.Pointer(t))); e != 0 {
		return e
	}
	return nil
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	_, err := tcget(f.Fd())
	return err == nil
}

// EchoOn reports whether the terminal f echoes input; false if it cannot tell,
// so that input is then not recorded.
func EchoOn(f *os.File) bool {
	t, err := tcget(f.Fd())
	return err == nil && t.Lflag&syscall.ECHO != 0
}

// makeRaw puts the terminal in raw mode and returns how to restore it.
func makeRaw(f *os.File) (restore func(), err error) {
	old, err := tcget(f.Fd())
	if err != nil {
		return nil, err
	}
	raw := *old
	raw.Iflag &^= syscall.IGNBRK | syscall.BRKINT | syscall.PARMRK | syscall.ISTRIP | syscall.INLCR | syscall.IGNCR | syscall.ICRNL | syscall.IXON
	raw.Oflag &^= syscall.OPOST
	raw.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
	raw.Cflag &^= syscall.CSIZE | syscall.PARENB
	raw.Cflag |= syscall.CS8
	raw.Cc[syscall.VMIN] = 1
	raw.Cc[syscall.VTIME] = 0
	if err := tcset(f.Fd(), &raw); err != nil {
		return nil, err
	}
	return func() { _ = tcset(f.Fd(), old) }, nil
}

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
