package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
)

// testSender retries fast and has a fixed clock and hostname.
func testSender() *Sender {
	return &Sender{
		Backoff:  time.Millisecond,
		Now:      func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) },
		Hostname: "vigil-test",
		Version:  "1.2.3",
	}
}

func testNotification() vigil.Notification {
	return vigil.Notification{
		Title: "Root login on db-1", Severity: "high", Text: "User root logged in over SSH.",
		Link: "https://vigil.example.com/alerts/12", Ref: "ALR-12", Rule: "root-login", Host: "db-1",
		User: "root", Time: time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC), OrgName: "Acme",
		Fields: map[string]string{"source_ip": "203.0.113.9"},
	}
}

// recorder is a webhook receiver answering with the given statuses in turn
// (the last one repeats) and keeping what it received.
type recorder struct {
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	headers  []http.Header
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.bodies = append(rec.bodies, b)
	rec.headers = append(rec.headers, r.Header.Clone())
	i := min(len(rec.bodies), len(rec.statuses)) - 1
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	w.WriteHeader(rec.statuses[i])
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.bodies)
}

func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		statuses  []int
		status    vigil.DeliveryStatus
		code      int
		attempts  int
		errSubstr string
	}{
		{name: "ok", statuses: []int{200}, status: vigil.DeliveryDelivered, code: 200, attempts: 1},
		{name: "accepted", statuses: []int{202}, status: vigil.DeliveryDelivered, code: 202, attempts: 1},
		{name: "500 then ok", statuses: []int{500, 204}, status: vigil.DeliveryDelivered, code: 204, attempts: 2},
		{name: "502 twice then ok", statuses: []int{502, 503, 200}, status: vigil.DeliveryDelivered, code: 200, attempts: 3},
		{name: "always 500", statuses: []int{500}, status: vigil.DeliveryFailed, code: 500, attempts: 3, errSubstr: "500"},
		{name: "400 not retried", statuses: []int{400}, status: vigil.DeliveryFailed, code: 400, attempts: 1, errSubstr: "400 Bad Request"},
		{name: "404 not retried", statuses: []int{404}, status: vigil.DeliveryFailed, code: 404, attempts: 1},
		{name: "408 retried", statuses: []int{408, 200}, status: vigil.DeliveryDelivered, code: 200, attempts: 2},
		{name: "429 retried", statuses: []int{429, 429, 200}, status: vigil.DeliveryDelivered, code: 200, attempts: 3},
		{name: "redirect not followed", statuses: []int{302}, status: vigil.DeliveryFailed, code: 302, attempts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{statuses: tt.statuses}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			ch := vigil.Channel{ID: "c1", Name: "SOC hook", Type: vigil.ChannelWebhook, URL: srv.URL + "/hook", Secret: "s3cret"}
			d := testSender().Send(context.Background(), ch, testNotification())
			if d.Status != tt.status || d.StatusCode != tt.code || d.Attempts != tt.attempts {
				t.Fatalf("delivery = %+v, want %s %d after %d", d, tt.status, tt.code, tt.attempts)
			}
			if rec.count() != tt.attempts {
				t.Errorf("server saw %d requests, want %d", rec.count(), tt.attempts)
			}
			if !strings.Contains(d.Error, tt.errSubstr) || (tt.errSubstr == "" && d.Error != "" && tt.status == vigil.DeliveryDelivered) {
				t.Errorf("error = %q, want it to contain %q", d.Error, tt.errSubstr)
			}
			if d.ChannelID != "c1" || d.Channel != "SOC hook" || !d.At.Equal(testSender().now()) {
				t.Errorf("delivery identity = %+v", d)
			}
		})
	}
}

func TestWebhookBodyAndSignature(t *testing.T) {
	t.Parallel()
	for _, test := range []bool{false, true} {
		rec := &recorder{statuses: []int{200}}
		srv := httptest.NewServer(rec)
		n := testNotification()
		n.Test = test
		ch := vigil.Channel{Type: vigil.ChannelWebhook, URL: srv.URL, Secret: "s3cret"}
		if d := testSender().Send(context.Background(), ch, n); d.Status != vigil.DeliveryDelivered {
			t.Fatalf("delivery = %+v", d)
		}
		srv.Close()
		body, h := rec.bodies[0], rec.headers[0]
		if !Verify([]byte("s3cret"), body, h.Get(SignatureHeader)) {
			t.Errorf("signature %q does not verify", h.Get(SignatureHeader))
		}
		if Verify([]byte("other"), body, h.Get(SignatureHeader)) {
			t.Error("signature verifies under the wrong secret")
		}
		if h.Get("Content-Type") != "application/json" || h.Get("User-Agent") != "Vigil" {
			t.Errorf("headers = %v", h)
		}
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"type": "alert", "title": n.Title, "severity": "high", "text": n.Text, "link": n.Link,
			"ref": "ALR-12", "rule": "root-login", "host": "db-1", "user": "root", "time": "2026-03-04T05:00:00Z",
			"org_name": "Acme", "test": test}
		if test {
			want["type"] = "test"
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("body[%s] = %v, want %v", k, got[k], v)
			}
		}
		if f, _ := got["fields"].(map[string]any); f["source_ip"] != "203.0.113.9" {
			t.Errorf("fields = %v", got["fields"])
		}
	}
}

func TestWebhookNoSecretNoSignature(t *testing.T) {
	t.Parallel()
	rec := &recorder{statuses: []int{200}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	testSender().Send(context.Background(), vigil.Channel{Type: vigil.ChannelWebhook, URL: srv.URL}, testNotification())
	if h := rec.headers[0].Get(SignatureHeader); h != "" {
		t.Errorf("signature %q sent without a secret", h)
	}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	secret, body := []byte("key"), []byte(`{"a":1}`)
	sig := Sign(secret, body)
	// Known answer: HMAC-SHA256("key", `{"a":1}`).
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Fatalf("Sign = %q", sig)
	}
	tests := []struct {
		name   string
		body   string
		header string
		ok     bool
	}{
		{"valid", `{"a":1}`, sig, true},
		{"valid with spaces", `{"a":1}`, " " + sig + " ", true},
		{"tampered body", `{"a":2}`, sig, false},
		{"no prefix", `{"a":1}`, strings.TrimPrefix(sig, "sha256="), false},
		{"other hash", `{"a":1}`, "sha1=" + strings.TrimPrefix(sig, "sha256="), false},
		{"uppercase hex", `{"a":1}`, "sha256=" + strings.ToUpper(strings.TrimPrefix(sig, "sha256=")), true},
		{"truncated", `{"a":1}`, sig[:len(sig)-2], false},
		{"not hex", `{"a":1}`, "sha256=zz", false},
		{"empty", `{"a":1}`, "", false},
	}
	for _, tt := range tests {
		if got := Verify(secret, []byte(tt.body), tt.header); got != tt.ok {
			t.Errorf("%s: Verify = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte("k"), []byte("body"), "sha256=00")
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		Verify(secret, body, header)
		if !Verify(secret, body, Sign(secret, body)) {
			t.Fatal("own signature does not verify")
		}
	})
}

func TestSendCancelledDuringRequest(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	d := testSender().Send(ctx, vigil.Channel{Type: vigil.ChannelWebhook, URL: srv.URL}, testNotification())
	if d.Status != vigil.DeliveryFailed || d.Attempts != 1 || !strings.HasPrefix(d.Error, "cancelled") {
		t.Fatalf("delivery = %+v", d)
	}
}

func TestSendCancelledDuringBackoff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var hits atomic.Int32
	s := testSender()
	s.Backoff = time.Hour // only cancellation can end the wait
	// The first response is read in full before the context is cancelled,
	// so the cancellation lands between attempts.
	s.HTTP = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		hits.Add(1)
		return &http.Response{StatusCode: 503, Body: closeFunc(func() { go cancel() }), Request: r}, nil
	})}
	d := s.Send(ctx, vigil.Channel{Type: vigil.ChannelWebhook, URL: "http://127.0.0.1:9/"}, testNotification())
	if d.Status != vigil.DeliveryFailed || d.Attempts != 1 || hits.Load() != 1 || d.StatusCode != 503 || !strings.HasPrefix(d.Error, "cancelled") {
		t.Fatalf("delivery = %+v after %d requests", d, hits.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// closeFunc is an empty body that calls its function when closed.
type closeFunc func()

func (f closeFunc) Read([]byte) (int, error) { return 0, io.EOF }
func (f closeFunc) Close() error             { f(); return nil }

func TestSendUnreachableHidesURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/services/T000/B000/TOKENTOKEN"
	srv.Close() // nothing listens any more
	for _, typ := range []vigil.ChannelType{vigil.ChannelWebhook, vigil.ChannelSlack} {
		d := testSender().Send(context.Background(), vigil.Channel{Type: typ, URL: url}, testNotification())
		if d.Status != vigil.DeliveryFailed || d.Attempts != DefaultAttempts || d.StatusCode != 0 {
			t.Errorf("%s: delivery = %+v", typ, d)
		}
		if d.Error == "" || strings.Contains(d.Error, "TOKENTOKEN") {
			t.Errorf("%s: error %q is empty or leaks the URL", typ, d.Error)
		}
	}
}

func TestSendBadChannel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ch   vigil.Channel
	}{
		{"unknown type", vigil.Channel{Type: "pager"}},
		{"bad url", vigil.Channel{Type: vigil.ChannelWebhook, URL: "http://[::1"}},
		{"no smtp relay", vigil.Channel{Type: vigil.ChannelEmail, To: []string{"a@example.com"}}},
		{"bad syslog protocol", vigil.Channel{Type: vigil.ChannelSyslog, Address: "127.0.0.1:1", Protocol: "sctp"}},
	}
	for _, tt := range tests {
		d := testSender().Send(context.Background(), tt.ch, testNotification())
		if d.Status != vigil.DeliveryFailed || d.Attempts > 1 || d.Error == "" {
			t.Errorf("%s: delivery = %+v", tt.name, d)
		}
	}
}

func TestAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		enabled bool
		min     vigil.Severity
		sev     vigil.Severity
		want    bool
	}{
		{true, "low", "low", true},
		{true, "high", "medium", false},
		{true, "high", "high", true},
		{true, "high", "critical", true},
		{true, "", "low", true},
		{true, "low", "bogus", false},
		{false, "low", "critical", false},
	}
	var s Sender
	for _, tt := range tests {
		ch := vigil.Channel{Enabled: tt.enabled, MinSeverity: tt.min}
		if got := s.Accepts(ch, tt.sev); got != tt.want {
			t.Errorf("Accepts(enabled=%v min=%q, %q) = %v, want %v", tt.enabled, tt.min, tt.sev, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	s := &Sender{Backoff: 100 * time.Millisecond}
	for i, want := range []time.Duration{100, 200, 400, 800} {
		want *= time.Millisecond
		for range 20 {
			if got := s.backoff(i + 1); got < want/2 || got > want {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", i+1, got, want/2, want)
			}
		}
	}
	if got := s.backoff(100); got > maxBackoff {
		t.Errorf("backoff(100) = %v exceeds the cap", got)
	}
}

func TestSlackMessage(t *testing.T) {
	t.Parallel()
	rec := &recorder{statuses: []int{200}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	n := testNotification()
	n.Title = "Login by <script> & co"
	n.Text = "a > b"
	n.Test = true
	d := testSender().Send(context.Background(), vigil.Channel{Type: vigil.ChannelSlack, URL: srv.URL}, n)
	if d.Status != vigil.DeliveryDelivered || d.StatusCode != 200 {
		t.Fatalf("delivery = %+v", d)
	}
	if rec.headers[0].Get(SignatureHeader) != "" {
		t.Error("slack request is signed")
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
			Elements []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(rec.bodies[0], &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Text != "[HIGH] [Test] Login by <script> & co" {
		t.Errorf("fallback text = %q", msg.Text)
	}
	if len(msg.Blocks) != 2 || msg.Blocks[0].Type != "section" || msg.Blocks[0].Text.Type != "mrkdwn" || msg.Blocks[1].Type != "context" {
		t.Fatalf("blocks = %+v", msg.Blocks)
	}
	wantSection := "*[HIGH] [Test] Login by &lt;script&gt; &amp; co*\na &gt; b\n<https://vigil.example.com/alerts/12|View ALR-12>"
	if got := msg.Blocks[0].Text.Text; got != wantSection {
		t.Errorf("section = %q, want %q", got, wantSection)
	}
	ctxText := msg.Blocks[1].Elements[0].Text
	for _, want := range []string{"Rule: root-login", "Host: db-1", "User: root", "Ref: ALR-12", "Org: Acme", "2026-03-04 05:00:00Z"} {
		if !strings.Contains(ctxText, want) {
			t.Errorf("context %q lacks %q", ctxText, want)
		}
	}
}

func TestSlackEscapeAndLink(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a & b", "a &amp; b"},
		{"<@U123>", "&lt;@U123&gt;"},
		{"&amp;", "&amp;amp;"},
	}
	for _, tt := range tests {
		if got := SlackEscape(tt.in); got != tt.want {
			t.Errorf("SlackEscape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	n := vigil.Notification{Title: "t", Severity: "low", Link: "javascript:alert(1)"}
	if s := SlackMessage(n)["blocks"].([]any)[0].(map[string]any)["text"].(map[string]any)["text"].(string); strings.Contains(s, "javascript") {
		t.Errorf("non-http link rendered: %q", s)
	}
	n.Link = "https://x.example/a?b=1&c=<2>|3"
	s := SlackMessage(n)["blocks"].([]any)[0].(map[string]any)["text"].(map[string]any)["text"].(string)
	if !strings.Contains(s, "<https://x.example/a?b=1&amp;c=&lt;2&gt;%7C3|View alert>") {
		t.Errorf("link = %q", s)
	}
	n.Text = strings.Repeat("x", 5000)
	s = SlackMessage(n)["blocks"].([]any)[0].(map[string]any)["text"].(map[string]any)["text"].(string)
	if len([]rune(s)) > slackMaxText {
		t.Errorf("section is %d characters", len([]rune(s)))
	}
}

func BenchmarkSign(b *testing.B) {
	secret, body := []byte("s3cret"), make([]byte, 2048)
	for b.Loop() {
		Sign(secret, body)
	}
}

func BenchmarkSlackMessage(b *testing.B) {
	n := testNotification()
	for b.Loop() {
		SlackMessage(n)
	}
}
