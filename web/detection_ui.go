package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/rules"
)

// The detection pages: alerts (with a live list), rules, notification
// channels, a person's risk score, and the response forms of the session
// player. Every form goes through the store calls the API uses, with the
// API's roles.

func (s *Server) detectionUIRoutes() {
	s.handle("GET", "/alerts", UI, monitoringReaders, s.uiAlerts)
	// EventSource sends the session cookie, so the page's live list reuses
	// the API's stream.
	s.handle("GET", "/alerts/stream", UI, monitoringReaders, s.alertStream)
	s.handle("GET", "/alerts/{id}", UI, monitoringReaders, s.uiAlert)
	s.handle("POST", "/alerts/{id}", UI, alertHandlers, s.uiUpdateAlert)
	s.handle("POST", "/alerts/{id}/respond", UI, responders, s.uiAlertRespond)

	s.handle("GET", "/rules", UI, monitoringReaders, s.uiRules)
	s.handle("POST", "/rules", UI, ruleEditors, s.uiCreateRule)
	s.handle("POST", "/rules/builtin", UI, ruleEditors, s.uiInstallBuiltin)
	s.handle("POST", "/rules/test", UI, ruleEditors, s.uiTestRule)
	s.handle("GET", "/rules/{id}", UI, monitoringReaders, s.uiRule)
	s.handle("POST", "/rules/{id}", UI, ruleEditors, s.uiUpdateRule)
	s.handle("POST", "/rules/{id}/enabled", UI, ruleEditors, s.uiEnableRule)
	s.handle("POST", "/rules/{id}/delete", UI, ruleEditors, s.uiDeleteRule)

	s.handle("GET", "/channels", UI, ruleEditors, s.uiChannels)
	s.handle("POST", "/channels", UI, ruleEditors, s.uiCreateChannel)
	s.handle("POST", "/channels/{id}/delete", UI, ruleEditors, s.uiDeleteChannel)
	s.handle("POST", "/channels/{id}/test", UI, ruleEditors, s.uiTestChannel)

	s.handle("GET", "/people/{id}/risk", UI, monitoringReaders, s.uiPersonRisk)
	s.handle("POST", "/sessions/{id}/respond", UI, responders, s.uiSessionRespond)
}

// dtPageSize is how many alerts a list page shows.
const dtPageSize = 100

// dtDone redirects to to with a confirmation for the page to show.
func dtDone(w http.ResponseWriter, r *http.Request, to, msg string) {
	redirect(w, r, to+"?done="+url.QueryEscape(msg))
}

// recordingURL is the player at the moment of an alert.
func recordingURL(session string, offset float64) string {
	if session == "" {
		return ""
	}
	return "/sessions/" + url.PathEscape(session) + "#t=" + strconv.FormatFloat(offset, 'f', -1, 64)
}

// riskURL is a person's risk page.
func riskURL(user string) string { return "/people/" + url.PathEscape(user) + "/risk" }

// ---- Alerts ----

type alertsPage struct {
	Items      []vigil.Alert
	Next       string
	Filter     vigil.AlertFilter
	Statuses   []vigil.AlertStatus
	Severities []vigil.Severity
}

func (s *Server) uiAlerts(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	q := r.URL.Query()
	v := view{Title: "Alerts", Nav: "alerts", Actor: a, Flash: q.Get("done")}
	d := alertsPage{Statuses: []vigil.AlertStatus{vigil.AlertOpen, vigil.AlertAcknowledged, vigil.AlertClosed}, Severities: vigil.Severities}
	status := http.StatusOK
	f, err := s.alertFilter(r)
	if err == nil {
		d.Filter = f
		d.Items, err = s.store.ListAlerts(r.Context(), a.OrgID, f, q.Get("before"), dtPageSize+1)
	}
	if err != nil {
		if vigil.ErrorCode(err) != vigil.EInvalid {
			s.uiFail(w, r, err)
			return
		}
		v.Error, status = vigil.ErrorMessage(err), http.StatusBadRequest
	}
	if len(d.Items) > dtPageSize {
		d.Items = d.Items[:dtPageSize]
		nq := url.Values{"before": {d.Items[dtPageSize-1].ID}}
		for _, k := range []string{"status", "severity", "rule", "user", "session"} {
			if q.Get(k) != "" {
				nq.Set(k, q.Get(k))
			}
		}
		d.Next = "/alerts?" + nq.Encode()
	}
	v.Data = d
	s.render(w, r, status, "alerts", v)
}

// fieldRow is one labelled value of an event.
type fieldRow struct{ Name, Value string }

// eventFields lists the fields an event carries, in reading order.
func eventFields(e vigil.RuleEvent) []fieldRow {
	var out []fieldRow
	add := func(name, v string) {
		if v != "" {
			out = append(out, fieldRow{name, v})
		}
	}
	add("Type", e.Type)
	if !e.Time.IsZero() {
		add("Time", e.Time.UTC().Format(time.RFC3339))
	}
	add("User", e.User)
	add("Host", e.Host)
	labels := make([]string, 0, len(e.HostLabels))
	for k, v := range e.HostLabels {
		labels = append(labels, k+"="+v)
	}
	slices.Sort(labels)
	add("Host labels", strings.Join(labels, ", "))
	add("Command", e.Command)
	add("Working directory", e.CWD)
	if e.ExitCode != nil {
		add("Exit status", strconv.Itoa(*e.ExitCode))
	}
	add("Source IP", e.SourceIP)
	add("Target user", e.TargetUser)
	add("Session", e.SessionID)
	if e.SessionID != "" {
		add("Offset", strconv.FormatFloat(e.Offset, 'f', 1, 64)+" s")
	}
	return out
}

type alertPage struct {
	Alert      vigil.Alert
	Rule       *vigil.Rule // nil once the rule is deleted
	Fields     []fieldRow
	Recording  string // the player at the alert's moment, "" without a session
	RiskURL    string
	Risk       vigil.PersonRisk
	CanHandle  bool // change the status
	CanRespond bool // end the session, lock the account
	Live       bool // the alert's session is still running
	Locked     bool // the account is locked on the host
	Note       string
}

func (s *Server) alertPage(w http.ResponseWriter, r *http.Request, status int, v view, note string) {
	a := actorOf(r)
	ctx := r.Context()
	al, err := s.store.GetAlert(ctx, a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := alertPage{Alert: al, Fields: eventFields(al.Event), Recording: recordingURL(al.Session, al.Offset), RiskURL: riskURL(al.User),
		CanHandle: slices.Contains(alertHandlers, a.Role), CanRespond: slices.Contains(responders, a.Role), Note: note}
	if rl, err := s.store.GetRule(ctx, a.OrgID, al.Rule); err == nil {
		d.Rule = &rl
	} else if vigil.ErrorCode(err) != vigil.ENotFound {
		s.uiFail(w, r, err)
		return
	}
	if d.Risk, err = s.store.PersonRisk(ctx, a.OrgID, al.User, s.store.Now()); err != nil {
		s.uiFail(w, r, err)
		return
	}
	if al.Session != "" {
		rs, err := s.store.GetRecordedSession(ctx, a.OrgID, al.Session)
		switch {
		case err == nil:
			d.Live = rs.EndedAt == nil
		case vigil.ErrorCode(err) != vigil.ENotFound:
			s.uiFail(w, r, err)
			return
		}
	}
	if d.Locked, err = s.accountLocked(ctx, a.OrgID, al.HostID, al.User); err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Title, v.Nav, v.Actor, v.Data = al.Ref+" "+al.RuleName, "alerts", a, d
	s.render(w, r, status, "alerts_view", v)
}

// accountLocked says whether user is locked on the host.
func (s *Server) accountLocked(ctx context.Context, orgID, hostID, user string) (bool, error) {
	if hostID == "" || user == "" {
		return false, nil
	}
	locks, err := s.store.UserLocks(ctx, orgID, hostID)
	return slices.Contains(locks, user), err
}

func (s *Server) uiAlert(w http.ResponseWriter, r *http.Request) {
	s.alertPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, "")
}

func (s *Server) uiUpdateAlert(w http.ResponseWriter, r *http.Request) {
	upd := vigil.AlertUpdate{Status: vigil.AlertStatus(r.PostFormValue("status")), Note: r.PostFormValue("note")}
	al, err := s.store.UpdateAlert(r.Context(), actorOf(r).OrgID, r.PathValue("id"), upd)
	if err != nil {
		s.dtFailed(w, r, err, func(status int, v view) { s.alertPage(w, r, status, v, upd.Note) })
		return
	}
	dtDone(w, r, "/alerts/"+url.PathEscape(al.ID), al.Ref+" is "+string(al.Status)+".")
}

// dtFailed answers a failed form: a record that is not there is an error
// page, anything else the form's page again with the message.
func (s *Server) dtFailed(w http.ResponseWriter, r *http.Request, err error, rerender func(status int, v view)) {
	if vigil.ErrorCode(err) == vigil.ENotFound {
		s.uiFail(w, r, err)
		return
	}
	s.formFailed(w, r, err, rerender)
}

// responseKind reads a response form's action.
func responseKind(r *http.Request) vigil.ResponseKind {
	return vigil.ResponseKind(r.PostFormValue("action"))
}

// respondDone names what a queued response action will do.
func respondDone(ra vigil.ResponseAction) string {
	switch ra.Kind {
	case vigil.ResponseKillSession:
		return "The session will be ended: the host's agent has been told."
	case vigil.ResponseLockUser:
		return "The account " + ra.User + " is locked on " + ra.Host + "."
	}
	return "The account " + ra.User + " is unlocked on " + ra.Host + "."
}

// respond queues a response action and wakes the host's agent.
func (s *Server) respond(ctx context.Context, orgID string, in vigil.ResponseActionInput) (vigil.ResponseAction, error) {
	ra, err := s.store.RequestResponse(ctx, orgID, in, "")
	if err == nil {
		s.instructions.notify(ra.HostID)
	}
	return ra, err
}

func (s *Server) uiAlertRespond(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	al, err := s.store.GetAlert(r.Context(), a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	in := vigil.ResponseActionInput{Action: responseKind(r), Reason: r.PostFormValue("reason"), Alert: al.ID}
	if in.Action == vigil.ResponseKillSession {
		in.Session = al.Session
	} else {
		in.Host, in.User = al.HostID, al.User
	}
	ra, err := s.respond(r.Context(), a.OrgID, in)
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.alertPage(w, r, status, v, "") })
		return
	}
	dtDone(w, r, "/alerts/"+url.PathEscape(al.ID), respondDone(ra))
}

// ---- The session player's detection panel ----

// sessionDetection is what the session player shows of detection: the
// session's alerts, the user's risk and the response forms.
type sessionDetection struct {
	Alerts     []vigil.Alert
	Risk       vigil.PersonRisk
	RiskURL    string
	CanRespond bool
	Live       bool
	Locked     bool
}

func (s *Server) sessionDetection(ctx context.Context, a vigil.Actor, rs vigil.RecordedSession) (sessionDetection, error) {
	d := sessionDetection{RiskURL: riskURL(rs.User), CanRespond: slices.Contains(responders, a.Role), Live: rs.EndedAt == nil}
	var err error
	if d.Alerts, err = s.store.ListAlerts(ctx, a.OrgID, vigil.AlertFilter{Session: rs.ID}, "", 500); err != nil {
		return d, err
	}
	if d.Risk, err = s.store.PersonRisk(ctx, a.OrgID, rs.User, s.store.Now()); err != nil {
		return d, err
	}
	if d.CanRespond {
		d.Locked, err = s.accountLocked(ctx, a.OrgID, rs.HostID, rs.User)
	}
	return d, err
}

func (s *Server) uiSessionRespond(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	rs, err := s.store.GetRecordedSession(r.Context(), a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	in := vigil.ResponseActionInput{Action: responseKind(r), Reason: r.PostFormValue("reason")}
	if in.Action == vigil.ResponseKillSession {
		in.Session = rs.ID
	} else {
		in.Host, in.User = rs.HostID, rs.User
	}
	ra, err := s.respond(r.Context(), a.OrgID, in)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	dtDone(w, r, "/sessions/"+url.PathEscape(rs.ID), respondDone(ra))
}

// ---- Risk ----

// riskRow is an alert with the points it adds to the score.
type riskRow struct {
	vigil.Alert
	Points string
}

func (s *Server) uiPersonRisk(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	now := s.store.Now()
	pr, err := s.store.PersonRisk(r.Context(), a.OrgID, r.PathValue("id"), now)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	rows := make([]riskRow, 0, len(pr.Alerts))
	for _, al := range pr.Alerts {
		p := vigil.RiskContribution(al.Severity, al.CreatedAt, now) * float64(max(1, min(al.Occurrences, 10)))
		rows = append(rows, riskRow{Alert: al, Points: strconv.FormatFloat(p, 'f', 1, 64)})
	}
	s.render(w, r, http.StatusOK, "person_risk", view{Title: "Risk of " + pr.User, Nav: "alerts", Actor: a,
		Data: map[string]any{"Risk": pr, "Rows": rows, "Days": int(vigil.RiskWindow.Hours() / 24), "Weights": vigil.SeverityWeight, "Severities": vigil.Severities}})
}

// ---- Rules ----

// ruleForm holds the rule form as typed.
type ruleForm struct {
	Name, Description, Expression, Severity, Controls string
	Actions                                           []string
	Count, Window                                     string
	GroupBy                                           []string
	Throttle                                          string
	Enabled                                           bool
}

// HasAction says whether the form ticks the action.
func (f ruleForm) HasAction(a vigil.RuleAction) bool { return slices.Contains(f.Actions, string(a)) }

// HasGroup says whether the form groups by the field.
func (f ruleForm) HasGroup(g string) bool { return slices.Contains(f.GroupBy, g) }

func readRuleForm(r *http.Request) ruleForm {
	v := r.PostFormValue
	return ruleForm{Name: v("name"), Description: v("description"), Expression: v("expression"), Severity: v("severity"),
		Controls: v("controls"), Actions: r.PostForm["actions"], Count: strings.TrimSpace(v("threshold_count")),
		Window: strings.TrimSpace(v("threshold_window")), GroupBy: r.PostForm["group_by"], Throttle: strings.TrimSpace(v("throttle")),
		Enabled: v("enabled") == "on"}
}

func formFromRule(rl vigil.Rule) ruleForm {
	f := ruleForm{Name: rl.Name, Description: rl.Description, Expression: rl.Expression, Severity: string(rl.Severity),
		Controls: strings.Join(rl.Controls, ", "), Enabled: rl.Enabled}
	for _, a := range rl.Actions {
		f.Actions = append(f.Actions, string(a))
	}
	if rl.Throttle != 0 {
		f.Throttle = rl.Throttle.String()
	}
	if t := rl.Threshold; t != nil {
		f.Count, f.Window, f.GroupBy = strconv.Itoa(t.Count), t.Window.String(), slices.Clone(t.GroupBy)
	}
	return f
}

// formDuration reads a duration field such as "5m"; empty is zero.
func formDuration(field, v string) (vigil.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, vigil.Invalid(field, "must look like 90s, 5m or 1h")
	}
	return vigil.Duration(d), nil
}

func (f ruleForm) input() (vigil.RuleInput, error) {
	in := vigil.RuleInput{Name: f.Name, Description: f.Description, Expression: f.Expression, Severity: vigil.Severity(f.Severity), Enabled: f.Enabled}
	in.Controls = strings.FieldsFunc(f.Controls, func(c rune) bool { return c == ',' || c == '\n' || c == '\r' })
	for i, c := range in.Controls {
		in.Controls[i] = strings.TrimSpace(c)
	}
	in.Controls = slices.DeleteFunc(in.Controls, func(c string) bool { return c == "" })
	for _, a := range f.Actions {
		in.Actions = append(in.Actions, vigil.RuleAction(a))
	}
	var err error
	if in.Throttle, err = formDuration("throttle", f.Throttle); err != nil {
		return in, err
	}
	if f.Count != "" || f.Window != "" {
		t := vigil.RuleThreshold{GroupBy: f.GroupBy}
		if t.Count, err = strconv.Atoi(f.Count); err != nil {
			return in, vigil.Invalid("threshold.count", "must be a whole number")
		}
		if t.Window, err = formDuration("threshold.window", f.Window); err != nil {
			return in, err
		}
		in.Threshold = &t
	}
	return in, nil
}

// ruleTest is a dry run shown on the rules page.
type ruleTest struct {
	Expression string
	Last       int
	Ran        bool
	Evaluated  int
	Matches    []vigil.RuleEvent
}

type rulesPage struct {
	Items       []vigil.Rule
	CanEdit     bool
	Form        ruleForm
	Test        ruleTest
	Severities  []vigil.Severity
	Actions     []vigil.RuleAction
	GroupFields []string
	Builtin     int // rules in the built-in pack
	Installed   int // of them, installed
	Reference   string
}

func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request, status int, v view, form ruleForm, test ruleTest) {
	a := actorOf(r)
	d := rulesPage{CanEdit: slices.Contains(ruleEditors, a.Role), Form: form, Test: test, Severities: vigil.Severities,
		Actions: vigil.RuleActions, GroupFields: vigil.RuleGroupFields, Builtin: len(rules.BuiltinRules()), Reference: rules.FieldReference}
	var err error
	if d.Items, err = s.store.ListRules(r.Context(), a.OrgID, "", 10000); err != nil {
		s.uiFail(w, r, err)
		return
	}
	for _, rl := range d.Items {
		if rl.Builtin != "" {
			d.Installed++
		}
	}
	v.Title, v.Nav, v.Actor, v.Data = "Detection rules", "rules", a, d
	s.render(w, r, status, "rules", v)
}

// newRuleForm is the create form's starting state.
func newRuleForm() ruleForm {
	return ruleForm{Severity: string(vigil.SeverityMedium), Actions: []string{string(vigil.ActionAlert)}, Enabled: true}
}

func (s *Server) uiRules(w http.ResponseWriter, r *http.Request) {
	s.rulesPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, newRuleForm(), ruleTest{Last: 1000})
}

func (s *Server) uiCreateRule(w http.ResponseWriter, r *http.Request) {
	form := readRuleForm(r)
	in, err := form.input()
	var rl vigil.Rule
	if err == nil {
		rl, err = s.store.CreateRule(r.Context(), actorOf(r).OrgID, in, "")
	}
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.rulesPage(w, r, status, v, form, ruleTest{Last: 1000}) })
		return
	}
	dtDone(w, r, "/rules/"+url.PathEscape(rl.ID), "Created "+rl.Ref+" "+rl.Name+".")
}

func (s *Server) uiInstallBuiltin(w http.ResponseWriter, r *http.Request) {
	rs, err := s.store.InstallBuiltinRules(r.Context(), actorOf(r).OrgID, nil)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	msg := fmt.Sprintf("Installed %d built-in rules.", len(rs))
	if len(rs) == 0 {
		msg = "Every built-in rule is already installed."
	}
	dtDone(w, r, "/rules", msg)
}

func (s *Server) uiTestRule(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	test := ruleTest{Expression: r.PostFormValue("expression"), Last: 1000}
	var err error
	if l := strings.TrimSpace(r.PostFormValue("last")); l != "" {
		if test.Last, err = strconv.Atoi(l); err != nil || test.Last < 1 || test.Last > maxDryRunEvents {
			err = vigil.Invalid("last", "must be from 1 to %d", maxDryRunEvents)
		}
	}
	var evs []vigil.RuleEvent
	if err == nil {
		evs, err = s.store.RecentRuleEvents(r.Context(), a.OrgID, test.Last)
	}
	if err == nil {
		test.Matches, err = rules.DryRun(test.Expression, evs)
	}
	if err != nil {
		s.formFailed(w, r, err, func(status int, v view) { s.rulesPage(w, r, status, v, newRuleForm(), test) })
		return
	}
	test.Ran, test.Evaluated = true, len(evs)
	s.rulesPage(w, r, http.StatusOK, view{}, newRuleForm(), test)
}

type rulePage struct {
	Rule        vigil.Rule
	CanEdit     bool
	Form        ruleForm
	Severities  []vigil.Severity
	Actions     []vigil.RuleAction
	GroupFields []string
}

func (s *Server) rulePage(w http.ResponseWriter, r *http.Request, status int, v view, form *ruleForm) {
	a := actorOf(r)
	rl, err := s.store.GetRule(r.Context(), a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d := rulePage{Rule: rl, CanEdit: slices.Contains(ruleEditors, a.Role), Form: formFromRule(rl),
		Severities: vigil.Severities, Actions: vigil.RuleActions, GroupFields: vigil.RuleGroupFields}
	if form != nil {
		d.Form = *form
	}
	v.Title, v.Nav, v.Actor, v.Data = rl.Ref+" "+rl.Name, "rules", a, d
	s.render(w, r, status, "rules_view", v)
}

func (s *Server) uiRule(w http.ResponseWriter, r *http.Request) {
	s.rulePage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil)
}

func (s *Server) uiUpdateRule(w http.ResponseWriter, r *http.Request) {
	form := readRuleForm(r)
	in, err := form.input()
	var rl vigil.Rule
	if err == nil {
		rl, err = s.store.UpdateRule(r.Context(), actorOf(r).OrgID, r.PathValue("id"), in)
	}
	if err != nil {
		s.dtFailed(w, r, err, func(status int, v view) { s.rulePage(w, r, status, v, &form) })
		return
	}
	dtDone(w, r, "/rules/"+url.PathEscape(rl.ID), "Saved "+rl.Ref+".")
}

func (s *Server) uiEnableRule(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	cur, err := s.store.GetRule(r.Context(), a.OrgID, r.PathValue("id"))
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	in := cur.Input()
	in.Enabled = r.PostFormValue("enabled") == "on"
	rl, err := s.store.UpdateRule(r.Context(), a.OrgID, cur.ID, in)
	if err != nil {
		s.dtFailed(w, r, err, func(status int, v view) { s.rulePage(w, r, status, v, nil) })
		return
	}
	msg := rl.Ref + " is disabled."
	if rl.Enabled {
		msg = rl.Ref + " is enabled."
	}
	dtDone(w, r, "/rules/"+url.PathEscape(rl.ID), msg)
}

func (s *Server) uiDeleteRule(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteRule(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.uiFail(w, r, err)
		return
	}
	dtDone(w, r, "/rules", "The rule is deleted.")
}

// ---- Channels ----

// channelForm holds a create-channel form as typed.
type channelForm struct {
	Name, Type, URL, Secret, MinSeverity, To, Address, Protocol string
	Enabled                                                     bool
}

func readChannelForm(r *http.Request) channelForm {
	v := r.PostFormValue
	return channelForm{Name: v("name"), Type: v("type"), URL: v("url"), Secret: v("secret"), MinSeverity: v("min_severity"),
		To: v("to"), Address: v("address"), Protocol: v("protocol"), Enabled: v("enabled") == "on"}
}

func (f channelForm) input() vigil.ChannelInput {
	enabled := f.Enabled
	return vigil.ChannelInput{Name: f.Name, Type: vigil.ChannelType(f.Type), URL: f.URL, Secret: f.Secret, MinSeverity: vigil.Severity(f.MinSeverity),
		To:      vigil.TextList(strings.FieldsFunc(f.To, func(c rune) bool { return c == ',' || c == '\n' || c == '\r' })),
		Address: f.Address, Protocol: f.Protocol, Enabled: &enabled}
}

// channelTest is a test message's outcome.
type channelTest struct {
	Channel  string
	Delivery vigil.Delivery
}

type channelsPage struct {
	Items      []vigil.Channel
	Form       channelForm
	Types      []vigil.ChannelType
	Severities []vigil.Severity
	Secret     string // a new webhook's generated secret, shown once
	SecretFor  string
	Test       *channelTest
}

func (s *Server) channelsPage(w http.ResponseWriter, r *http.Request, status int, v view, fill func(*channelsPage)) {
	a := actorOf(r)
	d := channelsPage{Form: channelForm{Enabled: true, MinSeverity: string(vigil.SeverityLow)}, Types: vigil.ChannelTypes, Severities: vigil.Severities}
	cs, err := s.store.ListChannels(r.Context(), a.OrgID, "", 1000)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	d.Items = redacted(cs)
	if fill != nil {
		fill(&d)
	}
	v.Title, v.Nav, v.Actor, v.Data = "Notification channels", "channels", a, d
	s.render(w, r, status, "channels", v)
}

func (s *Server) uiChannels(w http.ResponseWriter, r *http.Request) {
	s.channelsPage(w, r, http.StatusOK, view{Flash: r.URL.Query().Get("done")}, nil)
}

func (s *Server) uiCreateChannel(w http.ResponseWriter, r *http.Request) {
	form := readChannelForm(r)
	in := form.input()
	c, err := s.store.CreateChannel(r.Context(), actorOf(r).OrgID, in)
	if err != nil {
		// The secret is never sent back into the page.
		form.Secret = ""
		s.formFailed(w, r, err, func(status int, v view) {
			s.channelsPage(w, r, status, v, func(d *channelsPage) { d.Form = form })
		})
		return
	}
	if c.Type == vigil.ChannelWebhook && in.Secret == "" {
		// The generated secret is shown once, on this answer only.
		s.channelsPage(w, r, http.StatusOK, view{Flash: "Added the channel " + c.Name + "."}, func(d *channelsPage) { d.Secret, d.SecretFor = c.Secret, c.Name })
		return
	}
	dtDone(w, r, "/channels", "Added the channel "+c.Name+".")
}

func (s *Server) uiDeleteChannel(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteChannel(r.Context(), actorOf(r).OrgID, r.PathValue("id")); err != nil {
		s.uiFail(w, r, err)
		return
	}
	dtDone(w, r, "/channels", "The channel is deleted.")
}

func (s *Server) uiTestChannel(w http.ResponseWriter, r *http.Request) {
	c, d, err := s.testChannel(r)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.channelsPage(w, r, http.StatusOK, view{}, func(p *channelsPage) { p.Test = &channelTest{Channel: c.Name, Delivery: d} })
}
