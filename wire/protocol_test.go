package wire

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	t.Parallel()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"seq":1}`)
	ts, sig := Sign(key, "POST", PathBatches, now, body)
	tests := []struct {
		name                  string
		pub                   ed25519.PublicKey
		method, path, ts, sig string
		body                  []byte
		at                    time.Time
		want                  error
	}{
		{"good", pub, "POST", PathBatches, ts, sig, body, now, nil},
		{"other key", other, "POST", PathBatches, ts, sig, body, now, ErrBadSignature},
		{"body changed", pub, "POST", PathBatches, ts, sig, []byte(`{"seq":2}`), now, ErrBadSignature},
		{"path changed", pub, "POST", PathHeartbeat, ts, sig, body, now, ErrBadSignature},
		{"timestamp changed", pub, "POST", PathBatches, "1800000001", sig, body, now, ErrBadSignature},
		{"garbled signature", pub, "POST", PathBatches, ts, "ed25519=!!", body, now, ErrBadSignature},
		{"no scheme", pub, "POST", PathBatches, ts, sig[len("ed25519="):], body, now, ErrBadSignature},
		{"stale", pub, "POST", PathBatches, ts, sig, body, now.Add(MaxClockSkew + time.Second), ErrClockSkew},
		{"future", pub, "POST", PathBatches, ts, sig, body, now.Add(-MaxClockSkew - time.Second), ErrClockSkew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.pub, tt.method, tt.path, tt.ts, tt.sig, tt.body, tt.at)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}
