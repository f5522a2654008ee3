// Package alerting turns monitoring events into alerts: it evaluates each
// organisation's rules on ingest, records the alerts, fans them out to the
// notification channels and to live subscribers, and queues the response
// actions rules ask for.
package alerting

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/notify"
	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/store"
)

// maxDeliveries bounds the deliveries in flight; a slow channel holds one
// slot per alert and never blocks rule evaluation.
const maxDeliveries = 32

// Options configure a Service.
type Options struct {
	Sender    *notify.Sender // nil: a default sender (no SMTP relay)
	PublicURL string         // prefix of links in notifications
	Logger    *slog.Logger
	// OnResponse is called with the host id of each queued response
	// action, to wake the agent's long poll.
	OnResponse func(hostID string)
}

// Service evaluates rules and dispatches alerts.
type Service struct {
	st   *store.Store
	opts Options
	hub  Hub

	mu      sync.Mutex
	engines map[string]*orgEngine

	slots    chan struct{}
	inflight sync.WaitGroup
}

type orgEngine struct {
	version int64
	engine  *rules.Engine
}

// New returns a Service over st.
func New(st *store.Store, o Options) *Service {
	if o.Sender == nil {
		o.Sender = &notify.Sender{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.OnResponse == nil {
		o.OnResponse = func(string) {}
	}
	return &Service{st: st, opts: o, engines: map[string]*orgEngine{}, slots: make(chan struct{}, maxDeliveries)}
}

// Hub is where live alert subscribers listen.
func (s *Service) Hub() *Hub { return &s.hub }

// Wait blocks until every delivery in flight is done (tests, shutdown).
func (s *Service) Wait() { s.inflight.Wait() }

// engine returns the organisation's compiled rules, rebuilding them when
// the rule set changed (on this server or another).
func (s *Service) engine(ctx context.Context, orgID string) (*rules.Engine, error) {
	v, err := s.st.RuleVersion(ctx, orgID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	e := s.engines[orgID]
	s.mu.Unlock()
	if e != nil && e.version == v {
		return e.engine, nil
	}
	stored, v, err := s.st.EnabledRules(ctx, orgID)
	if err != nil {
		return nil, err
	}
	// Rules were compiled when saved; one that no longer compiles (after an
	// upgrade, say) is left out and logged rather than stopping the others.
	rs := stored[:0:0]
	for _, r := range stored {
		if _, err := rules.Compile(r.Expression); err != nil {
			s.opts.Logger.Error("rule does not compile; skipped", slog.String("rule", r.Ref), slog.String("error", err.Error()))
			continue
		}
		rs = append(rs, r)
	}
	eng, err := rules.NewEngineWithOptions(rs, rules.Options{
		FirstSeen: func(key string) bool {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			seen, err := s.st.FirstSeen(ctx, orgID, key)
			if err != nil {
				s.opts.Logger.Error("first_seen", slog.String("error", err.Error()))
			}
			return seen
		},
		OnError: func(re rules.RuleError) {
			s.opts.Logger.Warn("rule evaluation failed", slog.String("rule", re.Rule.Ref), slog.String("error", re.Err.Error()))
		},
	})
	if err != nil {
		return nil, fmt.Errorf("compile rules: %w", err)
	}
	s.mu.Lock()
	s.engines[orgID] = &orgEngine{version: v, engine: eng}
	s.mu.Unlock()
	return eng, nil
}

// Process evaluates the organisation's rules against events just stored,
// raising alerts for matches. Notifications go out in the background.
func (s *Service) Process(ctx context.Context, orgID string, events []vigil.RuleEvent) error {
	if len(events) == 0 {
		return nil
	}
	eng, err := s.engine(ctx, orgID)
	if err != nil {
		return err
	}
	if eng.Len() == 0 {
		return nil
	}
	var errs []string
	for _, ev := range events {
		for _, m := range eng.Evaluate(ev) {
			// A throttled match adds an occurrence to the alert it repeats.
			if err := s.raise(ctx, orgID, m); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("raise alerts: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (s *Service) raise(ctx context.Context, orgID string, m rules.Match) error {
	a, created, err := s.st.RaiseAlert(ctx, orgID, m.Rule, m.Group, m.Event)
	if err != nil || !created {
		return err
	}
	s.hub.Publish(orgID, a)
	for _, act := range m.Rule.Actions {
		var in vigil.ResponseActionInput
		switch act {
		case vigil.ActionKillSession:
			if m.Event.SessionID == "" {
				continue
			}
			in = vigil.ResponseActionInput{Action: vigil.ResponseKillSession, Session: m.Event.SessionID}
		case vigil.ActionLockUser:
			if m.Event.User == "" || m.Event.HostID == "" {
				continue
			}
			in = vigil.ResponseActionInput{Action: vigil.ResponseLockUser, Host: m.Event.HostID, User: m.Event.User}
		default:
			continue
		}
		in.Reason, in.Alert = a.Ref+": "+m.Rule.Name, a.ID
		sys := vigil.WithActor(ctx, vigil.Actor{Type: vigil.ActorSystem, ID: "rules", OrgID: orgID})
		ra, err := s.st.RequestResponse(sys, orgID, in, "rule:"+m.Rule.ID)
		if err != nil {
			s.opts.Logger.Warn("rule response refused", slog.String("alert", a.Ref), slog.String("error", err.Error()))
			continue
		}
		s.opts.OnResponse(ra.HostID)
	}
	return s.dispatch(ctx, orgID, a)
}

// Notification describes an alert for channels.
func (s *Service) Notification(orgName string, a vigil.Alert) vigil.Notification {
	what := a.Event.Command
	if what == "" {
		what = a.Event.Type
	}
	text := fmt.Sprintf("%s on %s by %s: %s", a.RuleName, a.Host, a.User, what)
	if a.Session != "" {
		text += fmt.Sprintf(" (session %s at %.1f s)", a.Session, a.Offset)
	}
	return vigil.Notification{Title: a.RuleName, Severity: a.Severity, Text: text, Link: strings.TrimRight(s.opts.PublicURL, "/") + "/alerts/" + a.ID,
		Ref: a.Ref, Rule: a.RuleName, Host: a.Host, User: a.User, Time: a.Event.Time, OrgName: orgName,
		Fields: map[string]string{"session": a.Session, "offset": fmt.Sprintf("%.3f", a.Offset), "controls": strings.Join(a.Controls, ",")}}
}

// dispatch sends a new alert to every enabled channel that takes its
// severity, each in its own goroutine, and logs each delivery.
func (s *Service) dispatch(ctx context.Context, orgID string, a vigil.Alert) error {
	chs, err := s.st.ListChannels(ctx, orgID, "", 1000)
	if err != nil {
		return err
	}
	org, err := s.st.GetOrg(ctx, orgID)
	if err != nil {
		return err
	}
	n := s.Notification(org.Name, a)
	for _, ch := range chs {
		if !s.opts.Sender.Accepts(ch, a.Severity) {
			continue
		}
		select {
		case s.slots <- struct{}{}:
		default:
			// Saturated: record the drop rather than wait.
			d := vigil.Delivery{ChannelID: ch.ID, Channel: ch.Name, Status: vigil.DeliveryFailed, Error: "too many deliveries in flight", At: time.Now().UTC()}
			if err := s.st.RecordDelivery(ctx, a.ID, d); err != nil {
				s.opts.Logger.Error("record delivery", slog.String("error", err.Error()))
			}
			continue
		}
		s.inflight.Add(1)
		go func() {
			defer s.inflight.Done()
			defer func() { <-s.slots }()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			d := s.opts.Sender.Send(ctx, ch, n)
			if err := s.st.RecordDelivery(ctx, a.ID, d); err != nil {
				s.opts.Logger.Error("record delivery", slog.String("alert", a.Ref), slog.String("error", err.Error()))
			}
		}()
	}
	return nil
}

// TestChannel sends a test message through one channel and waits for it.
func (s *Service) TestChannel(ctx context.Context, orgName string, ch vigil.Channel) vigil.Delivery {
	n := vigil.Notification{Title: "Vigil test message", Severity: vigil.SeverityLow, Text: "This is a test of the channel " + ch.Name + ".",
		Link: strings.TrimRight(s.opts.PublicURL, "/") + "/channels", Ref: "TEST", Rule: "test", Time: time.Now().UTC(), OrgName: orgName, Test: true}
	return s.opts.Sender.Send(ctx, ch, n)
}
