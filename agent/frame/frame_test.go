package frame

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	_ = WriteJSON(&buf, TypeHello, Hello{Version: 1, Width: 80, Height: 24, Shell: "/bin/bash"})
	_ = Write(&buf, TypeOutput, Stamp(1500*time.Millisecond, []byte("hello")))
	_ = Write(&buf, TypeResize, Stamp(2*time.Second, Size(100, 30)))
	f, err := Read(&buf)
	if err != nil || f.Type != TypeHello {
		t.Fatal(f, err)
	}
	f, _ = Read(&buf)
	d, data, err := Unstamp(f.Payload)
	if err != nil || d != 1500*time.Millisecond || string(data) != "hello" {
		t.Fatal(d, data, err)
	}
	f, _ = Read(&buf)
	_, data, _ = Unstamp(f.Payload)
	if c, r, err := ParseSize(data); c != 100 || r != 30 || err != nil {
		t.Fatal(c, r, err)
	}
	if _, err := Read(&buf); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	for name, in := range map[string][]byte{
		"unknown type": {'Z', 0, 0, 0, 0},
		"too long":     {TypeOutput, 0xff, 0xff, 0xff, 0xff},
	} {
		if _, err := Read(bytes.NewReader(in)); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Read(bytes.NewReader([]byte{TypeOutput, 0, 0, 0, 9, 1})); err != io.ErrUnexpectedEOF {
		t.Errorf("torn frame: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte{TypeOutput, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 'x'})
	f.Add([]byte{TypeResize, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80, 0, 24})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			fr, err := Read(r)
			if err != nil {
				return
			}
			if len(fr.Payload) > MaxPayload {
				t.Fatal("payload over the limit")
			}
			var buf bytes.Buffer
			if err := Write(&buf, fr.Type, fr.Payload); err != nil {
				t.Fatal(err)
			}
			back, err := Read(&buf)
			if err != nil || back.Type != fr.Type || !bytes.Equal(back.Payload, fr.Payload) {
				t.Fatalf("round trip: %v", err)
			}
			if d, p, err := Unstamp(fr.Payload); err == nil {
				if d < 0 || len(p) != len(fr.Payload)-8 {
					t.Fatal("bad unstamp")
				}
				_, _, _ = ParseSize(p)
			}
		}
	})
}
