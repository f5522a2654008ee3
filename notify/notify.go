// Package notify delivers alert notifications to channels: signed
// webhooks, Slack incoming webhooks, email over SMTP and syslog (RFC 5424
// carrying CEF). It holds no state beyond its configuration; the caller
// stores the returned delivery log.
package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/vigilhq/vigil"
)

// Defaults for a zero Sender.
const (
	DefaultAttempts = 3
	DefaultBackoff  = 500 * time.Millisecond
	DefaultTimeout  = 10 * time.Second
	// maxBackoff caps one wait, so a large Attempts cannot stall a sender.
	maxBackoff = 30 * time.Second
)

// FacilityAuthpriv is the default syslog facility (10): alerts name users
// and hosts, and syslog daemons route authpriv to files only
// administrators read (/var/log/auth.log, /var/log/secure).
const FacilityAuthpriv = 10

// Sender delivers notifications. Its zero value works: every field has a
// default. A Sender is safe for concurrent use once configured.
type Sender struct {
	// HTTP sends webhooks; nil uses a client with DefaultTimeout that does
	// not follow redirects (a redirected POST would silently become a GET).
	HTTP *http.Client
	// SMTP is the mail relay for email channels and Mail.
	SMTP SMTPConfig
	// TLS is the base TLS configuration for SMTP (for example private root
	// CAs); nil uses the system roots. ServerName is always set to SMTP.Host.
	TLS *tls.Config
	// Attempts is how many times a delivery is tried in all; 0 means
	// DefaultAttempts.
	Attempts int
	// Backoff is the wait before the second attempt, doubled for each
	// further one and jittered; 0 means DefaultBackoff.
	Backoff time.Duration
	// Timeout bounds one SMTP or syslog attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Hostname names this server in syslog messages and the SMTP greeting;
	// "" means os.Hostname.
	Hostname string
	// Facility is the syslog facility (0–23); 0 means FacilityAuthpriv,
	// since facility 0 (kern) is reserved for the kernel.
	Facility int
	// Vendor, Product and Version fill the CEF header; empty Vendor and
	// Product mean "Vigil", empty Version means "dev".
	Vendor, Product, Version string
}

// Accepts reports whether ch should receive an alert of severity sev: it
// must be enabled and sev at least its minimum severity.
func (s *Sender) Accepts(ch vigil.Channel, sev vigil.Severity) bool {
	if !ch.Enabled {
		return false
	}
	return sev.Rank() >= ch.MinSeverity.Rank() && sev.Rank() > 0
}

// Send delivers n to ch, retrying transient failures with exponential
// backoff and jitter, and returns the delivery log entry. It never panics
// and returns once ctx is done or the attempts are spent.
func (s *Sender) Send(ctx context.Context, ch vigil.Channel, n vigil.Notification) (d vigil.Delivery) {
	d = vigil.Delivery{ChannelID: ch.ID, Channel: ch.Name, Status: vigil.DeliveryFailed}
	defer func() {
		if r := recover(); r != nil {
			d.Status, d.Error = vigil.DeliveryFailed, "internal error while sending"
		}
		d.At = s.now()
	}()
	var try func(context.Context) (int, error)
	switch ch.Type {
	case vigil.ChannelWebhook:
		try = func(ctx context.Context) (int, error) { return s.webhook(ctx, ch, n) }
	case vigil.ChannelSlack:
		try = func(ctx context.Context) (int, error) { return s.slack(ctx, ch, n) }
	case vigil.ChannelEmail:
		subject, body := EmailContent(n)
		try = func(ctx context.Context) (int, error) { return s.mail(ctx, ch.To, subject, body) }
	case vigil.ChannelSyslog:
		try = func(ctx context.Context) (int, error) { return 0, s.syslog(ctx, ch, n) }
	default:
		d.Error = fmt.Sprintf("unknown channel type %q", ch.Type)
		return d
	}
	attempts := s.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	for i := 1; i <= attempts; i++ {
		d.Attempts = i
		code, err := try(ctx)
		d.StatusCode = code
		if err == nil {
			d.Status, d.Error = vigil.DeliveryDelivered, ""
			return d
		}
		d.Error = errorText(err)
		if ctx.Err() != nil {
			d.Error = "cancelled: " + d.Error
			return d
		}
		var p permanentError
		if errors.As(err, &p) || i == attempts {
			return d
		}
		if !sleep(ctx, s.backoff(i)) {
			d.Error = "cancelled: " + d.Error
			return d
		}
	}
	return d
}

// permanentError marks a failure that retrying cannot fix, such as a 400
// response or an SMTP 5xx reply.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// errorText describes err for the delivery log. A *url.Error quotes the
// request URL, which for Slack is a credential, so only its cause is kept.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	return err.Error()
}

// backoff returns the wait after attempt i (1-based): base·2^(i-1), capped,
// with the upper half jittered so many failing alerts do not retry in step.
func (s *Sender) backoff(i int) time.Duration {
	d := s.Backoff
	if d <= 0 {
		d = DefaultBackoff
	}
	for ; i > 1 && d < maxBackoff; i-- {
		d *= 2
	}
	d = min(d, maxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// sleep waits d or until ctx is done, reporting whether the wait finished.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

// hostname returns a name fit for a syslog HOSTNAME or SMTP EHLO: printable
// ASCII without spaces, or "-" when unknown.
func (s *Sender) hostname() string {
	h := s.Hostname
	if h == "" {
		h, _ = os.Hostname()
	}
	h = strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' {
			return -1
		}
		return r
	}, h)
	if len(h) > 255 {
		h = h[:255]
	}
	if h == "" {
		return "-"
	}
	return h
}

// withTimeout bounds one non-HTTP attempt by Timeout as well as ctx.
func (s *Sender) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout())
}
