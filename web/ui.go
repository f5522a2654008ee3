package web

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

const (
	sessionCookie = "vigil_session"
	csrfCookie    = "vigil_csrf"
	csrfField     = "csrf_token"
)

// parseTemplates parses every page once, each with the layout. A page file
// that fails to parse stops the server at start.
func parseTemplates() (map[string]*template.Template, error) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"evidenceLinks": evidenceLinksText,
		"fmtTime": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"roles": func() []vigil.Role { return vigil.MemberRoles },
	}
	out := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", f)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// staticFiles serves embedded assets at content-hashed URLs, cached for a
// year: a changed file gets a new URL.
type staticFiles struct {
	hash  map[string]string // file -> hash
	files map[string][]byte
}

func newStaticFiles() (*staticFiles, error) {
	sf := &staticFiles{hash: map[string]string{}, files: map[string][]byte{}}
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := fs.ReadFile(staticFS, "static/"+e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		sf.hash[e.Name()] = hex.EncodeToString(sum[:6])
		sf.files[e.Name()] = b
	}
	return sf, nil
}

// url returns the hashed URL of an asset.
func (sf *staticFiles) url(name string) string {
	return "/static/" + sf.hash[name] + "/" + name
}

func (sf *staticFiles) serve(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, ok := sf.files[name]
	if !ok || sf.hash[name] != r.PathValue("hash") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// view is what every page template receives.
type view struct {
	Title       string
	Nav         string
	Actor       vigil.Actor
	OrgName     string
	Memberships []vigil.Membership
	CSRF        string
	Flash       string
	Error       string
	Static      func(string) string
	Data        any
}

// render writes a page. The CSRF cookie is issued on first sight, so every
// form the page holds can carry its token.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t, ok := s.templates[name]
	if !ok {
		s.logger.Error("unknown template", slog.String("template", name))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v.CSRF = s.csrfToken(w, r)
	v.Static = s.static.url
	if v.Actor.UserID != "" && v.Memberships == nil {
		// authorize already loaded them for UI routes; only other pages
		// (an error page, say) ask the store again.
		ms, ok := r.Context().Value(membershipsKey{}).([]vigil.Membership)
		var err error
		if !ok {
			ms, err = s.store.Memberships(r.Context(), v.Actor.UserID)
		}
		if err == nil {
			v.Memberships = ms
			for _, m := range ms {
				if m.OrgID == v.Actor.OrgID {
					v.OrgName = m.OrgName
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.logger.Error("render", slog.String("template", name), slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		s.logger.Debug("write page", slog.String("error", err.Error()))
	}
}

// uiError renders an error page.
func (s *Server) uiError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error", view{Title: http.StatusText(status), Actor: actorOf(r), Error: msg})
}

// uiFail renders a domain error: a caller who is not signed in gets the
// login form (401), the rest an error page with the matching status.
func (s *Server) uiFail(w http.ResponseWriter, r *http.Request, err error) {
	code := vigil.ErrorCode(err)
	switch code {
	case vigil.EUnauthorized:
		next := r.URL.Path
		if r.Method != http.MethodGet {
			next = "/"
		}
		s.render(w, r, http.StatusUnauthorized, "login", view{Title: "Sign in", Data: loginData{Next: next}})
		return
	case vigil.EInternal:
		s.logger.ErrorContext(r.Context(), "request failed", slog.String("route", r.Pattern), slog.String("error", err.Error()))
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	s.uiError(w, r, status, vigil.ErrorMessage(err))
}

// formFailed answers a form whose action failed: the page again with the
// problem for a domain error, the error page for an internal one.
func (s *Server) formFailed(w http.ResponseWriter, r *http.Request, err error, rerender func(status int, v view)) {
	code := vigil.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok || code == vigil.EInternal || code == vigil.EUnauthorized {
		s.uiFail(w, r, err)
		return
	}
	rerender(status, view{Error: vigil.ErrorMessage(err)})
}

// sessionActor resolves the signed-in person from the session cookie, in
// the organisation the session works in.
func (s *Server) sessionActor(r *http.Request) (vigil.Actor, error) {
	a, _, err := s.sessionMember(r)
	return a, err
}

type membershipsKey struct{}

// sessionMember is sessionActor that also returns the person's
// memberships, which every page's organisation switcher shows.
func (s *Server) sessionMember(r *http.Request) (vigil.Actor, []vigil.Membership, error) {
	signIn := vigil.Errorf(vigil.EUnauthorized, "sign in first")
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return vigil.Actor{}, nil, signIn
	}
	sess, err := s.store.GetSession(r.Context(), c.Value)
	if err != nil {
		if vigil.ErrorCode(err) == vigil.ENotFound {
			return vigil.Actor{}, nil, signIn
		}
		return vigil.Actor{}, nil, err
	}
	if sess.MFAPending {
		return vigil.Actor{}, nil, signIn
	}
	u, err := s.store.GetUser(r.Context(), sess.UserID)
	if err != nil || u.Disabled {
		return vigil.Actor{}, nil, signIn
	}
	ms, err := s.store.Memberships(r.Context(), u.ID)
	if err != nil {
		return vigil.Actor{}, nil, err
	}
	if len(ms) == 0 {
		return vigil.Actor{}, nil, vigil.Errorf(vigil.EForbidden, "you are not a member of any organisation")
	}
	m := ms[0]
	for _, x := range ms {
		if x.OrgID == sess.OrgID {
			m = x
		}
	}
	return vigil.Actor{Type: vigil.ActorUser, ID: u.ID, UserID: u.ID, Email: u.Email, Name: u.Name, OrgID: m.OrgID, Role: m.Role}, ms, nil
}

// secureCookies says whether cookies get the Secure flag: always, except
// for plain HTTP straight to a loopback address (local use and tests).
func (s *Server) secureCookies(r *http.Request) bool {
	if s.tls || r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		return true
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	ip := net.ParseIP(host)
	return !(host == "localhost" || (ip != nil && ip.IsLoopback()))
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: int(vigil.SessionMaxAge.Seconds())})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// csrfToken returns the visitor's CSRF token, issuing the cookie if needed.
// Forms echo it in a hidden field; checkCSRF compares the two. The cookie is
// HttpOnly and SameSite=Strict, so another site can neither read nor send it.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteStrictMode})
	// Later reads in this request see the new token.
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
	return tok
}

func (s *Server) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) < 32 {
		return false
	}
	limit := int64(maxBodyBytes)
	upload := strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
	if upload {
		limit = vigil.MaxUploadBytes + 1<<20 // one file and a few fields
	}
	r.Body = http.MaxBytesReader(nil, r.Body, limit)
	if upload {
		// Parts beyond 8 MiB spill to temporary files, not memory.
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return false
		}
	}
	form := r.PostFormValue(csrfField)
	return subtle.ConstantTimeCompare([]byte(form), []byte(c.Value)) == 1
}

// localPath keeps redirects on this site.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}
