package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/vigilhq/vigil"
)

// SignatureHeader carries the HMAC-SHA256 of a webhook body.
const SignatureHeader = "X-Vigil-Signature"

// signaturePrefix names the hash, as GitHub's X-Hub-Signature-256 does,
// so receivers written for that scheme work unchanged.
const signaturePrefix = "sha256="

// WebhookPayload is the JSON body of a webhook: the notification with its
// kind, "alert" or "test".
type WebhookPayload struct {
	Type string `json:"type"`
	vigil.Notification
}

// Sign returns the signature header value for body: "sha256=" and the hex
// HMAC-SHA256 of the exact body bytes keyed with secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is a valid signature of body under secret.
// The comparison takes constant time, so it leaks nothing about the
// expected value.
func Verify(secret, body []byte, header string) bool {
	got, ok := strings.CutPrefix(strings.TrimSpace(header), signaturePrefix)
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(sig, m.Sum(nil))
}

func (s *Sender) webhook(ctx context.Context, ch vigil.Channel, n vigil.Notification) (int, error) {
	kind := "alert"
	if n.Test {
		kind = "test"
	}
	body, err := json.Marshal(WebhookPayload{Type: kind, Notification: n})
	if err != nil {
		return 0, permanentError{fmt.Errorf("encode body: %w", err)}
	}
	h := http.Header{}
	if ch.Secret != "" {
		h.Set(SignatureHeader, Sign([]byte(ch.Secret), body))
	}
	return s.post(ctx, ch.URL, body, h)
}

// slackMaxText keeps a section under Slack's 3000-character limit.
const slackMaxText = 2900

func (s *Sender) slack(ctx context.Context, ch vigil.Channel, n vigil.Notification) (int, error) {
	body, err := json.Marshal(SlackMessage(n))
	if err != nil {
		return 0, permanentError{fmt.Errorf("encode body: %w", err)}
	}
	return s.post(ctx, ch.URL, body, nil)
}

// SlackMessage returns the incoming-webhook body for n: a plain-text
// fallback, a section with the title and text, and a context line with the
// rule, host, user and reference.
func SlackMessage(n vigil.Notification) map[string]any {
	title := n.Title
	if n.Test {
		title = "[Test] " + title
	}
	head := fmt.Sprintf("[%s] %s", strings.ToUpper(string(n.Severity)), title)
	section := "*" + SlackEscape(head) + "*"
	if n.Text != "" {
		section += "\n" + SlackEscape(n.Text)
	}
	if u, err := url.Parse(n.Link); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		label := "View alert"
		if n.Ref != "" {
			label = "View " + n.Ref
		}
		section += "\n<" + SlackEscape(strings.ReplaceAll(n.Link, "|", "%7C")) + "|" + SlackEscape(label) + ">"
	}
	var ctxParts []string
	for _, kv := range [][2]string{{"Rule", n.Rule}, {"Host", n.Host}, {"User", n.User}, {"Ref", n.Ref}, {"Org", n.OrgName}} {
		if kv[1] != "" {
			ctxParts = append(ctxParts, kv[0]+": "+SlackEscape(kv[1]))
		}
	}
	if !n.Time.IsZero() {
		ctxParts = append(ctxParts, n.Time.UTC().Format("2006-01-02 15:04:05Z"))
	}
	blocks := []any{map[string]any{
		"type": "section",
		"text": map[string]any{"type": "mrkdwn", "text": truncate(section, slackMaxText)},
	}}
	if len(ctxParts) > 0 {
		blocks = append(blocks, map[string]any{
			"type":     "context",
			"elements": []any{map[string]any{"type": "mrkdwn", "text": truncate(strings.Join(ctxParts, " · "), slackMaxText)}},
		})
	}
	return map[string]any{"text": truncate(head, slackMaxText), "blocks": blocks}
}

// SlackEscape escapes the three characters Slack's mrkdwn treats as
// control characters: &, < and >.
func SlackEscape(s string) string {
	return slackEscaper.Replace(s)
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// truncate shortens s to at most max runes, marking the cut.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// post sends body as JSON. Success is any 2xx; other 4xx except 408 and 429
// are permanent, since the request itself is wrong.
func (s *Sender) post(ctx context.Context, endpoint string, body []byte, h http.Header) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, permanentError{errors.New("invalid endpoint URL")}
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Vigil")
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Draining a little lets the connection be reused; the body itself is
	// never logged, since a receiver may echo secrets.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return code, nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		return code, permanentError{fmt.Errorf("endpoint answered %d %s", code, http.StatusText(code))}
	default:
		return code, fmt.Errorf("endpoint answered %d %s", code, http.StatusText(code))
	}
}

func (s *Sender) httpClient() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return defaultHTTP
}

var defaultHTTP = &http.Client{
	Timeout: DefaultTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}
