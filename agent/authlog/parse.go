// Package authlog turns the system authentication log into wire.Events: logins, failed logins,
// logouts, sudo, su and account changes.
//
// It reads the Debian/Ubuntu /var/log/auth.log and RHEL /var/log/secure formats (with either the
// traditional "Nov 28 03:14:15" stamp or an RFC 3339 one) and the systemd journal's JSON export
// (journalctl -o json). Tailer follows such a file across restarts and rotation.
//
// The log records some facts more than once (sshd writes "Invalid user", the PAM failure and
// "Failed password" for one attempt; "Disconnected from user" and the PAM "session closed" for
// one logout). Each such line becomes its own event, because any one of them may be missing
// depending on configuration; rules that count events should allow for it.
package authlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/wire"
)

// ErrFormat is wrapped by ParseLine's error when a line is in no format it knows, so callers can
// tell a garbled line from a failure to read.
var ErrFormat = errors.New("unrecognised log line")

// maxLine bounds the length of one line Parse reads; longer lines are counted as unknown and
// skipped, so a corrupt file cannot make the agent allocate without limit.
const maxLine = 1 << 20

// Parser turns log lines into events. The zero value is ready to use.
type Parser struct {
	// Now gives the reference time for traditional syslog stamps, which carry no year. Defaults
	// to time.Now; tests set it to get stable output.
	Now func() time.Time
	// Location is the zone of traditional syslog stamps, which carry none. Defaults to
	// time.Local, which is what the syslog daemon on the same host wrote them in.
	Location *time.Location
}

// Stats counts what Parse saw.
type Stats struct {
	Lines   int // lines read
	Events  int // events passed to the callback
	Unknown int // lines in no known format (ParseLine returned an error)
}

// Parse reads r line by line and calls fn for every event, in order. A line in an unknown
// format is counted in Stats.Unknown and skipped, so one bad line does not hide the rest. Parse
// stops at the first error from reading or from fn and returns it.
func (p *Parser) Parse(r io.Reader, fn func(wire.Event) error) (Stats, error) {
	var st Stats
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, tooLong, err := readLine(br)
		if err == io.EOF {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("read log: %w", err)
		}
		st.Lines++
		if tooLong {
			st.Unknown++
			continue
		}
		ev, ok, perr := p.ParseLine(line)
		switch {
		case perr != nil:
			st.Unknown++
		case ok:
			if err := fn(ev); err != nil {
				return st, err
			}
			st.Events++
		}
	}
}

// readLine returns the next line without its line end, and io.EOF only when no line is left.
// A line longer than maxLine is consumed and reported as tooLong instead of being returned.
func readLine(br *bufio.Reader) (line string, tooLong bool, err error) {
	var buf []byte
	read := false
	for {
		chunk, err := br.ReadSlice('\n')
		read = read || len(chunk) > 0
		if !tooLong {
			if len(buf)+len(chunk) > maxLine {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && read:
			err = nil // the last line has no line end; EOF comes with the next call
		case err != nil:
			return "", false, err
		}
		return string(bytes.TrimRight(buf, "\r\n")), tooLong, nil
	}
}

// ParseLine parses one line. ok is false for a well-formed line that carries no event Vigil
// collects (most of the log). err, wrapping ErrFormat, is for a line in no known format.
func (p *Parser) ParseLine(line string) (ev wire.Event, ok bool, err error) {
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return wire.Event{}, false, nil
	}
	var rec record
	if line[0] == '{' {
		rec, ok, err = parseJournal(line)
	} else {
		rec, ok, err = p.parseSyslog(line)
	}
	if err != nil || !ok {
		return wire.Event{}, false, err
	}
	ev, ok = interpret(rec.prog, rec.msg)
	if !ok {
		return wire.Event{}, false, nil
	}
	ev.Time = rec.time.UTC()
	ev.Host = rec.host
	return ev, true, nil
}

// record is one log entry with its envelope taken apart.
type record struct {
	time time.Time
	host string
	prog string // syslog tag without the PID: "sshd", "sudo"
	msg  string
}

func formatError(what string) error {
	return fmt.Errorf("%w: %s", ErrFormat, what)
}

// plausible rejects times that the JSON encoding of an event cannot carry, and the zero time.
func plausible(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1970 && y <= 9999
}

// parseSyslog splits "STAMP HOST TAG: MSG", where STAMP is traditional or RFC 3339.
func (p *Parser) parseSyslog(line string) (record, bool, error) {
	var rec record
	var rest string
	if c := line[0]; c >= '0' && c <= '9' {
		stamp, after, found := strings.Cut(line, " ")
		if !found {
			return rec, false, formatError("no host after timestamp")
		}
		t, err := time.Parse(time.RFC3339Nano, stamp)
		if err != nil {
			return rec, false, formatError("bad RFC 3339 timestamp")
		}
		rec.time, rest = t, after
	} else {
		t, n, err := p.parseBSDStamp(line)
		if err != nil {
			return rec, false, err
		}
		rec.time, rest = t, line[n:]
	}
	if !plausible(rec.time) {
		return rec, false, formatError("timestamp out of range")
	}
	host, rest, found := strings.Cut(rest, " ")
	if !found || host == "" {
		return rec, false, formatError("no host")
	}
	rec.host = host
	// Old syslogd writes its own notices without a tag.
	if strings.HasPrefix(rest, "last message repeated ") || strings.HasPrefix(rest, "-- MARK --") {
		return rec, false, nil
	}
	i := strings.IndexByte(rest, ':')
	if i <= 0 || strings.ContainsAny(rest[:i], " \t") {
		return rec, false, formatError("no program tag")
	}
	tag := rest[:i]
	if j := strings.IndexByte(tag, '['); j >= 0 {
		tag = tag[:j]
	}
	if tag == "" {
		return rec, false, formatError("empty program tag")
	}
	rec.prog = tag
	rec.msg = strings.TrimPrefix(rest[i+1:], " ")
	return rec, true, nil
}

var months = map[string]time.Month{
	"Jan": time.January, "Feb": time.February, "Mar": time.March, "Apr": time.April,
	"May": time.May, "Jun": time.June, "Jul": time.July, "Aug": time.August,
	"Sep": time.September, "Oct": time.October, "Nov": time.November, "Dec": time.December,
}

// parseBSDStamp parses "Mmm dd hh:mm:ss[.frac] " and returns the time and the length consumed.
// The stamp has no year: it is the reference year, or the one before when that would put the
// line more than a day in the future (a December line read in January).
func (p *Parser) parseBSDStamp(s string) (time.Time, int, error) {
	if len(s) < 16 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':' {
		return time.Time{}, 0, formatError("no timestamp")
	}
	month, ok := months[s[:3]]
	if !ok {
		return time.Time{}, 0, formatError("bad month")
	}
	day, ok1 := digits(strings.TrimLeft(s[4:6], " "))
	hour, ok2 := digits(s[7:9])
	minute, ok3 := digits(s[10:12])
	sec, ok4 := digits(s[13:15])
	if !ok1 || !ok2 || !ok3 || !ok4 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, 0, formatError("bad timestamp")
	}
	n := 15
	nsec := 0
	if s[n] == '.' {
		j := n + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		frac := s[n+1 : j]
		if frac == "" {
			return time.Time{}, 0, formatError("bad timestamp fraction")
		}
		if len(frac) > 9 {
			frac = frac[:9]
		}
		f, _ := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
		nsec, n = f, j
	}
	if n >= len(s) || s[n] != ' ' {
		return time.Time{}, 0, formatError("bad timestamp")
	}
	loc := p.Location
	if loc == nil {
		loc = time.Local
	}
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	year := now.Year()
	if time.Date(year, month, day, hour, minute, sec, nsec, loc).After(now.Add(24 * time.Hour)) {
		year--
	}
	// 29 February exists only in leap years: go back to the last one rather than normalise the
	// date into March.
	for i := 0; i < 8 && !validDay(year, month, day); i++ {
		year--
	}
	if !validDay(year, month, day) {
		return time.Time{}, 0, formatError("no such day")
	}
	return time.Date(year, month, day, hour, minute, sec, nsec, loc), n + 1, nil
}

func validDay(year int, month time.Month, day int) bool {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Day() == day
}

// digits parses a short run of ASCII digits.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// parseJournal reads one entry of journalctl -o json.
func parseJournal(line string) (record, bool, error) {
	var rec record
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		return rec, false, formatError("bad journal JSON")
	}
	ts, _ := journalField(fields["__REALTIME_TIMESTAMP"])
	usec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || usec < 0 {
		return rec, false, formatError("bad journal __REALTIME_TIMESTAMP")
	}
	rec.time = time.UnixMicro(usec)
	if !plausible(rec.time) {
		return rec, false, formatError("journal timestamp out of range")
	}
	rec.host, _ = journalField(fields["_HOSTNAME"])
	rec.prog, _ = journalField(fields["SYSLOG_IDENTIFIER"])
	if rec.prog == "" {
		rec.prog, _ = journalField(fields["_COMM"])
	}
	msg, ok := journalField(fields["MESSAGE"])
	if !ok {
		// Entries without a message exist (and journalctl writes null for one too large to
		// show); they carry nothing for us.
		return rec, false, nil
	}
	rec.msg = strings.TrimRight(msg, "\n")
	return rec, true, nil
}

// journalField decodes a journal export value: a string, an array of bytes (for values that
// are not valid UTF-8 text), or an array of such values when the field occurs more than once,
// of which the first is taken.
func journalField(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case '[':
		var nums []int
		if json.Unmarshal(raw, &nums) == nil {
			b := make([]byte, len(nums))
			for i, n := range nums {
				if n < 0 || n > 255 {
					return "", false
				}
				b[i] = byte(n)
			}
			return string(b), true
		}
		var multi []json.RawMessage
		if json.Unmarshal(raw, &multi) != nil || len(multi) == 0 {
			return "", false
		}
		first := bytes.TrimSpace(multi[0])
		if len(first) > 0 && first[0] == '[' {
			// One level only: an array of byte arrays. Deeper nesting is not journal output.
			var nums []int
			if json.Unmarshal(first, &nums) != nil {
				return "", false
			}
		}
		return journalField(first)
	}
	return "", false
}
