//go:build !unix

package authlog

import "io/fs"

// fileID names a file independently of its path. Where the platform gives no device and inode,
// the Tailer tells files apart by the hash of their first bytes alone.
type fileID struct{ dev, ino uint64 }

func fileIdentity(fs.FileInfo) (fileID, bool) { return fileID{}, false }
