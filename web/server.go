// Package web serves Vigil over HTTP: the JSON API under /api/v1/, the
// server-rendered UI, health and metrics. Every route declares who may call
// it; authorize enforces that in one place.
package web

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/alerting"
	"github.com/vigilhq/vigil/notify"
	"github.com/vigilhq/vigil/store"
)

// Options configure a Server.
type Options struct {
	Store  *store.Store
	Logger *slog.Logger
	// TLS says the server is reached over HTTPS (HSTS, secure cookies).
	TLS bool
	// Registry receives the metrics; a new one is made when nil.
	Registry *prometheus.Registry
	// Sender delivers alerts to channels; nil uses one without an SMTP
	// relay (email channels then fail with a clear error).
	Sender *notify.Sender
	// PublicURL prefixes links in notifications, such as
	// https://vigil.example.com.
	PublicURL string
}

// Server holds the HTTP handlers and their dependencies.
type Server struct {
	store     *store.Store
	logger    *slog.Logger
	tls       bool
	routes    []Route
	mux       *http.ServeMux
	metrics   *metrics
	templates map[string]*template.Template
	static    *staticFiles
	csrf      *http.CrossOriginProtection
	// instructions wakes agents waiting for response actions.
	instructions notifier
	// alerts evaluates rules on ingest and dispatches alerts.
	alerts *alerting.Service
}

// Access says who may call a route.
type Access int

// Kinds of access.
const (
	// Public routes need no credentials (health, metrics, login page).
	Public Access = iota
	// API routes take a bearer token.
	API
	// UI routes take the session cookie.
	UI
	// Agent routes take a request signed by an enrolled monitoring agent
	// (see wire.HeaderAgent); members' tokens are refused with 403.
	Agent
)

// Route is one registered endpoint and the roles that may call it.
type Route struct {
	Method  string
	Path    string
	Access  Access
	Roles   []vigil.Role
	handler http.HandlerFunc
}

// Pattern is the ServeMux pattern of the route.
func (rt Route) Pattern() string { return rt.Method + " " + rt.Path }

// Allows reports whether a role may call the route.
func (rt Route) Allows(r vigil.Role) bool {
	return rt.Access == Public || slices.Contains(rt.Roles, r)
}

// Role sets used by many routes.
var (
	everyone   = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager, vigil.RoleRiskOwner, vigil.RoleInternalAuditor, vigil.RoleExternalAuditor, vigil.RoleEmployee, vigil.RoleViewer}
	staff      = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager, vigil.RoleRiskOwner, vigil.RoleInternalAuditor, vigil.RoleEmployee, vigil.RoleViewer}
	adminOnly  = []vigil.Role{vigil.RoleAdmin}
	trailRoles = []vigil.Role{vigil.RoleAdmin, vigil.RoleInternalAuditor, vigil.RoleExternalAuditor}
	// ismsReaders read the ISMS registers (employees see policies and
	// their training, not the registers).
	ismsReaders = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager, vigil.RoleRiskOwner, vigil.RoleInternalAuditor, vigil.RoleExternalAuditor, vigil.RoleViewer}
	// ismsEditors change the ISMS.
	ismsEditors = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager}
	// riskEditors also include risk owners, who maintain their risks.
	riskEditors = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager, vigil.RoleRiskOwner}
)

// New builds a server and registers every route.
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	s := &Server{store: o.Store, logger: o.Logger, tls: o.TLS, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection()}
	s.alerts = alerting.New(o.Store, alerting.Options{Sender: o.Sender, PublicURL: o.PublicURL, Logger: o.Logger, OnResponse: s.instructions.notify})
	var err error
	if s.templates, err = parseTemplates(); err != nil {
		return nil, err
	}
	if s.static, err = newStaticFiles(); err != nil {
		return nil, err
	}
	s.metrics = newMetrics(o.Registry, o.Store)
	s.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.uiError(w, r, http.StatusForbidden, "This form came from another site and was refused.")
	}))
	s.registerRoutes(o.Registry)
	return s, nil
}

func (s *Server) handle(method, path string, access Access, roles []vigil.Role, h http.HandlerFunc) {
	rt := Route{Method: method, Path: path, Access: access, Roles: roles, handler: h}
	s.routes = append(s.routes, rt)
	s.mux.Handle(rt.Pattern(), s.authorize(rt))
}

// Routes lists every registered route (for tests and the OpenAPI check).
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// Handler returns the server's root handler.
func (s *Server) Handler() http.Handler {
	return s.observe(s.secureHeaders(s.mux))
}

// secureHeaders sets the headers every response carries.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.tls {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs each request and counts it by route pattern. Query strings
// are never logged: they may carry feed tokens.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.metrics.observe(route, r.Method, sw.status, d)
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.Group("request", slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path)),
			slog.Int("status", sw.status), slog.Duration("duration", d))
	})
}

// authorize resolves the caller of a route and checks its role. A caller
// without valid credentials gets 401; one whose role is not allowed gets
// 403, and the denial goes into the trail.
func (s *Server) authorize(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := s.apiError
		if rt.Access == UI {
			fail = s.uiFail
		}
		var actor vigil.Actor
		var err error
		switch rt.Access {
		case Public:
			// Ingest routes are called by agents, not browsers: no form, no CSRF.
			if r.Method == http.MethodPost && !strings.HasPrefix(rt.Path, "/ingest/") {
				s.guardForm(w, r, rt.handler)
				return
			}
			rt.handler(w, r)
			return
		case API:
			actor, err = s.bearerActor(r)
		case UI:
			var ms []vigil.Membership
			actor, ms, err = s.sessionMember(r)
			if err == nil {
				r = r.WithContext(context.WithValue(r.Context(), membershipsKey{}, ms))
			}
		case Agent:
			var body []byte
			actor, body, err = s.agentActor(w, r)
			if err == nil && actor.Type == vigil.ActorAgent {
				rt.handler(w, r.WithContext(withAgentBody(vigil.WithActor(r.Context(), actor), body)))
				return
			}
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		ctx := vigil.WithActor(r.Context(), actor)
		r = r.WithContext(ctx)
		if !rt.Allows(actor.Role) {
			if err := s.store.RecordEvent(ctx, actor.OrgID, vigil.ActionPermissionDenied, "route", rt.Pattern(),
				map[string]any{"method": r.Method, "path": r.URL.Path, "role": actor.Role}); err != nil {
				s.logger.ErrorContext(ctx, "record denial", slog.String("error", err.Error()))
			}
			fail(w, r, vigil.Errorf(vigil.EForbidden, "your role (%s) may not %s %s", actor.Role, r.Method, rt.Path))
			return
		}
		var ok bool
		if r, ok = s.guestGate(w, r, rt, fail); !ok {
			return
		}
		if rt.Access == UI && r.Method == http.MethodPost {
			s.guardForm(w, r, rt.handler)
			return
		}
		rt.handler(w, r)
	})
}

// guardForm refuses a form post without the visitor's CSRF token or from
// another origin.
func (s *Server) guardForm(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	if !s.checkCSRF(r) {
		s.uiError(w, r, http.StatusForbidden, "The form's security token is missing or out of date. Go back, reload the page and try again.")
		return
	}
	s.csrf.Handler(h).ServeHTTP(w, r)
}

// bearerActor authenticates an API call by its token.
func (s *Server) bearerActor(r *http.Request) (vigil.Actor, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return vigil.Actor{}, vigil.Errorf(vigil.EUnauthorized, "send an API token as 'Authorization: Bearer vgl_…' (make one with 'vigil token create')")
	}
	return s.store.AuthenticateToken(r.Context(), tok)
}

// actorOf returns the caller resolved by authorize.
func actorOf(r *http.Request) vigil.Actor { return vigil.ActorFrom(r.Context()) }
