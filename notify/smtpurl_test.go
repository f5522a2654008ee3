package notify

import (
	"errors"
	"strings"
	"testing"

	"github.com/vigilhq/vigil"
)

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want SMTPConfig
		err  string // substring of the error; "" when valid
	}{
		{raw: "smtp://user:pass@mail.example.com:587",
			want: SMTPConfig{Host: "mail.example.com", Port: 587, Username: "user", Password: "pass", From: "vigil@mail.example.com", TLS: SMTPStartTLS}},
		{raw: "smtp://mail.example.com",
			want: SMTPConfig{Host: "mail.example.com", Port: 25, From: "vigil@mail.example.com", TLS: SMTPStartTLS}},
		{raw: " smtps://u%40x:p%40ss%3A@mail.example.com/?from=Alerts%20%3Calerts@example.com%3E ",
			want: SMTPConfig{Host: "mail.example.com", Port: 465, Username: "u@x", Password: "p@ss:", From: `"Alerts" <alerts@example.com>`, TLS: SMTPImplicitTLS}},
		{raw: "smtp://relay:2525?starttls=off&from=a@example.com",
			want: SMTPConfig{Host: "relay", Port: 2525, From: "<a@example.com>", TLS: SMTPPlain}},
		{raw: "smtp://relay?starttls=on",
			want: SMTPConfig{Host: "relay", Port: 25, From: "vigil@relay", TLS: SMTPStartTLS}},
		{raw: "smtp://[::1]:25",
			want: SMTPConfig{Host: "::1", Port: 25, From: "vigil@[::1]", TLS: SMTPStartTLS}},
		{raw: "smtp://10.0.0.5", want: SMTPConfig{Host: "10.0.0.5", Port: 25, From: "vigil@[10.0.0.5]", TLS: SMTPStartTLS}},
		{raw: "smtp://[fe80::1%25eth0]", want: SMTPConfig{Host: "fe80::1%eth0", Port: 25, From: "vigil@localhost", TLS: SMTPStartTLS}},
		{raw: "smtp://user@relay", want: SMTPConfig{Host: "relay", Port: 25, Username: "user", From: "vigil@relay", TLS: SMTPStartTLS}},

		{raw: "", err: "scheme"},
		{raw: "mail.example.com:25", err: "scheme"},
		{raw: "http://mail.example.com", err: "scheme"},
		{raw: "smtp://", err: "host"},
		{raw: "smtp://:pw@", err: "host"},
		{raw: "smtp://::1", err: "host"},
		{raw: "smtp://host:0", err: "port"},
		{raw: "smtp://host:65536", err: "port"},
		{raw: "smtp://host:", err: "port"},
		{raw: "smtp://host:abc", err: "URL"},
		{raw: "smtp://host/inbox", err: "path"},
		{raw: "smtp:host", err: "path"},
		{raw: "smtp://:secretpw@host", err: "user name"},
		{raw: "smtp://host?from=not-an-address", err: "from"},
		{raw: "smtp://host?from=a@b.c&from=d@e.f", err: "once"},
		{raw: "smtp://host?starttls=maybe", err: "on or off"},
		{raw: "smtps://host?starttls=off", err: "smtp:// only"},
		{raw: "smtp://host?tls=1", err: "unknown parameter"},
		{raw: "smtp://host?a=%zz", err: "query"},
		{raw: "smtp://us er:hunter2 x@host", err: "URL"},
	}
	for _, tt := range tests {
		got, err := ParseSMTPURL(tt.raw)
		if tt.err != "" {
			var e *vigil.Error
			if !errors.As(err, &e) || e.Code != vigil.EInvalid || e.Fields[0].Field != "smtp_url" || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseSMTPURL(%q) err = %v, want invalid smtp_url containing %q", tt.raw, err, tt.err)
			}
			for _, pw := range []string{"secretpw", "hunter2"} {
				if err != nil && strings.Contains(err.Error(), pw) {
					t.Errorf("ParseSMTPURL(%q) error reveals the password: %v", tt.raw, err)
				}
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
	}
}

func TestSMTPConfigString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		c    SMTPConfig
		want string
	}{
		{SMTPConfig{}, ""},
		{SMTPConfig{Host: "mail.example.com", Port: 587, Username: "u", Password: "hunter2", From: "a@example.com", TLS: SMTPStartTLS},
			"smtp://u:xxxxx@mail.example.com:587?from=a%40example.com"},
		{SMTPConfig{Host: "::1", Port: 465, TLS: SMTPImplicitTLS}, "smtps://[::1]:465"},
		{SMTPConfig{Host: "relay", Port: 25, Username: "u", TLS: SMTPPlain}, "smtp://u@relay:25?starttls=off"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func FuzzParseSMTPURL(f *testing.F) {
	f.Add("smtp://user:pass@mail.example.com:587?from=a@example.com")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := ParseSMTPURL(raw)
		if err != nil {
			return
		}
		if c.Host == "" || c.Port < 1 || c.Port > 65535 || c.From == "" {
			t.Fatalf("ParseSMTPURL(%q) = %+v", raw, c)
		}
		s := c.String()
		if c.Password != "" && strings.Contains(s, ":"+c.Password+"@") && c.Password != "xxxxx" {
			t.Fatalf("String() %q reveals the password", s)
		}
		// What String prints parses back to the same relay.
		back, err := ParseSMTPURL(s)
		if err != nil {
			t.Fatalf("ParseSMTPURL(%q) (from %q): %v", s, raw, err)
		}
		if back.Host != c.Host || back.Port != c.Port || back.TLS != c.TLS || back.Username != c.Username {
			t.Fatalf("round trip of %q: %+v != %+v", raw, back, c)
		}
	})
}
