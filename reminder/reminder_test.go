package reminder_test

import (
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/notify"
	"github.com/vigilhq/vigil/reminder"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
)

// mailbox is an in-process SMTP server that keeps what it receives.
type mailbox struct {
	mu   sync.Mutex
	msgs []string // "to|data"
}

type mailSession struct {
	b    *mailbox
	to   []string
	from string
}

func (b *mailbox) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &mailSession{b: b}, nil }
func (s *mailSession) Mail(from string, _ *gosmtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, strings.Join(s.to, ",")+"|"+string(data))
	s.b.mu.Unlock()
	return nil
}
func (s *mailSession) Reset()        { s.to = nil }
func (s *mailSession) Logout() error { return nil }

func (b *mailbox) received() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.msgs...)
}

func startMailbox(t *testing.T) (*mailbox, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &mailbox{}
	srv := gosmtp.NewServer(b)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return b, fmt.Sprintf("smtp://%s?starttls=off&from=vigil@acme.test", l.Addr())
}

func TestReminders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		box, smtpURL := startMailbox(t)
		cfg, err := notify.ParseSMTPURL(smtpURL)
		if err != nil {
			t.Fatal(err)
		}
		mailer := &notify.Sender{SMTP: cfg}
		ctx := vigil.WithActor(context.Background(), vigil.SystemActor("test"))
		org, _ := st.CreateOrg(ctx, "Acme")
		add := func(email string, role vigil.Role) vigil.Member {
			m, err := st.AddMember(ctx, org.ID, vigil.NewMember{Email: email, Name: email, Role: role})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		add("ciso@acme.test", vigil.RoleISMSManager)
		add("aud@acme.test", vigil.RoleInternalAuditor)
		add("owner@acme.test", vigil.RoleEmployee)
		a, err := st.CreateAudit(ctx, org.ID, vigil.AuditInput{Type: vigil.AuditInternal, Title: "Logging audit", PlannedStart: "2026-12-01",
			LeadAuditor: "aud@acme.test", Scope: vigil.AuditScope{Requirements: []string{"A.8.15"}}}, store.AuditWrite{})
		if err != nil {
			t.Fatal(err)
		}
		f, err := st.CreateFinding(ctx, org.ID, vigil.FindingInput{Audit: a.ID, Requirement: "A.8.15", Kind: vigil.FindingMinorNC})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateCorrectiveAction(ctx, org.ID, vigil.CorrectiveActionInput{Finding: f.ID, Action: "Longer retention", Owner: "owner@acme.test", DueDate: "2026-11-25"}); err != nil {
			t.Fatal(err)
		}
		n, err := reminder.Run(ctx, st, mailer, "2026-11-28", "https://vigil.acme.test")
		if err != nil || n != 3 {
			t.Fatalf("sent %d (%v); want 3 (auditor, owner, escalation to the CISO)", n, err)
		}
		byTo := map[string]string{}
		for _, m := range box.received() {
			to, data, _ := strings.Cut(m, "|")
			decoded, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(data)))
			if err != nil {
				t.Fatal(err)
			}
			byTo[to] = string(decoded)
		}
		for to, want := range map[string]string{
			"aud@acme.test":   "AUD-1 internal audit: Logging audit",
			"owner@acme.test": "CA-1 corrective action due: Longer retention — OVERDUE since 2026-11-25",
			"ciso@acme.test":  "https://vigil.acme.test/corrective-actions/",
		} {
			if !strings.Contains(byTo[to], want) {
				t.Errorf("mail to %s lacks %q:\n%s", to, want, byTo[to])
			}
		}
		// Once a day.
		if n, err := reminder.Run(ctx, st, mailer, "2026-11-28", "https://vigil.acme.test"); err != nil || n != 0 {
			t.Fatalf("second run sent %d (%v)", n, err)
		}
	})
}
