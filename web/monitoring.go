package web

import (
	"bufio"
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/asciicast"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/wire"
)

// monitoringReaders read hosts, sessions and events. External auditors are
// left out until audit scopes can limit what they see.
var monitoringReaders = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager, vigil.RoleInternalAuditor}

// monitoringRoutes registers the user-activity monitoring API and UI.
func (s *Server) monitoringRoutes() {
	s.handle("GET", "/api/v1/hosts", API, monitoringReaders, s.apiListHosts)
	s.handle("GET", "/api/v1/hosts/{id}", API, monitoringReaders, s.apiGetHost)
	s.handle("DELETE", "/api/v1/hosts/{id}", API, adminOnly, s.apiRevokeHost)
	s.handle("GET", "/api/v1/monitoring/settings", API, adminOnly, s.apiGetMonitoringSettings)
	s.handle("PUT", "/api/v1/monitoring/settings", API, adminOnly, s.apiPutMonitoringSettings)
	s.handle("GET", "/api/v1/sessions", API, monitoringReaders, s.apiListSessions)
	s.handle("GET", "/api/v1/sessions/{id}", API, monitoringReaders, s.apiGetSession)
	s.handle("PATCH", "/api/v1/sessions/{id}", API, adminOnly, s.apiPatchSession)
	s.handle("GET", "/api/v1/sessions/{id}/commands", API, monitoringReaders, s.apiListSessionCommands)
	s.handle("GET", "/api/v1/sessions/{id}/cast", API, monitoringReaders, s.serveCast)
	s.handle("GET", "/api/v1/sessions/{id}/verify", API, monitoringReaders, s.apiVerifySession)
	s.handle("GET", "/api/v1/events", API, monitoringReaders, s.apiListEvents)
	s.monitoringUIRoutes()
}

func (s *Server) apiListHosts(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	hs, err := s.store.ListHosts(r.Context(), actorOf(r).OrgID, p.Cursor, p.Limit+1)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(hs, p.Limit, func(h vigil.Host) string { return h.ID }))
}

func (s *Server) apiGetHost(w http.ResponseWriter, r *http.Request) {
	h, err := s.store.GetHost(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) apiRevokeHost(w http.ResponseWriter, r *http.Request) {
	if _, err := s.store.RevokeHost(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiGetMonitoringSettings(w http.ResponseWriter, r *http.Request) {
	st, err := s.store.MonitoringSettings(r.Context(), actorOf(r).OrgID)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// apiPutMonitoringSettings replaces the settings; fields left out keep
// their current value.
func (s *Server) apiPutMonitoringSettings(w http.ResponseWriter, r *http.Request) {
	org := actorOf(r).OrgID
	st, err := s.store.MonitoringSettings(r.Context(), org)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := decodeJSON(w, r, &st); err != nil {
		s.apiError(w, r, err)
		return
	}
	if st, err = s.store.SetMonitoringSettings(r.Context(), org, st); err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// sessionFilter reads user, host, from, to and q.
func sessionFilter(r *http.Request, p page) (vigil.SessionFilter, error) {
	q := r.URL.Query()
	f := vigil.SessionFilter{User: q.Get("user"), Host: q.Get("host"), Query: q.Get("q"), Before: p.Cursor, Limit: p.Limit}
	var err error
	if f.From, err = parseTimeParam(q.Get("from"), "from"); err != nil {
		return f, err
	}
	if f.To, err = parseTimeParam(q.Get("to"), "to"); err != nil {
		return f, err
	}
	if len(f.Query) > 500 {
		return f, vigil.Invalid("q", "must be at most 500 characters")
	}
	switch q.Get("live") {
	case "", "false":
	case "true":
		f.Live = true
	default:
		return f, vigil.Invalid("live", "must be true or false")
	}
	return f, nil
}

func (s *Server) apiListSessions(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	f, err := sessionFilter(r, p)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	ss, next, err := s.store.ListRecordedSessions(r.Context(), actorOf(r).OrgID, f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cursorList(ss, next))
}

func (s *Server) apiGetSession(w http.ResponseWriter, r *http.Request) {
	rs, err := s.store.GetRecordedSession(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rs)
}

type sessionPatch struct {
	LegalHold *bool `json:"legal_hold"`
}

func (s *Server) apiPatchSession(w http.ResponseWriter, r *http.Request) {
	var req sessionPatch
	if err := decodeJSON(w, r, &req); err != nil {
		s.apiError(w, r, err)
		return
	}
	org := actorOf(r).OrgID
	rs, err := s.store.GetRecordedSession(r.Context(), org, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if req.LegalHold == nil {
		s.apiError(w, r, vigil.Invalid("legal_hold", "is required"))
		return
	}
	if rs, err = s.store.SetLegalHold(r.Context(), org, rs.ID, *req.LegalHold); err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rs)
}

func (s *Server) apiListSessionCommands(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	cs, ids, err := s.store.ListSessionCommands(r.Context(), actorOf(r).OrgID, r.PathValue("id"), p.Cursor, p.Limit+1)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	l := List[vigil.SessionCommand]{Items: cs}
	if l.Items == nil {
		l.Items = []vigil.SessionCommand{}
	}
	if len(cs) > p.Limit {
		// Commands are paged by an id they do not show.
		l.Items = cs[:p.Limit]
		c := base64.RawURLEncoding.EncodeToString([]byte(ids[p.Limit-1]))
		l.NextCursor = &c
	}
	writeJSON(w, http.StatusOK, l)
}

func (s *Server) apiVerifySession(w http.ResponseWriter, r *http.Request) {
	v, err := s.store.VerifySession(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiListEvents(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := vigil.EventFilter{Type: q.Get("type"), User: q.Get("user"), Host: q.Get("host"), Before: p.Cursor, Limit: p.Limit + 1}
	if f.From, err = parseTimeParam(q.Get("from"), "from"); err != nil {
		s.apiError(w, r, err)
		return
	}
	if f.To, err = parseTimeParam(q.Get("to"), "to"); err != nil {
		s.apiError(w, r, err)
		return
	}
	es, err := s.store.ListEvents(r.Context(), actorOf(r).OrgID, f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(es, p.Limit, store.EventCursor))
}

// serveCast streams a session as asciicast v2: the header from the session,
// then every chunk's events in order, with the commands as "m" markers at
// their offsets. Chunks are read one at a time, so a long recording is
// never held in memory.
func (s *Server) serveCast(w http.ResponseWriter, r *http.Request) {
	org := actorOf(r).OrgID
	rs, err := s.store.GetRecordedSession(r.Context(), org, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-asciicast")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="session-%s.cast"`, rs.ID))
	if err := s.writeCast(r.Context(), w, org, rs); err != nil {
		s.logger.ErrorContext(r.Context(), "write cast", slog.String("session", rs.ID), slog.String("error", err.Error()))
	}
}

func (s *Server) writeCast(ctx context.Context, out io.Writer, org string, rs vigil.RecordedSession) error {
	var markers []vigil.SessionCommand
	after := ""
	for {
		cs, ids, err := s.store.ListSessionCommands(ctx, org, rs.ID, after, 1000)
		if err != nil {
			return err
		}
		markers = append(markers, cs...)
		if len(ids) < 1000 {
			break
		}
		after = ids[len(ids)-1]
	}
	sortCommands(markers)
	bw := bufio.NewWriterSize(out, 32<<10)
	defer bw.Flush()
	h := asciicast.Header{Width: rs.Width, Height: rs.Height, Timestamp: rs.StartedAt.Unix(), Title: rs.User + "@" + rs.Host, Command: rs.Command}
	if rs.Shell != "" {
		h.Env = map[string]string{"SHELL": rs.Shell}
	}
	aw, err := asciicast.NewWriter(bw, h)
	if err != nil {
		return err
	}
	last, mi := 0.0, 0
	emit := func(t float64, code, data string) error {
		t = math.Max(t, last)
		if err := aw.WriteEvent(asciicast.Event{Time: t, Code: code, Data: data}); err != nil {
			// An event a player could not replay (unknown code, bad
			// resize) is left out; a failed write (the client went away)
			// ends the download.
			return aw.Err()
		}
		last = t
		return nil
	}
	err = s.store.SessionChunks(ctx, org, rs.ID, func(_ int, data []byte) error {
		lines, err := store.ParseChunk(string(data))
		if err != nil {
			return err
		}
		for _, l := range lines {
			for ; mi < len(markers) && markers[mi].Offset <= l.Time; mi++ {
				if err := emit(markers[mi].Offset, asciicast.CodeMarker, markers[mi].Command); err != nil {
					return err
				}
			}
			if err := emit(l.Time, l.Code, l.Data); err != nil {
				return err
			}
		}
		return nil
	})
	for ; err == nil && mi < len(markers); mi++ {
		err = emit(markers[mi].Offset, asciicast.CodeMarker, markers[mi].Command)
	}
	return err
}

func sortCommands(cs []vigil.SessionCommand) {
	slices.SortStableFunc(cs, func(a, b vigil.SessionCommand) int { return cmp.Compare(a.Offset, b.Offset) })
}

// monitoringOperations documents the monitoring API.
var monitoringOperations = []operation{
	{Method: "GET", Path: "/api/v1/hosts", Summary: "Enrolled hosts (monitoring agents) and their health.", Params: pageParams, Status: 200, Response: "MonitoringHost", List: true},
	{Method: "GET", Path: "/api/v1/hosts/{id}", Summary: "One host.", Params: []param{idParam}, Status: 200, Response: "MonitoringHost"},
	{Method: "DELETE", Path: "/api/v1/hosts/{id}", Summary: "Revoke a host's agent: its requests are refused from then on.", Params: []param{idParam}, Status: 204},
	{Method: "GET", Path: "/api/v1/monitoring/settings", Summary: "The organisation's agent and recording settings.", Status: 200, Response: "MonitoringSettings"},
	{Method: "PUT", Path: "/api/v1/monitoring/settings", Summary: "Change the settings; fields left out keep their value.", Request: "MonitoringSettings", Status: 200, Response: "MonitoringSettings"},
	{Method: "GET", Path: "/api/v1/sessions", Summary: "Recorded sessions, newest first; q searches commands and terminal output (a search page may hold fewer items than limit, even none, and still have a next_cursor: follow it until it is null).", Params: append([]param{
		{Name: "user", In: "query", Description: "Only sessions of this login user.", Type: "string"},
		{Name: "host", In: "query", Description: "Only sessions on this host (hostname or host id).", Type: "string"},
		{Name: "from", In: "query", Description: "Only sessions started at or after this RFC 3339 time.", Type: "string"},
		{Name: "to", In: "query", Description: "Only sessions started before this RFC 3339 time.", Type: "string"},
		{Name: "q", In: "query", Description: "Full-text search over commands and output; hits are in matches.", Type: "string"},
		{Name: "live", In: "query", Description: "true: only sessions that have not ended.", Type: "boolean"},
	}, pageParams...), Status: 200, Response: "MonitoringSession", List: true},
	{Method: "GET", Path: "/api/v1/sessions/{id}", Summary: "One recorded session.", Params: []param{idParam}, Status: 200, Response: "MonitoringSession"},
	{Method: "PATCH", Path: "/api/v1/sessions/{id}", Summary: "Set or clear the legal hold, which keeps a session from being purged.", Params: []param{idParam}, Request: "MonitoringSessionPatch", Status: 200, Response: "MonitoringSession"},
	{Method: "GET", Path: "/api/v1/sessions/{id}/commands", Summary: "The session's commands in order.", Params: append([]param{idParam}, pageParams...), Status: 200, Response: "MonitoringCommand", List: true},
	{Method: "GET", Path: "/api/v1/sessions/{id}/cast", Summary: "The recording as asciicast v2 (application/x-asciicast), commands as \"m\" markers.", Params: []param{idParam}, Status: 200},
	{Method: "GET", Path: "/api/v1/sessions/{id}/verify", Summary: "Recheck the session's chunk hash chain against the trail.", Params: []param{idParam}, Status: 200, Response: "MonitoringVerification"},
	{Method: "GET", Path: "/api/v1/events", Summary: "Events agents reported (logins, sudo, …), newest first.", Params: append([]param{
		{Name: "type", In: "query", Description: "Only events of this type.", Type: "string"},
		{Name: "user", In: "query", Description: "Only events by or about this user.", Type: "string"},
		{Name: "host", In: "query", Description: "Only events on this host (hostname or host id).", Type: "string"},
		{Name: "from", In: "query", Description: "Only events at or after this RFC 3339 time.", Type: "string"},
		{Name: "to", In: "query", Description: "Only events before this RFC 3339 time.", Type: "string"},
	}, pageParams...), Status: 200, Response: "MonitoringEvent", List: true},
}

// monitoringSchemas are the OpenAPI schemas of the monitoring operations.
func monitoringSchemas() map[string]any {
	integer := map[string]any{"type": "integer"}
	boolean := map[string]any{"type": "boolean"}
	number := map[string]any{"type": "number"}
	strs := map[string]any{"type": "array", "items": str()}
	ints := map[string]any{"type": "array", "items": integer}
	return map[string]any{
		"MonitoringHost": obj([]string{"id", "hostname", "labels", "os", "agent_version", "last_heartbeat", "revoked"}, map[string]any{
			"id": str(), "org_id": str(), "hostname": str(), "labels": map[string]any{"type": "object", "additionalProperties": str()},
			"os": str(), "agent_version": str(), "enrolled_at": strFmt("date-time"), "last_heartbeat": nullable(strFmt("date-time")),
			"revoked": boolean, "revoked_at": nullable(strFmt("date-time")), "last_seq": integer,
			"seq_gaps":         map[string]any{"type": "integer", "description": "Batches that arrived after a gap in the sequence."},
			"rejected_batches": map[string]any{"type": "integer", "description": "Batches the server could never accept, kept for inspection; the host quarantines them and goes on."},
			"problems":         integer, "spool_bytes": integer,
		}),
		"MonitoringSettings": obj(nil, map[string]any{
			"heartbeat_seconds": integer, "upload_seconds": integer, "record_input": boolean,
			"redact":      map[string]any{"type": "array", "items": str(), "description": "RE2 patterns masked in output before it leaves the host."},
			"fail_closed": boolean, "shell": str(),
			"recording_retention_days": map[string]any{"type": "integer", "description": "Recordings that ended longer ago are purged (not under legal hold); 0 keeps them."},
		}),
		"MonitoringSession": obj([]string{"id", "host", "user", "source_ip", "started_at", "ended_at", "exit_code"}, map[string]any{
			"id": str(), "host_id": str(), "host": str(), "user": str(), "uid": integer, "tty": str(), "source_ip": str(),
			"started_at": strFmt("date-time"), "ended_at": nullable(strFmt("date-time")), "exit_code": nullable(integer),
			"width": integer, "height": integer, "command": str(), "shell": str(), "input_recorded": boolean, "chunks": integer, "legal_hold": boolean,
			"matches": map[string]any{"type": "array", "items": obj([]string{"offset", "text"}, map[string]any{"offset": number, "text": str()})},
		}),
		"MonitoringSessionPatch": obj([]string{"legal_hold"}, map[string]any{"legal_hold": boolean}),
		"MonitoringCommand": obj([]string{"command", "cwd", "started_at", "ended_at", "exit_code", "offset"}, map[string]any{
			"command": str(), "cwd": str(), "started_at": strFmt("date-time"), "ended_at": nullable(strFmt("date-time")),
			"exit_code": nullable(integer), "offset": map[string]any{"type": "number", "description": "Seconds into the recording."},
		}),
		"MonitoringVerification": obj([]string{"session_id", "ok"}, map[string]any{
			"session_id": str(), "ok": boolean, "chunks": integer, "expected": nullable(integer), "missing": ints, "tampered": ints,
			"final_hash": str(), "trail_hash": str(), "problems": strs,
		}),
		"MonitoringEvent": obj([]string{"id", "type", "time"}, map[string]any{
			"id": str(), "host_id": str(), "type": map[string]any{"type": "string", "description": "One of: " + fmt.Sprint(wire.EventTypes()) + " (newer agents may send others)."},
			"time": strFmt("date-time"), "host": str(), "user": str(), "source_ip": str(), "target_user": str(), "command": str(),
			"tty": str(), "cwd": str(), "method": str(), "success": nullable(boolean), "group": str(),
		}),
	}
}
