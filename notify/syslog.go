package notify

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/vigilhq/vigil"
)

// cefMaxValue bounds one CEF extension value; ArcSight truncates msg at
// 1023 characters, and a UDP datagram must stay small.
const cefMaxValue = 1023

// cefMaxHeader bounds the signature and name header fields (ArcSight
// keeps 512 characters of a name).
const cefMaxHeader = 512

// SyslogSeverity maps a Vigil severity to a syslog severity: critical→2
// (crit), high→3 (err), medium→4 (warning), anything else→5 (notice).
func SyslogSeverity(sev vigil.Severity) int {
	switch sev.Rank() {
	case 4:
		return 2
	case 3:
		return 3
	case 2:
		return 4
	default:
		return 5
	}
}

// CEFSeverity maps a Vigil severity onto CEF's 0–10 scale: low→3,
// medium→5, high→8, critical→10, unknown→0.
func CEFSeverity(sev vigil.Severity) int {
	return [...]int{0, 3, 5, 8, 10}[min(max(sev.Rank(), 0), 4)]
}

// CEF returns n as an ArcSight Common Event Format record:
// CEF:0|vendor|product|version|signature|name|severity|extension.
func (s *Sender) CEF(n vigil.Notification) string {
	sig := n.Rule
	if sig == "" {
		sig = "alert"
	}
	header := []string{
		CEFHeaderEscape(orDefault(s.Vendor, "Vigil")),
		CEFHeaderEscape(orDefault(s.Product, "Vigil")),
		CEFHeaderEscape(orDefault(s.Version, "dev")),
		CEFHeaderEscape(truncate(sig, cefMaxHeader)),
		CEFHeaderEscape(truncate(n.Title, cefMaxHeader)),
		strconv.Itoa(CEFSeverity(n.Severity)),
	}
	t := n.Time
	if t.IsZero() {
		t = s.now()
	}
	cat := "alert"
	if n.Test {
		cat = "test"
	}
	var ext []string
	add := func(k, v string) {
		if v != "" {
			ext = append(ext, k+"="+CEFValueEscape(truncate(v, cefMaxValue)))
		}
	}
	add("rt", strconv.FormatInt(t.UnixMilli(), 10))
	add("cat", cat)
	add("suser", n.User)
	add("dhost", n.Host)
	if n.Ref != "" {
		add("cs1Label", "ref")
		add("cs1", n.Ref)
	}
	if n.OrgName != "" {
		add("cs2Label", "org")
		add("cs2", n.OrgName)
	}
	add("msg", n.Text)
	add("request", n.Link)
	return "CEF:0|" + strings.Join(header, "|") + "|" + strings.Join(ext, " ")
}

// CEFHeaderEscape escapes a CEF header field: backslash and pipe get a
// backslash; line breaks, which a header may not hold, become spaces.
func CEFHeaderEscape(s string) string {
	return cefHeaderEscaper.Replace(s)
}

var cefHeaderEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\r\n", " ", "\r", " ", "\n", " ")

// CEFValueEscape escapes a CEF extension value: backslash and equals sign
// get a backslash, line breaks become \n and \r.
func CEFValueEscape(s string) string {
	return cefValueEscaper.Replace(s)
}

var cefValueEscaper = strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\r\n", `\n`, "\n", `\n`, "\r", `\r`)

// SyslogMessage returns n as an RFC 5424 message with a CEF body:
// <PRI>1 TIMESTAMP HOSTNAME vigil - alert - CEF:0|…
// The body has no byte-order mark (RFC 5424 MSG-ANY): many collectors
// would show it as part of the CEF prefix.
func (s *Sender) SyslogMessage(n vigil.Notification) []byte {
	fac := s.Facility
	if fac <= 0 || fac > 23 {
		fac = FacilityAuthpriv
	}
	pri := fac*8 + SyslogSeverity(n.Severity)
	ts := s.now().UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	return fmt.Appendf(nil, "<%d>1 %s %s vigil - alert - %s", pri, ts, s.hostname(), s.CEF(n))
}

func (s *Sender) syslog(ctx context.Context, ch vigil.Channel, n vigil.Notification) error {
	network := ch.Protocol
	if network == "" {
		network = vigil.SyslogUDP
	}
	if network != vigil.SyslogUDP && network != vigil.SyslogTCP {
		return permanentError{fmt.Errorf("unknown syslog protocol %q", network)}
	}
	msg := s.SyslogMessage(n)
	if network == vigil.SyslogTCP {
		// RFC 6587 octet counting: the frame survives newlines in the message.
		msg = append([]byte(strconv.Itoa(len(msg))+" "), msg...)
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, network, ch.Address)
	if err != nil {
		return fmt.Errorf("connect to syslog collector: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write(msg); err != nil {
		return fmt.Errorf("send to syslog collector: %w", err)
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
