package store_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/store"
	"github.com/vigilhq/vigil/store/storetest"
	"github.com/vigilhq/vigil/wire"
)

// Output is indexed per chunk, and both databases cut words at punctuation:
// "deploy" finds "./deploy.sh", at the line's offset, inside the chunk that holds it.
func TestSearchOutputPerChunk(t *testing.T) {
	const (
		c0 = "[0.5, \"o\", \"$ ls\\r\\n\"]\n[1.0, \"o\", \"README.md\\r\\n\"]\n"
		// The word "rollback" arrives split across two reads.
		c1 = "[6.0, \"o\", \"$ cd /srv\\r\\n\"]\n[7.25, \"o\", \"$ \\u001b[1m./deploy.sh\\u001b[0m --prod\\r\\n\"]\n[8.0, \"o\", \"roll\"]\n[8.5, \"o\", \"back done\\r\\n\"]\n"
	)
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h, _ := enrolAgent(t, s, "Org A", "web1")
		mustApply(t, s, h.ID, batch(1, start("s1", "alice"), chunk("s1", 0, c0), chunk("s1", 1, c1), end("s1", 2)))
		tests := []struct {
			q      string
			offset float64
			text   string
		}{
			{"deploy", 7.25, "$ ./deploy.sh --prod"},
			{"./deploy.sh", 7.25, "$ ./deploy.sh --prod"},
			{"DEPLOY.SH prod", 7.25, "$ ./deploy.sh --prod"},
			{"rollback", 8.0, "rollback done"},
			{"readme", 1.0, "README.md"},
		}
		for _, tt := range tests {
			ss, _, err := s.ListRecordedSessions(ctx, h.OrgID, vigil.SessionFilter{Query: tt.q, Limit: 10})
			if err != nil || len(ss) != 1 || len(ss[0].Matches) == 0 {
				t.Fatalf("search %q = %+v, %v", tt.q, ss, err)
			}
			m := ss[0].Matches[0]
			if m.Offset != tt.offset || m.Text != tt.text {
				t.Errorf("search %q: match %+v, want offset %v text %q", tt.q, m, tt.offset, tt.text)
			}
			if tt.q != "readme" && (m.Offset < 6.0 || m.Offset > 8.5) {
				t.Errorf("search %q: offset %v is outside chunk 1 (6.0 to 8.5)", tt.q, m.Offset)
			}
		}
		for _, q := range []string{"deploy.shx", "***", "31m", `"quoted" OR *`} {
			ss, _, err := s.ListRecordedSessions(ctx, h.OrgID, vigil.SessionFilter{Query: q, Limit: 10})
			if err != nil || len(ss) != 0 {
				t.Errorf("search %q = %d sessions, %v; want none", q, len(ss), err)
			}
			if ms, err := s.SessionMatches(ctx, h.OrgID, "s1", q); err != nil || len(ms) != 0 {
				t.Errorf("matches %q = %+v, %v; want none", q, ms, err)
			}
		}
		// Words on different lines of one chunk: the session is found, at the row's offset.
		ms, err := s.SessionMatches(ctx, h.OrgID, "s1", "srv rollback")
		if err != nil || len(ms) != 1 || ms[0].Offset != 6.0 {
			t.Errorf("words on two lines: %+v, %v", ms, err)
		}
	})
}

// Words with a digit in them are indexed by their first five characters, so seq's millions
// of numbers do not each cost an index entry; a search still only returns true matches,
// because the chunks and commands the index names are read back and checked, and a page of
// sessions is filled from further candidates when some turn out not to match.
func TestSearchDigitWords(t *testing.T) {
	storetest.EachRaw(t, func(t *testing.T, s *store.Store, raw *sql.DB) {
		ctx := context.Background()
		h, _ := enrolAgent(t, s, "Org A", "web1")
		// Sessions n1..n5 each print a different number that starts 12345; only n2 holds
		// 1234567 (and only n4 runs a command with it).
		nums := map[string]string{"n1": "1234500", "n2": "1234567", "n3": "1234511", "n4": "1234522", "n5": "1234533"}
		seq := uint64(0)
		for _, id := range []string{"n1", "n2", "n3", "n4", "n5"} {
			seq++
			items := []wire.Item{start(id, "alice"),
				chunk(id, 0, "[0.5, \"o\", \"$ seq\\r\\n"+nums[id]+"\\r\\nip 10.0.0.5 sha 9f86d081884c7d65\\r\\n\"]\n")}
			if id == "n4" {
				items = append(items, command(id, "kill -9 1234567", 2.0))
			} else {
				items = append(items, command(id, "kill -9 1234599", 2.0))
			}
			items = append(items, end(id, 1))
			mustApply(t, s, h.ID, batch(seq, items...))
		}
		tests := []struct {
			q    string
			want []string // sessions, newest first
			text string   // the first match's text, in the first session
		}{
			{"1234567", []string{"n4", "n2"}, ""},
			{"1234500", []string{"n1"}, "1234500"},
			{"1234568", nil, ""},
			{"kill 1234567", []string{"n4"}, "kill -9 1234567"},
			{"9f86d081884c7d65", []string{"n5", "n4", "n3", "n2", "n1"}, "ip 10.0.0.5 sha 9f86d081884c7d65"},
			{"9f86d081884c7d66", nil, ""},
			{"10.0.0.5", []string{"n5", "n4", "n3", "n2", "n1"}, ""},
			{"10.0.0.6", nil, ""},
		}
		for _, tt := range tests {
			ss, _, err := s.ListRecordedSessions(ctx, h.OrgID, vigil.SessionFilter{Query: tt.q, Limit: 10})
			if err != nil {
				t.Fatalf("search %q: %v", tt.q, err)
			}
			var got []string
			for _, r := range ss {
				got = append(got, r.ID)
				if len(r.Matches) == 0 {
					t.Errorf("search %q: session %s without a match", tt.q, r.ID)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("search %q = %v, want %v", tt.q, got, tt.want)
			}
			if tt.text != "" && len(ss) > 0 && ss[0].Matches[0].Text != tt.text {
				t.Errorf("search %q: first match %+v, want text %q", tt.q, ss[0].Matches[0], tt.text)
			}
		}
		// A page of one: the newest candidate (n5) does not match, the page is filled from the
		// next ones and the cursor goes on from there.
		p1, c1, err := s.ListRecordedSessions(ctx, h.OrgID, vigil.SessionFilter{Query: "1234567", Limit: 1})
		if err != nil || len(p1) != 1 || p1[0].ID != "n4" || c1 == "" {
			t.Fatalf("first page = %+v, %q, %v; want n4 and a cursor", p1, c1, err)
		}
		p2, c2, err := s.ListRecordedSessions(ctx, h.OrgID, vigil.SessionFilter{Query: "1234567", Limit: 1, Before: c1})
		if err != nil || len(p2) != 1 || p2[0].ID != "n2" || c2 == "" {
			t.Fatalf("second page = %+v, %q, %v; want n2 and a cursor (n1 is left to look at)", p2, c2, err)
		}
		p3, c3, err := s.ListRecordedSessions(ctx, h.OrgID, vigil.SessionFilter{Query: "1234567", Limit: 1, Before: c2})
		if err != nil || len(p3) != 0 || c3 != "" {
			t.Fatalf("third page = %+v, %q, %v; want none and no cursor", p3, c3, err)
		}
		// A page reads back a bounded number of candidates: past it, the page ends short with
		// the cursor of the last candidate looked at, and following the cursors finds every
		// match once.
		for _, limit := range []int{1, 2, 10} {
			s.SearchCandidates = 2
			var got []string
			cursor, pages := "", 0
			for {
				ss, next, err := s.ListRecordedSessions(ctx, h.OrgID, vigil.SessionFilter{Query: "1234567", Limit: limit, Before: cursor})
				if err != nil || len(ss) > limit {
					t.Fatalf("limit %d: page of %d, %v", limit, len(ss), err)
				}
				for _, r := range ss {
					got = append(got, r.ID)
				}
				if pages++; next == "" || pages > 10 {
					break
				}
				cursor = next
			}
			if strings.Join(got, " ") != "n4 n2" {
				t.Errorf("limit %d, 2 candidates a page: found %v in %d pages, want n4 n2", limit, got, pages)
			}
		}
		s.SearchCandidates = 200
		// A row indexed before words with digits were cut holds them whole, and is still found.
		mustApply(t, s, h.ID, batch(seq+1, start("old", "alice"), end("old", 0)))
		body := "INSERT INTO rec_search (session_id, org_id, kind, offset_s, chunk_idx, text, body) VALUES (?, ?, 'c', 1.5, -1, ?, ?)"
		if s.Dialect() == "postgres" {
			body = "INSERT INTO rec_search (session_id, org_id, kind, offset_s, chunk_idx, text, tsv) VALUES (?, ?, 'c', 1.5, -1, ?, strip(to_tsvector('simple', ?)))"
		}
		if _, err := raw.Exec(rebind(s, body), "old", h.OrgID, "deploy 7654321", "deploy 7654321"); err != nil {
			t.Fatal(err)
		}
		old, _, err := s.ListRecordedSessions(ctx, h.OrgID, vigil.SessionFilter{Query: "deploy 7654321", Limit: 10})
		if err != nil || len(old) != 1 || old[0].ID != "old" || len(old[0].Matches) != 1 || old[0].Matches[0].Text != "deploy 7654321" {
			t.Fatalf("search in a row indexed whole = %+v, %v", old, err)
		}
	})
}

func TestNormalizeSearchText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"./deploy.sh --prod":   "deploy sh prod",
		"Ünïcode_Wörds 42x":    "ünïcode wörds 42x",
		"  ":                   "",
		"a.b-c/d:e@f":          "a b c d e f",
		"\x1b[31mred\x1b[0m":   "31mred 0m",
		"ERROR: disk /dev/sda": "error disk dev sda",
	} {
		if got := store.NormalizeSearchText(in); got != want {
			t.Errorf("NormalizeSearchText(%q) = %q, want %q", in, got, want)
		}
	}
}

// ansiOracle is the regular expression StripANSI replaced; they must agree.
var ansiOracle = regexp.MustCompile(`\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[P^_][^\x1b]*\x1b\\|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[ -/]*[0-~]|[\x00-\x08\x0b-\x1f\x7f]`)

func TestStripANSI(t *testing.T) {
	t.Parallel()
	for _, in := range ansiSeeds {
		if got, want := store.StripANSI(in), ansiOracle.ReplaceAllString(in, ""); got != want {
			t.Errorf("StripANSI(%q) = %q, want %q", in, got, want)
		}
	}
}

var ansiSeeds = []string{
	"plain text\tand tab\n",
	"\x1b[31mred\x1b[0m \x1b[1;32;4mbold\x1b[m",
	"\x1b]0;title\x07after \x1b]133;C;cmdline=ls\x1b\\done",
	"\x1b]unterminated", "\x1b]a\x1bb", "\x1b[", "\x1b[12", "\x1b", "x\x1b",
	"\x1bPq#0;2;0;0;0\x1b\\sixel", "\x1bP\x07bel\x1b\\", "\x1b_apc", "\x1b(B\x1b)0\x1b=\x1b>",
	"\r\n\x00\x08\x0b\x7fdel", "\x1b[?25l\x1b[?1049h", "é\x1b[Kü", "\x1b[ q", "\x1b #8",
}

func FuzzStripANSI(f *testing.F) {
	for _, s := range ansiSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if utf8.ValidString(in) { // chunks are valid UTF-8
			if got, want := store.StripANSI(in), ansiOracle.ReplaceAllString(in, ""); got != want {
				t.Fatalf("StripANSI(%q) = %q, want %q", in, got, want)
			}
		}
	})
}

// BenchmarkIngestHeavyOutput stores the chunks of a heavy-output session (seq on a terminal,
// as the agent cuts and compresses it: 256 KiB chunks of 4 KiB output events) and indexes them.
func BenchmarkIngestHeavyOutput(b *testing.B) {
	s := storetest.OpenSQLite(b)
	o, err := s.CreateOrg(sysCtx, "Org A")
	if err != nil {
		b.Fatal(err)
	}
	tok, err := s.CreateEnrollmentToken(sysCtx, vigil.NewEnrollment{OrgID: o.ID})
	if err != nil {
		b.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	h, err := s.Enroll(context.Background(), wire.EnrollRequest{Version: wire.Version, Token: tok, PublicKey: pub, Hostname: "web1", OS: "linux", AgentVersion: "0.1.0"})
	if err != nil {
		b.Fatal(err)
	}
	var chunks []string
	var raw int64
	n := 1
	for c := 0; c < 8; c++ {
		var sb strings.Builder
		for sb.Len() < 256<<10 {
			var ev strings.Builder
			for ev.Len() < 4096 {
				ev.WriteString(strconv.Itoa(n) + "\r\n")
				n++
			}
			raw += int64(ev.Len())
			line, _ := json.Marshal([]any{float64(c) + float64(sb.Len())/1e6, "o", ev.String()})
			sb.Write(line)
			sb.WriteByte('\n')
		}
		chunks = append(chunks, sb.String())
	}
	// Compressed on the host, as the agent sends them to a server that accepts that: as
	// asciicast lines, or as event records (what agents send to this server).
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	var zlines, zevents []*wire.Chunk
	for _, c := range chunks {
		zlines = append(zlines, &wire.Chunk{Zstd: enc.EncodeAll([]byte(c), nil), Size: len(c)})
		ev := events(b, c)
		zevents = append(zevents, &wire.Chunk{Zstd: enc.EncodeAll(ev, nil), Size: len(ev), Events: true})
	}
	seq := uint64(0)
	for _, form := range []struct {
		name   string
		chunks []*wire.Chunk
	}{{"lines", zlines}, {"events", zevents}} {
		b.Run(form.name, func(b *testing.B) {
			b.SetBytes(raw)
			b.ReportAllocs()
			for b.Loop() {
				seq++
				id := "bench-" + strconv.FormatUint(seq, 10)
				items := []wire.Item{start(id, "alice")}
				for k, c := range form.chunks {
					c := *c
					c.SessionID, c.Index = id, k
					items = append(items, wire.Item{Chunk: &c})
				}
				if _, err := s.ApplyBatch(context.Background(), h.ID, batch(seq, items...)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
