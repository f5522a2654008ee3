//go:build unix

package authlog

import (
	"io/fs"
	"syscall"
)

// fileID names a file independently of its path, so the Tailer recognises a rotated log.
type fileID struct{ dev, ino uint64 }

func fileIdentity(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	// Dev is not uint64 on every platform, hence the conversions.
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true
}
