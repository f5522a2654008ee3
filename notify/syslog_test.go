package notify

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil"
)

// syslogFrame is an RFC 5424 message split into its fields.
type syslogFrame struct {
	pri                                     int
	version, ts, host, app, proc, msgID, sd string
	msg                                     string
}

// parseSyslog splits an RFC 5424 message; it handles only the nil
// structured data Vigil sends.
func parseSyslog(b []byte) (syslogFrame, error) {
	var f syslogFrame
	s := string(b)
	end := strings.IndexByte(s, '>')
	if !strings.HasPrefix(s, "<") || end < 2 || end > 4 {
		return f, fmt.Errorf("no PRI in %q", s)
	}
	pri, err := strconv.Atoi(s[1:end])
	if err != nil || pri < 0 || pri > 191 {
		return f, fmt.Errorf("bad PRI in %q", s)
	}
	f.pri = pri
	parts := strings.SplitN(s[end+1:], " ", 8)
	if len(parts) != 8 {
		return f, fmt.Errorf("want 8 fields after PRI in %q", s)
	}
	f.version, f.ts, f.host, f.app, f.proc, f.msgID, f.sd, f.msg = parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6], parts[7]
	return f, nil
}

// parseCEF splits a CEF record into its seven header fields and its
// extension, undoing the escapes.
func parseCEF(s string) (header []string, ext map[string]string, err error) {
	rest, ok := strings.CutPrefix(s, "CEF:")
	if !ok {
		return nil, nil, fmt.Errorf("no CEF prefix in %q", s)
	}
	var field strings.Builder
	i := 0
	for ; i < len(rest) && len(header) < 7; i++ {
		switch c := rest[i]; {
		case c == '\\' && i+1 < len(rest):
			i++
			field.WriteByte(rest[i])
		case c == '|':
			header = append(header, field.String())
			field.Reset()
		default:
			field.WriteByte(c)
		}
	}
	if len(header) != 7 {
		return nil, nil, fmt.Errorf("want 7 header fields in %q", s)
	}
	ext = map[string]string{}
	// Each key is the word before an unescaped '='; its value runs to the
	// space before the next key.
	rest = rest[i:]
	var key string
	var val strings.Builder
	flush := func() {
		if key != "" {
			ext[key] = strings.TrimSuffix(val.String(), " ")
		}
		val.Reset()
	}
	word := 0 // start of the current word within rest
	for j := 0; j < len(rest); j++ {
		c := rest[j]
		switch {
		case c == '\\' && j+1 < len(rest):
			j++
			switch rest[j] {
			case 'n':
				val.WriteByte('\n')
			case 'r':
				val.WriteByte('\r')
			default:
				val.WriteByte(rest[j])
			}
		case c == '=':
			k := rest[word:j]
			v := val.String()
			if key != "" {
				v = v[:len(v)-len(k)]
			}
			val.Reset()
			val.WriteString(v)
			flush()
			key = k
		case c == ' ':
			val.WriteByte(c)
			word = j + 1
		default:
			val.WriteByte(c)
		}
	}
	flush()
	return header, ext, nil
}

func TestSyslogDelivery(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{vigil.SyslogUDP, vigil.SyslogTCP} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			frames := make(chan []byte, 1)
			var addr string
			if proto == vigil.SyslogUDP {
				pc, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer pc.Close()
				addr = pc.LocalAddr().String()
				go func() {
					buf := make([]byte, 64<<10)
					n, _, err := pc.ReadFrom(buf)
					if err == nil {
						frames <- buf[:n]
					}
				}()
			} else {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				addr = l.Addr().String()
				go func() {
					c, err := l.Accept()
					if err != nil {
						return
					}
					defer c.Close()
					// RFC 6587 octet counting: "LEN SP MSG".
					r := bufio.NewReader(c)
					lenText, err := r.ReadString(' ')
					if err != nil {
						return
					}
					n, err := strconv.Atoi(strings.TrimSuffix(lenText, " "))
					if err != nil {
						return
					}
					buf := make([]byte, n)
					if _, err := io.ReadFull(r, buf); err == nil {
						frames <- buf
					}
				}()
			}
			n := testNotification()
			n.Text = "line one\nline two with a=b and back\\slash"
			ch := vigil.Channel{Type: vigil.ChannelSyslog, Address: addr, Protocol: proto}
			d := testSender().Send(context.Background(), ch, n)
			if d.Status != vigil.DeliveryDelivered || d.Attempts != 1 || d.StatusCode != 0 {
				t.Fatalf("delivery = %+v", d)
			}
			var frame []byte
			select {
			case frame = <-frames:
			case <-time.After(10 * time.Second):
				t.Fatal("no message received")
			}
			f, err := parseSyslog(frame)
			if err != nil {
				t.Fatal(err)
			}
			// authpriv (10) × 8 + err (3) for a high alert.
			want := syslogFrame{pri: 83, version: "1", ts: "2026-03-04T05:06:07.000000Z", host: "vigil-test", app: "vigil", proc: "-", msgID: "alert", sd: "-"}
			f.msg = ""
			if f != want {
				t.Errorf("frame = %+v, want %+v", f, want)
			}
			msg := string(frame[strings.Index(string(frame), "CEF:"):])
			header, ext, err := parseCEF(msg)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(header, "|"); got != "0|Vigil|Vigil|1.2.3|root-login|Root login on db-1|8" {
				t.Errorf("CEF header = %q", got)
			}
			wantExt := map[string]string{"rt": "1772600400000", "cat": "alert", "suser": "root", "dhost": "db-1", "cs1Label": "ref", "cs1": "ALR-12",
				"cs2Label": "org", "cs2": "Acme", "msg": n.Text, "request": n.Link}
			if fmt.Sprint(ext) != fmt.Sprint(wantExt) {
				t.Errorf("CEF extension = %v\nwant %v", ext, wantExt)
			}
		})
	}
}

func TestSyslogUnreachableTCP(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	d := testSender().Send(context.Background(), vigil.Channel{Type: vigil.ChannelSyslog, Address: addr, Protocol: vigil.SyslogTCP}, testNotification())
	if d.Status != vigil.DeliveryFailed || d.Attempts != DefaultAttempts || !strings.Contains(d.Error, "syslog") {
		t.Errorf("delivery = %+v", d)
	}
}

func TestSeverityMaps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sev          vigil.Severity
		syslog, cef  int
		pri, custPri int
	}{
		{"critical", 2, 10, 82, 130},
		{"high", 3, 8, 83, 131},
		{"medium", 4, 5, 84, 132},
		{"low", 5, 3, 85, 133},
		{"", 5, 0, 85, 133},
	}
	for _, tt := range tests {
		if got := SyslogSeverity(tt.sev); got != tt.syslog {
			t.Errorf("SyslogSeverity(%q) = %d, want %d", tt.sev, got, tt.syslog)
		}
		if got := CEFSeverity(tt.sev); got != tt.cef {
			t.Errorf("CEFSeverity(%q) = %d, want %d", tt.sev, got, tt.cef)
		}
		for _, c := range []struct{ facility, pri int }{{0, tt.pri}, {16, tt.custPri}} {
			s := testSender()
			s.Facility = c.facility
			f, err := parseSyslog(s.SyslogMessage(vigil.Notification{Severity: tt.sev}))
			if err != nil || f.pri != c.pri {
				t.Errorf("facility %d, %q: PRI = %d, %v; want %d", c.facility, tt.sev, f.pri, err, c.pri)
			}
		}
	}
}

func TestCEFEscaping(t *testing.T) {
	t.Parallel()
	header := []struct{ in, want string }{
		{"plain", "plain"},
		{`a|b`, `a\|b`},
		{`a\b`, `a\\b`},
		{`a=b`, `a=b`},
		{"a\r\nb\nc", "a b c"},
		{`\|`, `\\\|`},
	}
	for _, tt := range header {
		if got := CEFHeaderEscape(tt.in); got != tt.want {
			t.Errorf("CEFHeaderEscape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	value := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"a=b", `a\=b`},
		{`a\b`, `a\\b`},
		{"a|b", "a|b"},
		{"one\ntwo", `one\ntwo`},
		{"one\r\ntwo", `one\ntwo`},
		{"one\rtwo", `one\rtwo`},
		{`\=`, `\\\=`},
	}
	for _, tt := range value {
		if got := CEFValueEscape(tt.in); got != tt.want {
			t.Errorf("CEFValueEscape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	s := testSender()
	got := s.CEF(vigil.Notification{Title: "a|b", Rule: `r\1`, Severity: "critical", Time: time.UnixMilli(5), Test: true, User: "x=y"})
	if want := `CEF:0|Vigil|Vigil|1.2.3|r\\1|a\|b|10|rt=5 cat=test suser=x\=y`; got != want {
		t.Errorf("CEF = %q, want %q", got, want)
	}
	if long := s.CEF(vigil.Notification{Title: strings.Repeat("t", 5000), Text: strings.Repeat("é", 5000)}); len([]rune(long)) > 1800 {
		t.Errorf("CEF of a long text is %d characters", len([]rune(long)))
	}
}

// FuzzCEF checks that any title and text survive escaping: the record
// parses back to the same header and extension values.
func FuzzCEF(f *testing.F) {
	f.Add("Root login", "User root logged in.", "root")
	f.Fuzz(func(t *testing.T, title, text, user string) {
		if strings.ContainsAny(title+text+user, "\r") || len([]rune(text)) > cefMaxValue || len([]rune(user)) > cefMaxValue || len([]rune(title)) > cefMaxHeader {
			t.Skip() // CR is folded and long values cut by design
		}
		s := testSender()
		n := vigil.Notification{Title: title, Text: text, User: user, Severity: "low", Time: time.UnixMilli(1)}
		header, ext, err := parseCEF(s.CEF(n))
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ReplaceAll(title, "\n", " "); header[5] != want {
			t.Errorf("title %q came back as %q", want, header[5])
		}
		// Values are trimmed of one trailing space by the parser, since a
		// space also separates pairs; CEF cannot tell them apart either.
		if text != "" && !strings.HasSuffix(text, " ") && ext["msg"] != text {
			t.Errorf("msg %q came back as %q", text, ext["msg"])
		}
		if user != "" && !strings.HasSuffix(user, " ") && ext["suser"] != user {
			t.Errorf("suser %q came back as %q", user, ext["suser"])
		}
	})
}

func BenchmarkSyslogMessage(b *testing.B) {
	s, n := testSender(), testNotification()
	for b.Loop() {
		s.SyslogMessage(n)
	}
}
