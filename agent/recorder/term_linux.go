package recorder

import (
	"os"
	"syscall"
	"unsafe"
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
