package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

// SMTPTLS says how the SMTP connection is encrypted.
type SMTPTLS string

// The SMTP encryption modes.
const (
	// SMTPPlain never encrypts (smtp://…?starttls=off).
	SMTPPlain SMTPTLS = "none"
	// SMTPStartTLS upgrades with STARTTLS when the server offers it
	// (smtp://, the default).
	SMTPStartTLS SMTPTLS = "starttls"
	// SMTPImplicitTLS speaks TLS from the first byte (smtps://).
	SMTPImplicitTLS SMTPTLS = "tls"
)

// SMTPConfig is the mail relay. Its String method hides the password, so
// it can be logged.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	// From is the sender address, possibly with a display name.
	From string
	// TLS is how the connection is encrypted; see SMTPStartTLS.
	TLS SMTPTLS
}

// Configured reports whether a relay is set.
func (c SMTPConfig) Configured() bool { return c.Host != "" }

// String returns the configuration as an smtp URL with the password
// replaced by "xxxxx".
func (c SMTPConfig) String() string {
	if !c.Configured() {
		return ""
	}
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.TLS == SMTPImplicitTLS {
		u.Scheme = "smtps"
	}
	switch {
	case c.Password != "":
		u.User = url.UserPassword(c.Username, "xxxxx")
	case c.Username != "":
		u.User = url.User(c.Username)
	}
	q := url.Values{}
	if c.From != "" {
		q.Set("from", c.From)
	}
	if c.TLS == SMTPPlain {
		q.Set("starttls", "off")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// ParseSMTPURL parses a relay given as smtp://user:pass@host:port (STARTTLS
// when offered, port 25) or smtps://… (implicit TLS, port 465). Query
// parameters: from=<address> (default vigil@<host>) and, for smtp://,
// starttls=off. Errors never quote the URL, which holds the password.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	var c SMTPConfig
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return c, vigil.Invalid("smtp_url", "must be a URL such as smtp://user:password@host:587")
	}
	switch u.Scheme {
	case "smtp":
		c.TLS, c.Port = SMTPStartTLS, 25
	case "smtps":
		c.TLS, c.Port = SMTPImplicitTLS, 465
	default:
		return c, vigil.Invalid("smtp_url", "scheme must be smtp or smtps")
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return c, vigil.Invalid("smtp_url", "must be smtp://host:port with no path")
	}
	c.Host = u.Hostname()
	bare, _, _ := strings.Cut(c.Host, "%")
	if c.Host == "" || strings.ContainsAny(c.Host, " \t\r\n") || (strings.Contains(c.Host, ":") && net.ParseIP(bare) == nil) {
		return c, vigil.Invalid("smtp_url", "must name a host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, vigil.Invalid("smtp_url", "port must be between 1 and 65535")
		}
		c.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return c, vigil.Invalid("smtp_url", "port must be between 1 and 65535")
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		if c.Username == "" && c.Password != "" {
			return c, vigil.Invalid("smtp_url", "a password needs a user name")
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return c, vigil.Invalid("smtp_url", "has a malformed query")
	}
	for k, v := range q {
		if len(v) != 1 {
			return c, vigil.Invalid("smtp_url", "parameter %q must be given once", k)
		}
		switch k {
		case "from":
			a, err := mail.ParseAddress(v[0])
			if err != nil {
				return c, vigil.Invalid("smtp_url", "from must be an email address")
			}
			c.From = a.String()
		case "starttls":
			switch {
			case u.Scheme == "smtps":
				return c, vigil.Invalid("smtp_url", "starttls applies to smtp:// only")
			case v[0] == "off":
				c.TLS = SMTPPlain
			case v[0] != "on":
				return c, vigil.Invalid("smtp_url", "starttls must be on or off")
			}
		default:
			return c, vigil.Invalid("smtp_url", "unknown parameter %q (known: from, starttls)", k)
		}
	}
	if c.From == "" {
		c.From = "vigil@" + c.Host
		if net.ParseIP(c.Host) != nil {
			c.From = "vigil@[" + c.Host + "]"
		}
		// A host that is no valid mail domain (a zoned IPv6 address, say)
		// still needs a sender the relay will take.
		if _, err := mail.ParseAddress(c.From); err != nil {
			c.From = "vigil@localhost"
		}
	}
	return c, nil
}

// EmailContent returns the subject and plain-text body of n:
// "[Vigil] <severity> <title>", then the text, the details and the link.
func EmailContent(n vigil.Notification) (subject, body string) {
	title := n.Title
	if n.Test {
		title = "[Test] " + title
	}
	subject = fmt.Sprintf("[Vigil] %s %s", n.Severity, title)
	var b strings.Builder
	if n.Text != "" {
		b.WriteString(n.Text + "\n\n")
	}
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	line("Severity", string(n.Severity))
	line("Reference", n.Ref)
	line("Rule", n.Rule)
	line("Host", n.Host)
	line("User", n.User)
	if !n.Time.IsZero() {
		line("Time", n.Time.UTC().Format(time.RFC3339))
	}
	for _, k := range slices.Sorted(maps.Keys(n.Fields)) {
		line(k, n.Fields[k])
	}
	if n.Link != "" {
		fmt.Fprintf(&b, "\nView the alert: %s\n", n.Link)
	}
	b.WriteString("\n-- \nVigil")
	if n.OrgName != "" {
		b.WriteString(" · " + n.OrgName)
	}
	b.WriteString("\n")
	return subject, b.String()
}

// Mail sends a plain-text email through the configured relay, once,
// without retrying. Header values are stripped of line breaks and every
// recipient must be a valid address, so no input can add a header.
func (s *Sender) Mail(ctx context.Context, to []string, subject, body string) error {
	_, err := s.mail(ctx, to, subject, body)
	return err
}

// mail sends one message and returns the last SMTP reply code seen on
// failure (0 when the failure was not a reply).
func (s *Sender) mail(ctx context.Context, to []string, subject, body string) (code int, err error) {
	c := s.SMTP
	if !c.Configured() {
		return 0, permanentError{errors.New("no SMTP relay configured")}
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return 0, permanentError{errors.New("SMTP sender address is invalid")}
	}
	var rcpts []string
	for _, t := range to {
		a, err := mail.ParseAddress(t)
		if err != nil || strings.ContainsAny(a.Address, "\r\n") {
			return 0, permanentError{fmt.Errorf("recipient %q is not an email address", headerValue(t))}
		}
		rcpts = append(rcpts, a.Address)
	}
	if len(rcpts) == 0 {
		return 0, permanentError{errors.New("no recipients")}
	}
	msg, err := s.message(from, rcpts, subject, body)
	if err != nil {
		return 0, permanentError{err}
	}

	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	tlsConf := s.tlsConfig()
	var conn net.Conn
	if c.TLS == SMTPImplicitTLS {
		conn, err = (&tls.Dialer{Config: tlsConf}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return 0, fmt.Errorf("connect to SMTP relay: %w", err)
	}
	// Closing the connection is the only way to interrupt net/smtp.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		conn.Close()
		return smtpFail("greeting", err)
	}
	defer cl.Close()
	if err := cl.Hello(s.hostname()); err != nil {
		return smtpFail("EHLO", err)
	}
	if c.TLS == SMTPStartTLS {
		if ok, _ := cl.Extension("STARTTLS"); ok {
			if err := cl.StartTLS(tlsConf); err != nil {
				return smtpFail("STARTTLS", err)
			}
		}
	}
	if c.Username != "" {
		if ok, _ := cl.Extension("AUTH"); !ok {
			return 0, permanentError{errors.New("SMTP relay does not offer authentication")}
		}
		// net/smtp's PLAIN refuses to send the password over an
		// unencrypted connection to anything but localhost.
		if err := cl.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			return smtpFail("AUTH", err)
		}
	}
	if err := cl.Mail(from.Address); err != nil {
		return smtpFail("MAIL FROM", err)
	}
	for _, r := range rcpts {
		if err := cl.Rcpt(r); err != nil {
			return smtpFail("RCPT TO", err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return smtpFail("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpFail("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpFail("DATA", err)
	}
	// The message was accepted; a failed QUIT loses nothing.
	_ = cl.Quit()
	return 250, nil
}

// smtpFail classifies an SMTP error: a 5xx reply is permanent, a 4xx reply
// or a broken connection is worth retrying.
func smtpFail(step string, err error) (int, error) {
	var te *textproto.Error
	if errors.As(err, &te) {
		err = fmt.Errorf("SMTP %s: %d %s", step, te.Code, te.Msg)
		if te.Code >= 500 {
			return te.Code, permanentError{err}
		}
		return te.Code, err
	}
	if strings.Contains(err.Error(), "unencrypted connection") {
		return 0, permanentError{fmt.Errorf("SMTP %s: refusing to send the password over an unencrypted connection", step)}
	}
	return 0, fmt.Errorf("SMTP %s: %w", step, err)
}

func (s *Sender) tlsConfig() *tls.Config {
	var c *tls.Config
	if s.TLS != nil {
		c = s.TLS.Clone()
	} else {
		c = &tls.Config{}
	}
	c.ServerName = s.SMTP.Host
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// message builds the RFC 5322 message, body quoted-printable so long lines
// and non-ASCII text survive any relay.
func (s *Sender) message(from *mail.Address, to []string, subject, body string) ([]byte, error) {
	var id [12]byte
	_, _ = rand.Read(id[:])
	domain := "vigil"
	if _, d, ok := strings.Cut(from.Address, "@"); ok {
		domain = d
	}
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", headerValue(from.String()))
	hdr("To", headerValue(strings.Join(to, ", ")))
	hdr("Subject", mime.QEncoding.Encode("utf-8", headerValue(subject)))
	hdr("Date", s.now().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+headerValue(domain)+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(body, "\r\n", "\n"))); err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	return b.Bytes(), nil
}

// headerValue makes s safe as one header line: line breaks and other
// control characters become spaces.
func headerValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
