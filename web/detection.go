package web

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/rules"
)

// Detection: rules, alerts and their live stream, channels, risk scores.

var (
	// ruleEditors write rules and channels.
	ruleEditors = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager}
	// alertHandlers acknowledge and close alerts.
	alertHandlers = []vigil.Role{vigil.RoleAdmin, vigil.RoleISMSManager}
)

// maxDryRunEvents bounds how many stored events a dry run reads.
const maxDryRunEvents = 10000

func (s *Server) detectionRoutes() {
	s.handle("GET", "/api/v1/rules", API, monitoringReaders, s.apiListRules)
	s.handle("POST", "/api/v1/rules", API, ruleEditors, s.apiCreateRule)
	s.handle("GET", "/api/v1/rules/builtin", API, monitoringReaders, s.apiBuiltinRules)
	s.handle("POST", "/api/v1/rules/builtin", API, ruleEditors, s.apiInstallBuiltin)
	s.handle("GET", "/api/v1/rules/reference", API, monitoringReaders, s.apiRuleReference)
	s.handle("POST", "/api/v1/rules/test", API, ruleEditors, s.apiTestRule)
	s.handle("GET", "/api/v1/rules/{id}", API, monitoringReaders, s.apiGetRule)
	s.handle("PUT", "/api/v1/rules/{id}", API, ruleEditors, s.apiPutRule)
	s.handle("PATCH", "/api/v1/rules/{id}", API, ruleEditors, s.apiPatchRule)
	s.handle("DELETE", "/api/v1/rules/{id}", API, ruleEditors, s.apiDeleteRule)

	s.handle("GET", "/api/v1/alerts", API, monitoringReaders, s.apiListAlerts)
	s.handle("GET", "/api/v1/alerts/stream", API, monitoringReaders, s.alertStream)
	s.handle("GET", "/api/v1/alerts/{id}", API, monitoringReaders, s.apiGetAlert)
	s.handle("PATCH", "/api/v1/alerts/{id}", API, alertHandlers, s.apiUpdateAlert)

	s.handle("GET", "/api/v1/channels", API, ruleEditors, s.apiListChannels)
	s.handle("POST", "/api/v1/channels", API, ruleEditors, s.apiCreateChannel)
	s.handle("GET", "/api/v1/channels/{id}", API, ruleEditors, s.apiGetChannel)
	s.handle("PUT", "/api/v1/channels/{id}", API, ruleEditors, s.apiPutChannel)
	s.handle("DELETE", "/api/v1/channels/{id}", API, ruleEditors, s.apiDeleteChannel)
	s.handle("POST", "/api/v1/channels/{id}/test", API, ruleEditors, s.apiTestChannel)

	s.handle("GET", "/api/v1/people/{id}/risk", API, monitoringReaders, s.apiPersonRisk)
}

func (s *Server) apiListRules(w http.ResponseWriter, r *http.Request) {
	listed(s, w, r, func(v vigil.Rule) string { return v.ID }, func(after string, limit int) ([]vigil.Rule, error) {
		return s.store.ListRules(r.Context(), actorOf(r).OrgID, after, limit)
	})
}

func (s *Server) apiCreateRule(w http.ResponseWriter, r *http.Request) {
	// A rule is enabled unless the request says otherwise.
	in := vigil.RuleInput{Enabled: true}
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	v, err := s.store.CreateRule(r.Context(), actorOf(r).OrgID, in, "")
	if err == nil {
		w.Header().Set("Location", "/api/v1/rules/"+v.ID)
	}
	respond(s, w, r, http.StatusCreated, v, err)
}

// BuiltinRule is one rule of the built-in pack.
type BuiltinRule struct {
	ID string `json:"id"`
	vigil.RuleInput
	Installed string `json:"installed"` // the organisation's copy (rule id), "" when not installed
}

func (s *Server) apiBuiltinRules(w http.ResponseWriter, r *http.Request) {
	have := map[string]string{}
	rs, err := s.store.ListRules(r.Context(), actorOf(r).OrgID, "", 10000)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	for _, v := range rs {
		if v.Builtin != "" {
			have[v.Builtin] = v.ID
		}
	}
	var out []BuiltinRule
	for _, b := range rules.BuiltinRules() {
		out = append(out, BuiltinRule{ID: b.Builtin, RuleInput: b.Input(), Installed: have[b.Builtin]})
	}
	writeJSON(w, http.StatusOK, List[BuiltinRule]{Items: out})
}

func (s *Server) apiInstallBuiltin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IDs []string `json:"ids"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	rs, err := s.store.InstallBuiltinRules(r.Context(), actorOf(r).OrgID, in.IDs)
	respond(s, w, r, http.StatusCreated, List[vigil.Rule]{Items: nonNilList(rs)}, err)
}

func nonNilList[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

func (s *Server) apiRuleReference(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"markdown": rules.FieldReference})
}

// RuleTest is a dry run's answer.
type RuleTest struct {
	Evaluated int               `json:"evaluated"`
	Matches   []vigil.RuleEvent `json:"matches"`
}

func (s *Server) apiTestRule(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Expression string `json:"expression"`
		Last       int    `json:"last"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	if in.Last == 0 {
		in.Last = 1000
	}
	if in.Last < 1 || in.Last > maxDryRunEvents {
		s.apiError(w, r, vigil.Invalid("last", "must be from 1 to %d", maxDryRunEvents))
		return
	}
	evs, err := s.store.RecentRuleEvents(r.Context(), actorOf(r).OrgID, in.Last)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	m, err := rules.DryRun(in.Expression, evs)
	respond(s, w, r, http.StatusOK, RuleTest{Evaluated: len(evs), Matches: nonNilList(m)}, err)
}

func (s *Server) apiGetRule(w http.ResponseWriter, r *http.Request) {
	v, err := s.store.GetRule(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	respond(s, w, r, http.StatusOK, v, err)
}

func (s *Server) apiPutRule(w http.ResponseWriter, r *http.Request) {
	var in vigil.RuleInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	v, err := s.store.UpdateRule(r.Context(), actorOf(r).OrgID, r.PathValue("id"), in)
	respond(s, w, r, http.StatusOK, v, err)
}

// apiPatchRule changes the fields given over the rule as it is.
func (s *Server) apiPatchRule(w http.ResponseWriter, r *http.Request) {
	cur, err := s.store.GetRule(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	in := cur.Input()
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	v, err := s.store.UpdateRule(r.Context(), actorOf(r).OrgID, cur.ID, in)
	respond(s, w, r, http.StatusOK, v, err)
}

func (s *Server) apiDeleteRule(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteRule(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) alertFilter(r *http.Request) (vigil.AlertFilter, error) {
	q := r.URL.Query()
	f := vigil.AlertFilter{Status: vigil.AlertStatus(q.Get("status")), Severity: vigil.Severity(q.Get("severity")), Rule: q.Get("rule"), User: q.Get("user"), Session: q.Get("session")}
	if f.Status != "" && !slices.Contains([]vigil.AlertStatus{vigil.AlertOpen, vigil.AlertAcknowledged, vigil.AlertClosed}, f.Status) {
		return f, vigil.Invalid("status", "must be open, acknowledged or closed")
	}
	if f.Severity != "" && f.Severity.Rank() == 0 {
		return f, vigil.Invalid("severity", "must be low, medium, high or critical")
	}
	return f, nil
}

func (s *Server) apiListAlerts(w http.ResponseWriter, r *http.Request) {
	f, err := s.alertFilter(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	listed(s, w, r, func(a vigil.Alert) string { return a.ID }, func(before string, limit int) ([]vigil.Alert, error) {
		return s.store.ListAlerts(r.Context(), actorOf(r).OrgID, f, before, limit)
	})
}

func (s *Server) apiGetAlert(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.GetAlert(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	respond(s, w, r, http.StatusOK, a, err)
}

func (s *Server) apiUpdateAlert(w http.ResponseWriter, r *http.Request) {
	var upd vigil.AlertUpdate
	if err := decodeJSON(w, r, &upd); err != nil {
		s.apiError(w, r, err)
		return
	}
	a, err := s.store.UpdateAlert(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd)
	respond(s, w, r, http.StatusOK, a, err)
}

// alertStream sends the organisation's new alerts as Server-Sent Events
// (event "alert", data the alert as JSON), with a comment every 20 s to
// keep proxies from closing the connection.
func (s *Server) alertStream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	sub := s.alerts.Hub().Subscribe(actorOf(r).OrgID)
	defer sub.Close()
	// A stream outlives the server's write timeout.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		s.logger.DebugContext(r.Context(), "stream deadline", slog.String("error", err.Error()))
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, ": connected\n\n"); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	keep := time.NewTicker(20 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case a := <-sub.C:
			b, err := json.Marshal(a)
			if err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, "id: %s\nevent: alert\ndata: %s\n\n", a.ID, b); err != nil {
				return
			}
		}
		if rc.Flush() != nil {
			return
		}
	}
}

func redacted(cs []vigil.Channel) []vigil.Channel {
	out := make([]vigil.Channel, len(cs))
	for i, c := range cs {
		out[i] = c.Redacted()
	}
	return out
}

func (s *Server) apiListChannels(w http.ResponseWriter, r *http.Request) {
	listed(s, w, r, func(c vigil.Channel) string { return c.ID }, func(after string, limit int) ([]vigil.Channel, error) {
		cs, err := s.store.ListChannels(r.Context(), actorOf(r).OrgID, after, limit)
		return redacted(cs), err
	})
}

// CreatedChannel shows a webhook's generated secret once.
type CreatedChannel struct {
	vigil.Channel
	Secret string `json:"secret,omitempty"`
}

func (s *Server) apiCreateChannel(w http.ResponseWriter, r *http.Request) {
	var in vigil.ChannelInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	c, err := s.store.CreateChannel(r.Context(), actorOf(r).OrgID, in)
	out := CreatedChannel{Channel: c.Redacted()}
	if c.Type == vigil.ChannelWebhook && in.Secret == "" {
		out.Secret = c.Secret
	}
	respond(s, w, r, http.StatusCreated, out, err)
}

func (s *Server) apiGetChannel(w http.ResponseWriter, r *http.Request) {
	c, err := s.store.GetChannel(r.Context(), actorOf(r).OrgID, r.PathValue("id"))
	respond(s, w, r, http.StatusOK, c.Redacted(), err)
}

func (s *Server) apiPutChannel(w http.ResponseWriter, r *http.Request) {
	var in vigil.ChannelInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.apiError(w, r, err)
		return
	}
	c, err := s.store.UpdateChannel(r.Context(), actorOf(r).OrgID, r.PathValue("id"), in)
	respond(s, w, r, http.StatusOK, c.Redacted(), err)
}

func (s *Server) apiDeleteChannel(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteChannel(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiTestChannel(w http.ResponseWriter, r *http.Request) {
	_, d, err := s.testChannel(r)
	respond(s, w, r, http.StatusOK, d, err)
}

// testChannel sends a test message through the channel of the path and
// records it in the trail.
func (s *Server) testChannel(r *http.Request) (vigil.Channel, vigil.Delivery, error) {
	a := actorOf(r)
	c, err := s.store.GetChannel(r.Context(), a.OrgID, r.PathValue("id"))
	if err != nil {
		return c, vigil.Delivery{}, err
	}
	org, err := s.store.GetOrg(r.Context(), a.OrgID)
	if err != nil {
		return c, vigil.Delivery{}, err
	}
	d := s.alerts.TestChannel(r.Context(), org.Name, c)
	if err := s.store.RecordEvent(r.Context(), a.OrgID, "channel.test", "channel", c.ID, d); err != nil {
		s.logger.ErrorContext(r.Context(), "record channel test", slog.String("error", err.Error()))
	}
	return c, d, nil
}

func (s *Server) apiPersonRisk(w http.ResponseWriter, r *http.Request) {
	pr, err := s.store.PersonRisk(r.Context(), actorOf(r).OrgID, r.PathValue("id"), s.store.Now())
	respond(s, w, r, http.StatusOK, pr, err)
}

// WaitAlerts blocks until the alert deliveries in flight are done, for
// tests and shutdown.
func (s *Server) WaitAlerts() { s.alerts.Wait() }
