package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/web"
)

// harness is a real server on 127.0.0.1 over a real store, with two
// organisations: A with one member per role (each with a token), and B with
// an admin.
type harness struct {
	t      *testing.T
	st     *store.Store
	srv    *web.Server
	ts     *httptest.Server
	orgA   vigil.Org
	orgB   vigil.Org
	users  map[vigil.Role]vigil.Member // members of A
	tokens map[vigil.Role]string       // tokens of A's members
	adminB vigil.Member
	tokenB string
}

const testPassword = "correct horse battery"

func newHarness(t *testing.T, st *store.Store) *harness {
	t.Helper()
	srv, err := web.New(web.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, srv: srv, ts: httptest.NewServer(srv.Handler()), users: map[vigil.Role]vigil.Member{}, tokens: map[vigil.Role]string{}}
	t.Cleanup(h.ts.Close)
	ctx := vigil.WithActor(context.Background(), vigil.SystemActor("test"))
	if h.orgA, err = st.CreateOrg(ctx, "Org A"); err != nil {
		t.Fatal(err)
	}
	if h.orgB, err = st.CreateOrg(ctx, "Org B"); err != nil {
		t.Fatal(err)
	}
	for _, r := range vigil.MemberRoles {
		m, err := st.AddMember(ctx, h.orgA.ID, vigil.NewMember{Email: string(r) + "@a.test", Name: string(r), Role: r, Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		h.users[r] = m
		_, secret, err := st.CreateToken(ctx, vigil.NewToken{MembershipID: m.MembershipID, Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
		h.tokens[r] = secret
	}
	if h.adminB, err = st.AddMember(ctx, h.orgB.ID, vigil.NewMember{Email: "admin@b.test", Name: "B Admin", Role: vigil.RoleAdmin, Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	if _, h.tokenB, err = st.CreateToken(ctx, vigil.NewToken{MembershipID: h.adminB.MembershipID}); err != nil {
		t.Fatal(err)
	}
	return h
}

// client returns an HTTP client that does not follow redirects.
func client() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// api sends a JSON request with a bearer token ("" for none).
func (h *harness) api(method, path, token, body string) (*http.Response, string) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.ts.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(h.t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// A stream never ends: the status and headers are the answer.
		resp.Body.Close()
		return resp, ""
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// session signs a user in directly and returns the cookie value.
func (h *harness) session(userID, orgID string) string {
	h.t.Helper()
	id, err := h.st.CreateSession(context.Background(), userID, orgID, false)
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

const csrfValue = "0123456789abcdef0123456789abcdef-test"

// ui sends a browser request with a session cookie ("" for none). POSTs
// carry the CSRF cookie and field unless noCSRF is set.
func (h *harness) ui(method, path, session string, form url.Values, noCSRF bool) (*http.Response, string) {
	h.t.Helper()
	var rd io.Reader
	if method == http.MethodPost {
		if form == nil {
			form = url.Values{}
		}
		if !noCSRF {
			form.Set("csrf_token", csrfValue)
		}
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, h.ts.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if !noCSRF {
			req.AddCookie(&http.Cookie{Name: "vigil_csrf", Value: csrfValue})
		}
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: "vigil_session", Value: session})
	}
	return do(h.t, req)
}
