package client

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vigilhq/vigil/wire"
)

// Only the server's own final refusals are final: a proxy's error page, a
// refusal of the agent, an overload or a network failure are not.
func TestRefusalKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		status       int
		contentType  string
		header       string
		rejected     bool
		unauthorized bool
		kept         uint64
	}{
		{"400 problem, kept", 400, "application/problem+json", "7", true, false, 7},
		{"400 problem with charset", 400, "application/problem+json; charset=utf-8", "", true, false, 0},
		{"422 problem", 422, "application/problem+json", "", true, false, 0},
		{"413 problem", 413, "application/problem+json", "", true, false, 0},
		{"400 from a proxy", 400, "text/html", "", false, false, 0},
		{"413 from a proxy", 413, "text/html", "", false, false, 0},
		{"401", 401, "application/problem+json", "", false, true, 0},
		{"403", 403, "application/problem+json", "", false, true, 0},
		{"409", 409, "application/problem+json", "", false, false, 0},
		{"429", 429, "application/problem+json", "", false, false, 0},
		{"500", 500, "application/problem+json", "", false, false, 0},
		{"502", 502, "text/html", "", false, false, 0},
		{"bad header", 400, "application/problem+json", "x", true, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				if tt.header != "" {
					w.Header().Set(wire.HeaderRejected, tt.header)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(`{"title":"no"}`))
			}))
			defer srv.Close()
			_, key, _ := ed25519.GenerateKey(rand.Reader)
			c := &Client{HTTP: srv.Client(), ID: &Identity{AgentID: "a", Server: srv.URL, Key: key}}
			_, err := c.SendBatch(context.Background(), wire.Batch{Version: wire.Version, Seq: 7})
			if err == nil {
				t.Fatal("no error")
			}
			if Rejected(err) != tt.rejected || Unauthorized(err) != tt.unauthorized {
				t.Errorf("Rejected %v Unauthorized %v, want %v %v (%v)", Rejected(err), Unauthorized(err), tt.rejected, tt.unauthorized, err)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Rejected != tt.kept {
				t.Errorf("kept %+v, want %d", se, tt.kept)
			}
		})
	}
	// No answer at all is transient.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	c := &Client{HTTP: http.DefaultClient, ID: &Identity{AgentID: "a", Server: srv.URL, Key: key}}
	if _, err := c.SendBatch(context.Background(), wire.Batch{Seq: 1}); err == nil || Rejected(err) || Unauthorized(err) {
		t.Errorf("network failure: %v", err)
	}
}
