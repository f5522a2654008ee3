package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/vigilhq/vigil"
)

// smtpBackend is an in-process SMTP server that records what it receives.
type smtpBackend struct {
	user, pass string
	// tempFail is how many RCPT commands to refuse with 451 first.
	tempFail atomic.Int32

	mu   sync.Mutex
	msgs []smtpMsg
}

type smtpMsg struct {
	from   string
	to     []string
	data   []byte
	authed bool
	tls    bool
}

type smtpSession struct {
	b   *smtpBackend
	c   *gosmtp.Conn
	msg smtpMsg
}

func (b *smtpBackend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	return &smtpSession{b: b, c: c}, nil
}

func (b *smtpBackend) messages() []smtpMsg {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]smtpMsg(nil), b.msgs...)
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.b.user || pass != s.b.pass {
			return gosmtp.ErrAuthFailed
		}
		s.msg.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.b.user != "" && !s.msg.authed {
		return gosmtp.ErrAuthRequired
	}
	s.msg.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if s.b.tempFail.Add(-1) >= 0 {
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = b
	_, s.msg.tls = s.c.TLSConnectionState()
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.msg)
	s.b.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        { s.msg = smtpMsg{authed: s.msg.authed} }
func (s *smtpSession) Logout() error { return nil }

// startSMTP runs b on 127.0.0.1. With serverTLS it offers STARTTLS, or
// with implicit it speaks TLS from the start. It returns the port.
func startSMTP(t *testing.T, b *smtpBackend, serverTLS *tls.Config, implicit, insecureAuth bool) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	srv := gosmtp.NewServer(b)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.AllowInsecureAuth = insecureAuth
	if implicit {
		l = tls.NewListener(l, serverTLS)
	} else {
		srv.TLSConfig = serverTLS
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return port
}

// testCert returns a server configuration for 127.0.0.1 and a client
// configuration trusting it.
func testCert(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

func emailSender(port int, user, pass string, mode SMTPTLS) *Sender {
	s := testSender()
	s.SMTP = SMTPConfig{Host: "127.0.0.1", Port: port, Username: user, Password: pass, From: "Vigil <vigil@example.com>", TLS: mode}
	return s
}

func TestEmailDelivery(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := testCert(t)
	tests := []struct {
		name         string
		user, pass   string // what the server expects
		sendPass     string // what the sender uses
		tempFail     int32
		mode         SMTPTLS
		offerTLS     bool
		implicit     bool
		insecureAuth bool
		status       vigil.DeliveryStatus
		code         int
		attempts     int
		wantTLS      bool
		errSubstr    string
	}{
		{name: "plain auth on localhost", user: "alice", pass: "pw", sendPass: "pw", mode: SMTPStartTLS, insecureAuth: true,
			status: vigil.DeliveryDelivered, code: 250, attempts: 1},
		{name: "no auth", mode: SMTPPlain, status: vigil.DeliveryDelivered, code: 250, attempts: 1},
		{name: "starttls when offered", user: "alice", pass: "pw", sendPass: "pw", mode: SMTPStartTLS, offerTLS: true,
			status: vigil.DeliveryDelivered, code: 250, attempts: 1, wantTLS: true},
		{name: "starttls off", mode: SMTPPlain, offerTLS: true, status: vigil.DeliveryDelivered, code: 250, attempts: 1},
		{name: "implicit tls", user: "alice", pass: "pw", sendPass: "pw", mode: SMTPImplicitTLS, offerTLS: true, implicit: true,
			status: vigil.DeliveryDelivered, code: 250, attempts: 1, wantTLS: true},
		{name: "wrong password not retried", user: "alice", pass: "pw", sendPass: "nope", mode: SMTPStartTLS, insecureAuth: true,
			status: vigil.DeliveryFailed, code: 535, attempts: 1, errSubstr: "AUTH"},
		{name: "auth not offered", user: "alice", pass: "pw", sendPass: "pw", mode: SMTPStartTLS,
			status: vigil.DeliveryFailed, attempts: 1, errSubstr: "does not offer authentication"},
		{name: "451 retried", mode: SMTPPlain, tempFail: 1, status: vigil.DeliveryDelivered, code: 250, attempts: 2},
		{name: "451 until out of attempts", mode: SMTPPlain, tempFail: 10, status: vigil.DeliveryFailed, code: 451, attempts: 3, errSubstr: "451"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &smtpBackend{user: tt.user, pass: tt.pass}
			b.tempFail.Store(tt.tempFail)
			var stls *tls.Config
			if tt.offerTLS {
				stls = serverTLS
			}
			port := startSMTP(t, b, stls, tt.implicit, tt.insecureAuth)
			user := ""
			if tt.sendPass != "" {
				user = "alice"
			}
			s := emailSender(port, user, tt.sendPass, tt.mode)
			s.TLS = clientTLS
			ch := vigil.Channel{ID: "c2", Name: "ops mail", Type: vigil.ChannelEmail, To: []string{"ops@example.com", "Bob <bob@example.org>"}}
			d := s.Send(context.Background(), ch, testNotification())
			if d.Status != tt.status || d.StatusCode != tt.code || d.Attempts != tt.attempts || !strings.Contains(d.Error, tt.errSubstr) {
				t.Fatalf("delivery = %+v, want %s %d after %d with %q", d, tt.status, tt.code, tt.attempts, tt.errSubstr)
			}
			if strings.Contains(d.Error, "nope") {
				t.Errorf("error %q reveals the password", d.Error)
			}
			msgs := b.messages()
			if tt.status == vigil.DeliveryFailed {
				if len(msgs) != 0 {
					t.Errorf("server received %d messages", len(msgs))
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("server received %d messages", len(msgs))
			}
			m := msgs[0]
			if m.from != "vigil@example.com" || strings.Join(m.to, ",") != "ops@example.com,bob@example.org" {
				t.Errorf("envelope = %q -> %q", m.from, m.to)
			}
			if m.tls != tt.wantTLS || m.authed != (tt.user != "") {
				t.Errorf("tls = %v authed = %v", m.tls, m.authed)
			}
			checkAlertMail(t, m.data)
		})
	}
}

func checkAlertMail(t *testing.T, data []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	h := msg.Header
	want := map[string]string{
		"From":                      `"Vigil" <vigil@example.com>`,
		"To":                        "ops@example.com, bob@example.org",
		"Subject":                   "[Vigil] high Root login on db-1",
		"Date":                      "Wed, 04 Mar 2026 05:06:07 +0000",
		"Mime-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !regexp.MustCompile(`^<[0-9a-f]{24}@example\.com>$`).MatchString(h.Get("Message-Id")) {
		t.Errorf("Message-ID = %q", h.Get("Message-Id"))
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"User root logged in over SSH.\r\n", "Reference: ALR-12", "Rule: root-login", "Host: db-1", "User: root",
		"Time: 2026-03-04T05:00:00Z", "source_ip: 203.0.113.9", "View the alert: https://vigil.example.com/alerts/12", "Vigil · Acme"} {
		if !strings.Contains(string(body), s) {
			t.Errorf("body lacks %q:\n%s", s, body)
		}
	}
}

func TestMailHeaderInjection(t *testing.T) {
	t.Parallel()
	b := &smtpBackend{}
	s := emailSender(startSMTP(t, b, nil, false, false), "", "", SMTPPlain)
	ctx := context.Background()

	// A line break in the subject must not start a new header.
	if err := s.Mail(ctx, []string{"ops@example.com"}, "Hi\r\nBcc: evil@example.com\nX-Evil: 1", "line one\n.\nline three"); err != nil {
		t.Fatal(err)
	}
	// A line break in a recipient is refused outright.
	for _, to := range [][]string{{"ops@example.com\r\nBcc: evil@example.com"}, {"ops@example.com", "evil@example.com>\r\nX: y"}, {}, {"not an address"}} {
		if err := s.Mail(ctx, to, "s", "b"); err == nil {
			t.Errorf("Mail to %q succeeded", to)
		}
	}
	msgs := b.messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages", len(msgs))
	}
	if strings.Join(msgs[0].to, ",") != "ops@example.com" {
		t.Errorf("recipients = %q", msgs[0].to)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(msgs[0].data))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Bcc") != "" || msg.Header.Get("X-Evil") != "" {
		t.Errorf("injected headers: %v", msg.Header)
	}
	if got := msg.Header.Get("Subject"); got != "Hi  Bcc: evil@example.com X-Evil: 1" {
		t.Errorf("Subject = %q", got)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if string(body) != "line one\r\n.\r\nline three\r\n" {
		t.Errorf("body = %q (a lone dot must survive)", body)
	}
}

func TestMailEncodesSubject(t *testing.T) {
	t.Parallel()
	b := &smtpBackend{}
	s := emailSender(startSMTP(t, b, nil, false, false), "", "", SMTPPlain)
	subject := "[Vigil] critical Änderung an Zugriffsrechten — prüfen"
	if err := s.Mail(context.Background(), []string{"ops@example.com"}, subject, "Grüße"); err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(b.messages()[0].data))
	if err != nil {
		t.Fatal(err)
	}
	raw := msg.Header.Get("Subject")
	if !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Errorf("raw Subject = %q, want an encoded word", raw)
	}
	if got, err := new(mime.WordDecoder).DecodeHeader(raw); err != nil || got != subject {
		t.Errorf("Subject decodes to %q, %v", got, err)
	}
}

func TestMailCancelled(t *testing.T) {
	t.Parallel()
	b := &smtpBackend{}
	s := emailSender(startSMTP(t, b, nil, false, false), "", "", SMTPPlain)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Mail(ctx, []string{"ops@example.com"}, "s", "b"); err == nil {
		t.Fatal("Mail succeeded with a cancelled context")
	}
	d := s.Send(ctx, vigil.Channel{Type: vigil.ChannelEmail, To: []string{"ops@example.com"}}, testNotification())
	if d.Status != vigil.DeliveryFailed || d.Attempts != 1 || !strings.HasPrefix(d.Error, "cancelled") {
		t.Errorf("delivery = %+v", d)
	}
}

func TestMailUntrustedCertificate(t *testing.T) {
	t.Parallel()
	serverTLS, _ := testCert(t)
	b := &smtpBackend{}
	s := emailSender(startSMTP(t, b, serverTLS, false, false), "", "", SMTPStartTLS)
	// Offered STARTTLS with a certificate nobody trusts: fail rather than
	// fall back to plain text.
	if err := s.Mail(context.Background(), []string{"ops@example.com"}, "s", "b"); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err = %v", err)
	}
	if len(b.messages()) != 0 {
		t.Error("message sent over an unverified connection")
	}
}
