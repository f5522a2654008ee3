package wire

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestEventRecords(t *testing.T) {
	t.Parallel()
	type ev struct {
		code byte
		t    time.Duration
		data string
	}
	evs := []ev{
		{'o', 0, ""},
		{'o', 1500 * time.Microsecond, "$ ls\r\n"},
		{'r', 2 * time.Second, "120x40"},
		{'m', 3 * time.Second, "ls -l"},
		{'i', 4 * time.Hour, "\x1b[A\x00\xff"},
		{'o', 5 * time.Hour, string(bytes.Repeat([]byte("é"), MaxEventData/2))},
	}
	var b []byte
	for _, e := range evs {
		b = AppendEvent(b, e.code, e.t, []byte(e.data))
	}
	for i, want := range evs {
		code, at, data, rest, err := ReadEvent(b)
		if err != nil || code != want.code || at != want.t || string(data) != want.data {
			t.Fatalf("record %d: %q %v %d bytes %v, want %q %v %d bytes", i, code, at, len(data), err, want.code, want.t, len(want.data))
		}
		b = rest
	}
	if len(b) != 0 {
		t.Fatalf("%d bytes left", len(b))
	}
	// A time before the start is written as the start.
	if _, at, _, _, err := ReadEvent(AppendEvent(nil, 'o', -time.Second, nil)); err != nil || at != 0 {
		t.Errorf("negative time read as %v, %v", at, err)
	}
}

func TestEventRecordsMalformed(t *testing.T) {
	t.Parallel()
	good := AppendEvent(nil, 'o', time.Second, []byte("hello"))
	for name, b := range map[string][]byte{
		"empty":          {},
		"no time":        {'o'},
		"time cut":       {'o', 0x80},
		"time too large": append([]byte{'o'}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0),
		"no length":      {'o', 1},
		"data cut":       good[:len(good)-1],
		"data too long":  append([]byte{'o', 1, 0x81, 0x80, 0x04}, make([]byte, MaxEventData+1)...),
	} {
		if _, _, _, _, err := ReadEvent(b); !errors.Is(err, ErrEvents) {
			t.Errorf("%s: %v, want ErrEvents", name, err)
		}
	}
}

// ReadEvent never panics, never reads past its input, and what it reads writes back the same.
func FuzzReadEvent(f *testing.F) {
	f.Add(AppendEvent(nil, 'o', time.Second, []byte("hello\r\n")))
	f.Add(AppendEvent(AppendEvent(nil, 'r', 0, []byte("80x24")), 'm', time.Hour, []byte("ls")))
	f.Add([]byte{'o', 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			code, at, data, rest, err := ReadEvent(b)
			if err != nil {
				return
			}
			if len(rest) >= len(b) || len(data) > MaxEventData {
				t.Fatalf("read %d bytes of data, %d of %d left", len(data), len(rest), len(b))
			}
			again := AppendEvent(nil, code, at, data)
			if c2, a2, d2, r2, err := ReadEvent(again); err != nil || c2 != code || a2 != at || !bytes.Equal(d2, data) || len(r2) != 0 {
				t.Fatalf("%q %v %q does not read back: %v", code, at, data, err)
			}
			b = rest
		}
	})
}
