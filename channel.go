package vigil

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ChannelType names how a notification channel delivers alerts.
type ChannelType string

// The kinds of notification channel.
const (
	ChannelWebhook ChannelType = "webhook"
	ChannelSlack   ChannelType = "slack"
	ChannelEmail   ChannelType = "email"
	ChannelSyslog  ChannelType = "syslog"
)

// ChannelTypes lists the valid channel types.
var ChannelTypes = []ChannelType{ChannelWebhook, ChannelSlack, ChannelEmail, ChannelSyslog}

// The transports a syslog channel may use.
const (
	SyslogUDP = "udp"
	SyslogTCP = "tcp"
)

// channelMaxURL bounds a webhook URL; longer ones are mistakes, not endpoints.
const channelMaxURL = 2048

// channelMaxRecipients bounds an email channel: a channel is a team mailbox
// or a short list, not a mailing list.
const channelMaxRecipients = 50

// Channel is a destination for alert notifications: a webhook, a Slack
// incoming webhook, an email list or a syslog collector.
type Channel struct {
	ID   string      `json:"id"`
	Name string      `json:"name"`
	Type ChannelType `json:"type"`
	// URL is the endpoint of a webhook or Slack channel.
	URL string `json:"url"`
	// Secret keys the HMAC signature of webhook bodies. It is write-only:
	// API output carries Redacted(), which only says whether one is set.
	Secret    string `json:"secret,omitempty"`
	SecretSet bool   `json:"secret_set"`
	// MinSeverity is the lowest alert severity the channel receives.
	MinSeverity Severity `json:"min_severity"`
	// To lists the recipients of an email channel.
	To []string `json:"to"`
	// Address is the host:port of a syslog collector.
	Address string `json:"address"`
	// Protocol is the syslog transport, SyslogUDP or SyslogTCP.
	Protocol  string    `json:"protocol"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Redacted returns c without its secret, for output: SecretSet tells the
// reader whether a secret exists without revealing it.
func (c Channel) Redacted() Channel {
	c.SecretSet = c.Secret != ""
	c.Secret = ""
	c.To = slices.Clone(c.To)
	return c
}

// Input returns the changeable fields of c, secret included, so an update
// that leaves the secret out keeps it.
func (c Channel) Input() ChannelInput {
	enabled := c.Enabled
	return ChannelInput{
		Name: c.Name, Type: c.Type, URL: c.URL, Secret: c.Secret, MinSeverity: c.MinSeverity,
		To: slices.Clone(TextList(c.To)), Address: c.Address, Protocol: c.Protocol, Enabled: &enabled,
	}
}

// ChannelInput creates or replaces a channel. Fields that do not apply to
// the type are cleared by Normalize.
type ChannelInput struct {
	Name        string      `json:"name"`
	Type        ChannelType `json:"type"`
	URL         string      `json:"url"`
	Secret      string      `json:"secret"`
	MinSeverity Severity    `json:"min_severity"`
	To          TextList    `json:"to"`
	Address     string      `json:"address"`
	Protocol    string      `json:"protocol"`
	// Enabled defaults to true: a channel someone just configured is meant
	// to be used.
	Enabled *bool `json:"enabled"`
}

// Normalize trims and checks a channel and fills defaults: min_severity
// low, protocol udp, enabled true.
//
// An empty webhook secret stays empty: Normalize is pure, so the caller
// that stores a new webhook channel generates a random secret when none
// was given (and keeps the old one on update).
func (in ChannelInput) Normalize() (ChannelInput, error) {
	var err error
	if in.Name, err = registerTitle("name", in.Name); err != nil {
		return in, err
	}
	in.Type = ChannelType(strings.ToLower(strings.TrimSpace(string(in.Type))))
	if !slices.Contains(ChannelTypes, in.Type) {
		return in, Invalid("type", "must be webhook, slack, email or syslog")
	}
	if strings.TrimSpace(string(in.MinSeverity)) == "" {
		in.MinSeverity = "low"
	} else if in.MinSeverity, err = ParseSeverity(strings.TrimSpace(string(in.MinSeverity))); err != nil {
		return in, Invalid("min_severity", "must be low, medium, high or critical")
	}
	if in.Enabled == nil {
		enabled := true
		in.Enabled = &enabled
	}
	in.Secret = strings.TrimSpace(in.Secret)
	switch in.Type {
	case ChannelWebhook, ChannelSlack:
		if in.URL, err = channelURL(in.URL); err != nil {
			return in, err
		}
		if in.Type == ChannelSlack {
			// Slack verifies nothing; a stored secret would only mislead.
			in.Secret = ""
		}
		in.To, in.Address, in.Protocol = nil, "", ""
	case ChannelEmail:
		if in.To, err = channelRecipients(in.To); err != nil {
			return in, err
		}
		in.URL, in.Secret, in.Address, in.Protocol = "", "", "", ""
	case ChannelSyslog:
		if in.Address, err = channelHostPort(in.Address); err != nil {
			return in, err
		}
		in.Protocol = strings.ToLower(strings.TrimSpace(in.Protocol))
		if in.Protocol == "" {
			in.Protocol = SyslogUDP
		}
		if in.Protocol != SyslogUDP && in.Protocol != SyslogTCP {
			return in, Invalid("protocol", "must be udp or tcp")
		}
		in.URL, in.Secret, in.To = "", "", nil
	}
	return in, nil
}

// channelURL checks a webhook endpoint: only http and https with a host,
// so a stored channel can never point at a file, a script or a bare path.
func channelURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > channelMaxURL {
		return "", Invalid("url", "must be at most %d characters", channelMaxURL)
	}
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		return "", Invalid("url", "must be an http or https URL")
	}
	return u.String(), nil
}

// channelRecipients checks email recipients and keeps only the bare
// addresses, so no display name reaches a mail header.
func channelRecipients(to TextList) ([]string, error) {
	if len(to) > channelMaxRecipients {
		return nil, Invalid("to", "must have at most %d addresses", channelMaxRecipients)
	}
	out := []string{}
	for i, s := range to {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		a, err := mail.ParseAddress(s)
		if err != nil || strings.ContainsAny(a.Address, "\r\n") {
			return nil, Invalid(fmt.Sprintf("to[%d]", i), "must be an email address")
		}
		if !slices.Contains(out, a.Address) {
			out = append(out, a.Address)
		}
	}
	if len(out) == 0 {
		return nil, Invalid("to", "must list at least one email address")
	}
	return out, nil
}

// channelHostPort checks a syslog collector address.
func channelHostPort(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || strings.ContainsAny(host, " \t\r\n/") {
		return "", Invalid("address", "must be host:port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", Invalid("address", "port must be between 1 and 65535")
	}
	return addr, nil
}

// DeliveryStatus is the outcome of sending one notification to one channel.
type DeliveryStatus string

// The outcomes of a delivery.
const (
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Delivery records one attempt to notify one channel of an alert; an
// alert keeps a list of them as its delivery log.
type Delivery struct {
	ChannelID string `json:"channel_id"`
	// Channel is the channel's name when it was sent, so the log still
	// reads well after the channel is renamed or removed.
	Channel string         `json:"channel"`
	Status  DeliveryStatus `json:"status"`
	// StatusCode is the last HTTP status or SMTP reply code, 0 if none.
	StatusCode int `json:"status_code"`
	Attempts   int `json:"attempts"`
	// Error says why the last attempt failed; never a secret or a URL.
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// Notification is what a channel sends about an alert.
type Notification struct {
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	// Text is one paragraph describing what happened.
	Text string `json:"text"`
	// Link is the alert's page in the web interface.
	Link string `json:"link"`
	// Ref cites the alert, such as ALR-12.
	Ref string `json:"ref"`
	// Rule is the name of the rule that raised the alert.
	Rule    string    `json:"rule"`
	Host    string    `json:"host"`
	User    string    `json:"user"`
	Time    time.Time `json:"time"`
	OrgName string    `json:"org_name"`
	// Fields carries extra details shown after the standard ones.
	Fields map[string]string `json:"fields,omitempty"`
	// Test marks a notification sent to check a channel, not a real alert.
	Test bool `json:"test"`
}
