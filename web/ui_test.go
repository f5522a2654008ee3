package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

func sessionFrom(resp *http.Response) string {
	for _, c := range resp.Cookies() {
		if c.Name == "vigil_session" && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

func TestUILogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		admin := h.users[vigil.RoleAdmin]

		resp, body := h.ui("GET", "/login", "", nil, false)
		if resp.StatusCode != 200 || !strings.Contains(body, `name="csrf_token"`) {
			t.Fatalf("login page: %d", resp.StatusCode)
		}
		// A form without the CSRF token is refused before the password is
		// even looked at.
		resp, _ = h.ui("POST", "/login", "", url.Values{"email": {admin.Email}, "password": {testPassword}}, true)
		if resp.StatusCode != http.StatusForbidden || sessionFrom(resp) != "" {
			t.Fatalf("login without CSRF: %d", resp.StatusCode)
		}
		resp, body = h.ui("POST", "/login", "", url.Values{"email": {admin.Email}, "password": {"wrong"}}, false)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "invalid email or password") {
			t.Fatalf("wrong password: %d", resp.StatusCode)
		}
		// A session id planted before login is replaced, never promoted.
		planted := "planted-session-id"
		resp, _ = h.ui("POST", "/login", planted, url.Values{"email": {admin.Email}, "password": {testPassword}, "next": {"/members"}}, false)
		sess := sessionFrom(resp)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/members" || sess == "" || sess == planted {
			t.Fatalf("login: %d to %q, session %q", resp.StatusCode, resp.Header.Get("Location"), sess)
		}
		resp, body = h.ui("GET", "/members", sess, nil, false)
		if resp.StatusCode != 200 || !strings.Contains(body, "viewer@a.test") {
			t.Fatalf("members page: %d", resp.StatusCode)
		}
		// Open redirects are not followed.
		resp, _ = h.ui("POST", "/login", "", url.Values{"email": {admin.Email}, "password": {testPassword}, "next": {"//evil.example/"}}, false)
		if resp.Header.Get("Location") != "/" {
			t.Fatalf("next=//evil redirected to %q", resp.Header.Get("Location"))
		}
		resp, _ = h.ui("POST", "/logout", sess, nil, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		if resp, _ = h.ui("GET", "/members", sess, nil, false); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("session alive after logout: %d", resp.StatusCode)
		}
	})
}

func TestUILockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		email := h.users[vigil.RoleViewer].Email
		for i := range vigil.LockoutThreshold {
			resp, _ := h.ui("POST", "/login", "", url.Values{"email": {email}, "password": {"wrong"}}, false)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
			}
		}
		resp, body := h.ui("POST", "/login", "", url.Values{"email": {email}, "password": {testPassword}}, false)
		if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "locked") || sessionFrom(resp) != "" {
			t.Fatalf("right password on a locked account: %d", resp.StatusCode)
		}
	})
}

func TestUITOTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		u := h.users[vigil.RoleEmployee]
		ctx := vigil.WithActor(context.Background(), vigil.SystemActor("test"))
		sess := h.session(u.ID, h.orgA.ID)

		// Enrol through the profile page.
		resp, body := h.ui("POST", "/profile/totp", sess, nil, false)
		if resp.StatusCode != 200 || !strings.Contains(body, "data:image/png;base64,") {
			t.Fatalf("begin enrolment: %d", resp.StatusCode)
		}
		i := strings.Index(body, `Key: <span class="mono">`)
		if i < 0 {
			t.Fatal("no key on the enrolment page")
		}
		secret := body[i+len(`Key: <span class="mono">`):]
		secret = secret[:strings.Index(secret, "<")]
		resp, _ = h.ui("POST", "/profile/totp/enable", sess, url.Values{"code": {"000000"}}, false)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong enrolment code: %d", resp.StatusCode)
		}
		code, _ := totp.GenerateCode(secret, time.Now())
		resp, body = h.ui("POST", "/profile/totp/enable", sess, url.Values{"code": {code}}, false)
		if resp.StatusCode != 200 || !strings.Contains(body, "recovery codes") {
			t.Fatalf("enable: %d %.300s", resp.StatusCode, body)
		}
		ri := strings.Index(body, `<ul class="codes mono"><li>`)
		recovery := body[ri+len(`<ul class="codes mono"><li>`):]
		recovery = recovery[:strings.Index(recovery, "<")]

		// The password alone is no longer enough.
		resp, _ = h.ui("POST", "/login", "", url.Values{"email": {u.Email}, "password": {testPassword}, "next": {"/profile"}}, false)
		pending := sessionFrom(resp)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login/totp") {
			t.Fatalf("password step: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ = h.ui("GET", "/profile", pending, nil, false); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("pending session reached a page: %d", resp.StatusCode)
		}
		resp, _ = h.ui("POST", "/login/totp", pending, url.Values{"code": {"123456"}}, false)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong code: %d", resp.StatusCode)
		}
		code, _ = totp.GenerateCode(secret, time.Now())
		resp, _ = h.ui("POST", "/login/totp", pending, url.Values{"code": {code}, "next": {"/profile"}}, false)
		full := sessionFrom(resp)
		if resp.StatusCode != http.StatusSeeOther || full == "" || full == pending {
			t.Fatalf("code step: %d, session rotated %v", resp.StatusCode, full != pending)
		}
		if resp, _ = h.ui("GET", "/profile", full, nil, false); resp.StatusCode != 200 {
			t.Fatalf("after second factor: %d", resp.StatusCode)
		}
		// A recovery code works once.
		for i, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
			resp, _ = h.ui("POST", "/login", "", url.Values{"email": {u.Email}, "password": {testPassword}}, false)
			resp, _ = h.ui("POST", "/login/totp", sessionFrom(resp), url.Values{"code": {recovery}}, false)
			if resp.StatusCode != want {
				t.Fatalf("recovery code use %d: %d, want %d", i+1, resp.StatusCode, want)
			}
		}
		es, _ := st.ListTrail(ctx, h.orgA.ID, vigil.TrailFilter{EntityID: u.ID, Limit: 100})
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action)
		}
		joined := strings.Join(actions, " ")
		for _, want := range []string{"user.totp_enable", "user.recovery_code_use", vigil.ActionLoginSuccess, vigil.ActionLoginFailure} {
			if !strings.Contains(joined, want) {
				t.Errorf("trail lacks %s: %s", want, joined)
			}
		}
		for _, e := range es {
			if strings.Contains(string(e.Changes), secret) || strings.Contains(string(e.Changes), recovery) {
				t.Fatal("a TOTP secret or recovery code reached the trail")
			}
		}
	})
}

func TestUICSRF(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		sess := h.session(h.users[vigil.RoleAdmin].ID, h.orgA.ID)
		before, _ := st.TrailLength(context.Background())
		form := url.Values{"email": {"csrf@a.test"}, "name": {"CSRF"}, "role": {"viewer"}}
		resp, _ := h.ui("POST", "/members", sess, form, true)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("POST without CSRF token: %d", resp.StatusCode)
		}
		// A token that does not match the cookie is refused too.
		req, _ := http.NewRequest("POST", h.ts.URL+"/members", strings.NewReader(form.Encode()+"&csrf_token=other-other-other-other-other-other"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "vigil_session", Value: sess})
		req.AddCookie(&http.Cookie{Name: "vigil_csrf", Value: csrfValue})
		if resp, _ = do(t, req); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("POST with a wrong CSRF token: %d", resp.StatusCode)
		}
		// A cross-site form post is refused even with the token.
		req, _ = http.NewRequest("POST", h.ts.URL+"/members", strings.NewReader(form.Encode()+"&csrf_token="+csrfValue))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.AddCookie(&http.Cookie{Name: "vigil_session", Value: sess})
		req.AddCookie(&http.Cookie{Name: "vigil_csrf", Value: csrfValue})
		if resp, _ = do(t, req); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site POST: %d", resp.StatusCode)
		}
		if _, err := st.GetMember(context.Background(), h.orgA.ID, "csrf@a.test"); vigil.ErrorCode(err) != vigil.ENotFound {
			t.Fatalf("refused form created the member: %v", err)
		}
		if after, _ := st.TrailLength(context.Background()); after != before {
			t.Fatalf("refused form left %d trail entries", after-before)
		}
		resp, body := h.ui("POST", "/members", sess, form, false)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST with CSRF token: %d %.200s", resp.StatusCode, body)
		}
	})
}
