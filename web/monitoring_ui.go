package web

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/wire"
)

func (s *Server) monitoringUIRoutes() {
	s.handle("GET", "/hosts", UI, monitoringReaders, s.uiHosts)
	s.handle("POST", "/hosts/{id}/revoke", UI, adminOnly, s.uiRevokeHost)
	s.handle("GET", "/hosts/events", UI, monitoringReaders, s.uiEvents)
	s.handle("GET", "/sessions", UI, monitoringReaders, s.uiSessions)
	s.handle("GET", "/sessions/live.json", UI, monitoringReaders, s.uiLiveSessions)
	s.handle("GET", "/sessions/{id}", UI, monitoringReaders, s.uiSession)
	s.handle("GET", "/sessions/{id}/cast", UI, monitoringReaders, s.serveCast)
	s.handle("POST", "/sessions/{id}/hold", UI, adminOnly, s.uiSetHold)
}

// hostRow is a host with its health for the hosts page.
type hostRow struct {
	vigil.Host
	Health string // ok, late, silent, never, revoked
}

// hostHealth judges a host by its last heartbeat against the interval.
func hostHealth(h vigil.Host, every int, now time.Time) string {
	switch {
	case h.Revoked:
		return "revoked"
	case h.LastHeartbeat == nil:
		return "never"
	}
	late := now.Sub(*h.LastHeartbeat)
	switch {
	case late <= 3*time.Duration(every)*time.Second:
		return "ok"
	case late <= time.Hour:
		return "late"
	}
	return "silent"
}

func (s *Server) uiHosts(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	st, err := s.store.MonitoringSettings(r.Context(), a.OrgID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	var rows []hostRow
	after := ""
	for {
		hs, err := s.store.ListHosts(r.Context(), a.OrgID, after, 500)
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		for _, h := range hs {
			rows = append(rows, hostRow{Host: h, Health: hostHealth(h, st.HeartbeatSeconds, s.store.Now())})
		}
		if len(hs) < 500 || len(rows) >= 5000 {
			break
		}
		after = hs[len(hs)-1].ID
	}
	s.render(w, r, http.StatusOK, "hosts", view{Title: "Hosts", Nav: "hosts", Actor: a, Flash: r.URL.Query().Get("done"),
		Data: map[string]any{"Hosts": rows, "Admin": a.Role == vigil.RoleAdmin, "Settings": st}})
}

func (s *Server) uiRevokeHost(w http.ResponseWriter, r *http.Request) {
	if _, err := s.store.RevokeHost(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.uiFail(w, r, err)
		return
	}
	redirect(w, r, "/hosts?done="+url.QueryEscape("The host's agent is revoked."))
}

// uiDate reads a filter date: YYYY-MM-DD or RFC 3339.
func uiDate(v, name string, endOfDay bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		if endOfDay {
			d = d.Add(24 * time.Hour)
		}
		return d, nil
	}
	return parseTimeParam(v, name)
}

func (s *Server) uiSessions(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	q := r.URL.Query()
	f := vigil.SessionFilter{User: strings.TrimSpace(q.Get("user")), Host: strings.TrimSpace(q.Get("host")), Query: strings.TrimSpace(q.Get("q")), Limit: 50}
	var err error
	if c := q.Get("cursor"); c != "" {
		b, _ := base64.RawURLEncoding.DecodeString(c)
		f.Before = string(b)
	}
	if f.From, err = uiDate(q.Get("from"), "from", false); err == nil {
		f.To, err = uiDate(q.Get("to"), "to", true)
	}
	var list, live []vigil.RecordedSession
	var cursor string
	if err == nil {
		list, cursor, err = s.store.ListRecordedSessions(r.Context(), a.OrgID, f)
	}
	if err == nil {
		live, _, err = s.store.ListRecordedSessions(r.Context(), a.OrgID, vigil.SessionFilter{Live: true, Limit: 100})
	}
	v := view{Title: "Sessions", Nav: "sessions", Actor: a}
	status := http.StatusOK
	if err != nil {
		if vigil.ErrorCode(err) != vigil.EInvalid {
			s.uiFail(w, r, err)
			return
		}
		v.Error, status = vigil.ErrorMessage(err), http.StatusBadRequest
	}
	next := ""
	if cursor != "" {
		nq := url.Values{}
		for k, vs := range q {
			nq[k] = vs
		}
		nq.Set("cursor", base64.RawURLEncoding.EncodeToString([]byte(cursor)))
		next = "/sessions?" + nq.Encode()
	}
	v.Data = map[string]any{"Sessions": list, "Live": live, "Filter": q, "Query": f.Query, "Next": next}
	s.render(w, r, status, "sessions", v)
}

// liveSession is what the sessions page polls for.
type liveSession struct {
	ID        string    `json:"id"`
	Host      string    `json:"host"`
	User      string    `json:"user"`
	SourceIP  string    `json:"source_ip"`
	StartedAt time.Time `json:"started_at"`
}

func (s *Server) uiLiveSessions(w http.ResponseWriter, r *http.Request) {
	live, _, err := s.store.ListRecordedSessions(r.Context(), actorOf(r).OrgID, vigil.SessionFilter{Live: true, Limit: 100})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	items := make([]liveSession, 0, len(live))
	for _, l := range live {
		items = append(items, liveSession{ID: l.ID, Host: l.Host, User: l.User, SourceIP: l.SourceIP, StartedAt: l.StartedAt})
	}
	writeJSON(w, http.StatusOK, List[liveSession]{Items: items})
}

func (s *Server) uiSession(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	rs, err := s.store.GetRecordedSession(r.Context(), a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	cs, _, err := s.store.ListSessionCommands(r.Context(), a.OrgID, rs.ID, "", 5000)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	var matches []vigil.SearchMatch
	if q != "" && len(q) <= 500 {
		if matches, err = s.store.SessionMatches(r.Context(), a.OrgID, rs.ID, q); err != nil && vigil.ErrorCode(err) != vigil.EInvalid {
			s.uiFail(w, r, err)
			return
		}
	}
	det, err := s.sessionDetection(r.Context(), a, rs)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "sessions_view", view{Title: "Session " + rs.User + "@" + rs.Host, Nav: "sessions", Actor: a, Flash: r.URL.Query().Get("done"),
		Data: map[string]any{"Session": rs, "Commands": cs, "Matches": matches, "Query": q, "Admin": a.Role == vigil.RoleAdmin, "Detection": det}})
}

func (s *Server) uiSetHold(w http.ResponseWriter, r *http.Request) {
	hold := r.PostFormValue("legal_hold") == "on"
	rs, err := s.store.SetLegalHold(r.Context(), actorOf(r).OrgID, r.PathValue("id"), hold)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	msg := "Legal hold lifted."
	if hold {
		msg = "The session is under legal hold: it will not be purged."
	}
	redirect(w, r, "/sessions/"+url.PathEscape(rs.ID)+"?done="+url.QueryEscape(msg))
}

// eventRow is an event with its outcome in words.
type eventRow struct {
	vigil.MonitorEvent
	Result string
}

// uiEvents lists what agents reported (logins, sudo, …), newest first.
func (s *Server) uiEvents(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	q := r.URL.Query()
	f := vigil.EventFilter{Type: strings.TrimSpace(q.Get("type")), User: strings.TrimSpace(q.Get("user")), Host: strings.TrimSpace(q.Get("host")), Limit: 101}
	if c := q.Get("cursor"); c != "" {
		b, _ := base64.RawURLEncoding.DecodeString(c)
		f.Before = string(b)
	}
	v := view{Title: "Host events", Nav: "hosts", Actor: a}
	status := http.StatusOK
	es, err := s.store.ListEvents(r.Context(), a.OrgID, f)
	if err != nil {
		if vigil.ErrorCode(err) != vigil.EInvalid {
			s.uiFail(w, r, err)
			return
		}
		v.Error, status = vigil.ErrorMessage(err), http.StatusBadRequest
	}
	next := ""
	if len(es) > 100 {
		es = es[:100]
		nq := url.Values{}
		for k, vs := range q {
			nq[k] = vs
		}
		nq.Set("cursor", base64.RawURLEncoding.EncodeToString([]byte(store.EventCursor(es[99]))))
		next = "/hosts/events?" + nq.Encode()
	}
	rows := make([]eventRow, 0, len(es))
	for _, e := range es {
		row := eventRow{MonitorEvent: e, Result: "—"}
		if e.Success != nil {
			row.Result = map[bool]string{true: "succeeded", false: "refused"}[*e.Success]
		}
		rows = append(rows, row)
	}
	v.Data = map[string]any{"Events": rows, "Filter": q, "Types": wire.EventTypes(), "Next": next}
	s.render(w, r, status, "hosts_events", v)
}
