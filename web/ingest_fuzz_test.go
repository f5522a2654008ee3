package web_test

import (
	"encoding/json"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/web"
)

// FuzzDecodeBatch feeds arbitrary bodies to the ingest decoder: it must
// never panic, must refuse with a 400-kind error, and what it accepts must
// survive a round trip.
func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte(`{"version":1,"seq":1,"items":[]}`))
	f.Add([]byte(`{"version":1,"seq":2,"items":[{"chunk":{"session_id":"s","index":0,"data":"[0.1, \"o\", \"hi\"]\n"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := web.DecodeBatch(body)
		if err != nil {
			if c := vigil.ErrorCode(err); c != vigil.EInvalid {
				t.Fatalf("error code %s for %q: %v", c, body, err)
			}
			return
		}
		again, _ := json.Marshal(b)
		if _, err := web.DecodeBatch(again); err != nil {
			t.Fatalf("accepted %q but not its re-encoding %s: %v", body, again, err)
		}
	})
}
