package vigil

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestChannelInputNormalize(t *testing.T) {
	t.Parallel()
	off := false
	tests := []struct {
		name  string
		in    ChannelInput
		field string // the field the error names; "" when valid
		check func(t *testing.T, out ChannelInput)
	}{
		{name: "webhook defaults", in: ChannelInput{Name: " SOC ", Type: "webhook", URL: " https://hooks.example.com/x?a=1 "},
			check: func(t *testing.T, out ChannelInput) {
				if out.Name != "SOC" || out.URL != "https://hooks.example.com/x?a=1" || out.MinSeverity != "low" || !*out.Enabled || out.Secret != "" {
					t.Errorf("got %+v", out)
				}
			}},
		{name: "webhook keeps secret, drops other fields", in: ChannelInput{Name: "w", Type: "WEBHOOK", URL: "http://10.0.0.1:8080/h", Secret: " s3 ", To: TextList{"a@example.com"}, Address: "x:1", Protocol: "tcp", MinSeverity: "High", Enabled: &off},
			check: func(t *testing.T, out ChannelInput) {
				if out.Type != ChannelWebhook || out.Secret != "s3" || out.To != nil || out.Address != "" || out.Protocol != "" || out.MinSeverity != "high" || *out.Enabled {
					t.Errorf("got %+v", out)
				}
			}},
		{name: "slack drops secret", in: ChannelInput{Name: "s", Type: "slack", URL: "https://hooks.slack.com/services/T/B/X", Secret: "x"},
			check: func(t *testing.T, out ChannelInput) {
				if out.Secret != "" {
					t.Errorf("secret kept: %q", out.Secret)
				}
			}},
		{name: "email", in: ChannelInput{Name: "e", Type: "email", URL: "https://ignored", To: TextList{"Ops <ops@example.com>", "", "ops@example.com", "b@example.org"}},
			check: func(t *testing.T, out ChannelInput) {
				if !slices.Equal(out.To, TextList{"ops@example.com", "b@example.org"}) || out.URL != "" {
					t.Errorf("got %+v", out)
				}
			}},
		{name: "syslog default udp", in: ChannelInput{Name: "l", Type: "syslog", Address: "siem.example.com:514"},
			check: func(t *testing.T, out ChannelInput) {
				if out.Protocol != SyslogUDP || out.Address != "siem.example.com:514" {
					t.Errorf("got %+v", out)
				}
			}},
		{name: "syslog ipv6 tcp", in: ChannelInput{Name: "l", Type: "syslog", Address: "[::1]:6514", Protocol: "TCP"},
			check: func(t *testing.T, out ChannelInput) {
				if out.Protocol != SyslogTCP {
					t.Errorf("got %+v", out)
				}
			}},

		{name: "no name", in: ChannelInput{Type: "webhook", URL: "https://x.example"}, field: "name"},
		{name: "bad type", in: ChannelInput{Name: "x", Type: "pager"}, field: "type"},
		{name: "bad severity", in: ChannelInput{Name: "x", Type: "webhook", URL: "https://x.example", MinSeverity: "urgent"}, field: "min_severity"},
		{name: "webhook empty url", in: ChannelInput{Name: "x", Type: "webhook"}, field: "url"},
		{name: "webhook ftp", in: ChannelInput{Name: "x", Type: "webhook", URL: "ftp://files.example.com/x"}, field: "url"},
		{name: "webhook javascript", in: ChannelInput{Name: "x", Type: "webhook", URL: "javascript:alert(1)"}, field: "url"},
		{name: "webhook empty host", in: ChannelInput{Name: "x", Type: "webhook", URL: "https:///path"}, field: "url"},
		{name: "webhook no scheme", in: ChannelInput{Name: "x", Type: "webhook", URL: "hooks.example.com/x"}, field: "url"},
		{name: "webhook opaque", in: ChannelInput{Name: "x", Type: "webhook", URL: "http:hooks.example.com"}, field: "url"},
		{name: "webhook bad escape", in: ChannelInput{Name: "x", Type: "webhook", URL: "http://x.example/%zz"}, field: "url"},
		{name: "webhook too long", in: ChannelInput{Name: "x", Type: "webhook", URL: "https://x.example/" + strings.Repeat("a", 3000)}, field: "url"},
		{name: "slack file", in: ChannelInput{Name: "x", Type: "slack", URL: "file:///etc/passwd"}, field: "url"},
		{name: "email none", in: ChannelInput{Name: "x", Type: "email", To: TextList{" "}}, field: "to"},
		{name: "email bad", in: ChannelInput{Name: "x", Type: "email", To: TextList{"ok@example.com", "not an address"}}, field: "to[1]"},
		{name: "email injection", in: ChannelInput{Name: "x", Type: "email", To: TextList{"a@example.com\r\nBcc: evil@example.com"}}, field: "to[0]"},
		{name: "syslog no port", in: ChannelInput{Name: "x", Type: "syslog", Address: "siem.example.com"}, field: "address"},
		{name: "syslog port 0", in: ChannelInput{Name: "x", Type: "syslog", Address: "siem:0"}, field: "address"},
		{name: "syslog port big", in: ChannelInput{Name: "x", Type: "syslog", Address: "siem:65536"}, field: "address"},
		{name: "syslog no host", in: ChannelInput{Name: "x", Type: "syslog", Address: ":514"}, field: "address"},
		{name: "syslog bad protocol", in: ChannelInput{Name: "x", Type: "syslog", Address: "siem:514", Protocol: "tls"}, field: "protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := tt.in.Normalize()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Normalize: %v", err)
				}
				tt.check(t, out)
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != EInvalid || len(e.Fields) != 1 || e.Fields[0].Field != tt.field {
				t.Fatalf("err = %#v, want invalid %s", err, tt.field)
			}
		})
	}
}

func TestChannelURLMessage(t *testing.T) {
	t.Parallel()
	_, err := ChannelInput{Name: "x", Type: "webhook", URL: "ftp://x"}.Normalize()
	if err == nil || err.Error() != "url: must be an http or https URL" {
		t.Fatalf("err = %v", err)
	}
}

func TestChannelRedacted(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{"", "topsecret"} {
		c := Channel{ID: "c1", Name: "n", Type: ChannelWebhook, Secret: secret, To: []string{"a@example.com"}}
		r := c.Redacted()
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["secret"]; ok || strings.Contains(string(b), "topsecret") {
			t.Errorf("secret in output: %s", b)
		}
		if m["secret_set"] != (secret != "") {
			t.Errorf("secret_set = %v for secret %q", m["secret_set"], secret)
		}
		if c.Secret != secret {
			t.Error("Redacted changed its receiver")
		}
		for _, k := range []string{"id", "name", "type", "url", "min_severity", "to", "address", "protocol", "enabled", "created_at", "updated_at"} {
			if _, ok := m[k]; !ok {
				t.Errorf("field %s missing from %s", k, b)
			}
		}
	}
}

func TestChannelInputRoundTrip(t *testing.T) {
	t.Parallel()
	c := Channel{Name: "e", Type: ChannelEmail, To: []string{"a@example.com"}, MinSeverity: "high", Enabled: false}
	in, err := c.Input().Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if *in.Enabled || in.MinSeverity != "high" || !slices.Equal(in.To, TextList{"a@example.com"}) {
		t.Fatalf("got %+v", in)
	}
}
