package password

import (
	"errors"
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	t.Parallel()
	p := Params{Memory: 1024, Time: 1, Threads: 1}
	h, err := Hash("correct horse battery", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q is not PHC argon2id", h)
	}
	h2, _ := Hash("correct horse battery", p)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	tests := []struct {
		name, pw, hash string
		wantErr        error
		anyErr         bool
	}{
		{"right", "correct horse battery", h, nil, false},
		{"wrong", "correct horse battery!", h, ErrMismatch, true},
		{"empty", "", h, ErrMismatch, true},
		{"not argon2id", "x", "$2a$10$abc", nil, true},
		{"garbled params", "x", "$argon2id$v=19$m=x$AAAA$AAAA", nil, true},
		{"zero memory", "x", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.pw, tt.hash)
			if (err != nil) != tt.anyErr {
				t.Fatalf("Verify err = %v, want error %v", err, tt.anyErr)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
