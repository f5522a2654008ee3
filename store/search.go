package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigilhq/vigil"
)

// Full-text search over recorded sessions.
//
// Commands are indexed one row each (kind 'c'). Terminal output is indexed
// per chunk (kind 'o'): a row per up to searchRowBytes of the chunk's
// distinct words, with the chunk's index and the offset of the row's first
// event, instead of a row per line. The index says which chunks match; the
// exact line and its offset are found by reading those chunks back when a
// session's matches are asked for. A query's words must all be in one row,
// so output words are matched within a chunk rather than within a line.
//
// Both databases see the same words: text is cut at every character that is
// not a letter or a digit and lowercased before it is indexed or searched,
// the way SQLite's FTS5 unicode61 tokenizer cuts it, so "deploy" finds
// "./deploy.sh" on PostgreSQL too.

// searchRowBytes bounds the words of one output row: PostgreSQL's tsvector
// holds at most 1 MiB.
const searchRowBytes = 64 << 10

// maxMatches bounds the matches returned for one session.
const maxMatches = 20

// maxMatchText bounds the text of one match.
const maxMatchText = 4000

// searchRow is one output row of the index.
type searchRow struct {
	Offset float64 // the time of the row's first event
	Body   string  // distinct words, space-separated
}

// words calls fn with each word of s (a run of letters and digits), lowercased,
// and where it starts in s.
func words(s string, fn func(w string, at int)) {
	start := -1
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			fn(lowerWord(s[start:i]), start)
			start = -1
		}
	}
	if start >= 0 {
		fn(lowerWord(s[start:]), start)
	}
}

func lowerWord(w string) string {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return strings.ToLower(w)
		}
	}
	return w
}

// NormalizeSearchText turns text into the words a query is matched against:
// lowercased, separated by single spaces.
func NormalizeSearchText(s string) string {
	return joinWords(s, func(w string) string { return w })
}

// indexText turns text into what the index holds: its words in their
// indexed form (indexWord).
func indexText(s string) string {
	return joinWords(s, indexWord)
}

func joinWords(s string, form func(string) string) string {
	var b strings.Builder
	words(s, func(w string, _ int) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(form(w))
	})
	return b.String()
}

// indexedDigitWord is how many characters of a word with a digit in it the
// index keeps.
const indexedDigitWord = 5

// indexWord is the form in which a word is indexed and looked up: a word
// with a digit in it (a number, an address, a hash, an id) is cut to its
// first indexedDigitWord characters. Terminal output can hold millions of
// such words, each different from the last (seq, counters, request ids):
// kept whole they made the index many times the size of the compressed
// recording. Cut, the index still says which chunks may hold the word, and
// reading those chunks back, which a search does anyway to find the line
// and its offset, keeps only the true matches (chunkMatches, lineMatches).
func indexWord(w string) string {
	if !strings.ContainsAny(w, "0123456789") {
		return w
	}
	n := 0
	for i := range w {
		if n == indexedDigitWord {
			return w[:i]
		}
		n++
	}
	return w
}

// outputText returns the plain text (ANSI stripped) of a chunk's output
// events, and where each event's text starts in it with its time.
func outputText(lines []CastLine) (string, []int, []float64) {
	var b strings.Builder
	var at []int
	var times []float64
	for _, l := range lines {
		if l.Code != "o" {
			continue
		}
		at = append(at, b.Len())
		times = append(times, l.Time)
		b.WriteString(StripANSI(l.Data))
	}
	return b.String(), at, times
}

// timeAt returns the time of the event that holds byte pos of the text.
func timeAt(pos int, at []int, times []float64) float64 {
	i, found := slices.BinarySearch(at, pos)
	if !found {
		i--
	}
	if i < 0 {
		i = 0
	}
	if i >= len(times) {
		return 0
	}
	return times[i]
}

// searchRows turns a chunk's output into index rows: its distinct words,
// cut into rows of at most searchRowBytes, each with the time of the event
// where its first word is. Words split across two events of the chunk are
// joined; a word split across two chunks is indexed as its two halves.
func searchRows(lines []CastLine) []searchRow {
	text, at, times := outputText(lines)
	var out []searchRow
	seen := map[string]struct{}{}
	var b strings.Builder
	var first float64
	flush := func() {
		if b.Len() > 0 {
			out = append(out, searchRow{Offset: first, Body: b.String()})
		}
		b.Reset()
		clear(seen)
	}
	words(text, func(w string, pos int) {
		w = indexWord(w)
		if _, ok := seen[w]; ok {
			return
		}
		if b.Len()+1+len(w) > searchRowBytes {
			flush()
		}
		if b.Len() == 0 {
			first = timeAt(pos, at, times)
		} else {
			b.WriteByte(' ')
		}
		seen[w] = struct{}{}
		b.WriteString(w)
	})
	flush()
	return out
}

// index adds a row to the search index: the text's words are what is
// searched; shown is what a match displays without reading a chunk (the
// command); chunk is the output chunk the row indexes, or -1.
func (tx *Tx) index(ctx context.Context, sessionID, orgID, kind string, offset float64, chunk int, shown, text string) error {
	q := `INSERT INTO rec_search (session_id, org_id, kind, offset_s, chunk_idx, text, body) VALUES (?, ?, ?, ?, ?, ?, ?)`
	if tx.s.dialect.name() == "postgres" {
		q = `INSERT INTO rec_search (session_id, org_id, kind, offset_s, chunk_idx, text, tsv) VALUES (?, ?, ?, ?, ?, ?, strip(to_tsvector('simple', ?)))`
	}
	if _, err := tx.exec(ctx, q, sessionID, orgID, kind, offset, chunk, shown, indexText(text)); err != nil {
		return fmt.Errorf("index session text: %w", err)
	}
	return nil
}

// indexChunk indexes a chunk's terminal output.
func (tx *Tx) indexChunk(ctx context.Context, sessionID, orgID string, idx int, lines []CastLine) error {
	for _, r := range searchRows(lines) {
		if err := tx.index(ctx, sessionID, orgID, "o", r.Offset, idx, "", r.Body); err != nil {
			return err
		}
	}
	return nil
}

// The full-text search is the one place where the two dialects' SQL
// differs much: SQLite uses an FTS5 table, PostgreSQL a tsvector column
// with a GIN index. These two functions hold the difference.

// searchCondition is the WHERE condition that matches rec_search rows.
func (s *Store) searchCondition() string {
	if s.dialect.name() == "postgres" {
		return `rec_search.tsv @@ to_tsquery('simple', ?)`
	}
	return `rec_search MATCH ?`
}

// searchArg turns what a person typed into the dialect's query: every word
// required, anywhere in the row; "" when there is no word to search for.
// A word is looked up in its indexed form (indexWord) or whole, as rows
// indexed before words with digits were cut hold it. For FTS5 each word is a
// quoted string, so operators are literal; for PostgreSQL's to_tsquery too
// (words are only letters and digits, so nothing in them needs escaping).
func (s *Store) searchArg(q string) string {
	pg := s.dialect.name() == "postgres"
	quote, or, and := `"`, " OR ", " AND "
	if pg {
		quote, or, and = "'", " | ", " & "
	}
	var parts []string
	words(q, func(w string, _ int) {
		term := quote + w + quote
		if iw := indexWord(w); iw != w {
			term = "(" + quote + iw + quote + or + term + ")"
		}
		parts = append(parts, term)
	})
	return strings.Join(parts, and)
}

// queryPhrases returns the words of each whitespace-separated part of a
// query: "./deploy.sh now" is [[deploy sh] [now]].
func queryPhrases(q string) [][]string {
	var out [][]string
	for _, f := range strings.Fields(q) {
		var p []string
		words(f, func(w string, _ int) { p = append(p, w) })
		if len(p) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// lineMatches reports whether every phrase's words appear in a row in line.
func lineMatches(line string, phrases [][]string) bool {
	var ws []string
	words(line, func(w string, _ int) { ws = append(ws, w) })
	for _, p := range phrases {
		found := false
		for i := 0; i+len(p) <= len(ws) && !found; i++ {
			found = slices.Equal(ws[i:i+len(p)], p)
		}
		if !found {
			return false
		}
	}
	return true
}

// textLines splits a chunk's output into lines of plain text, each with the
// time of the event where it begins.
func textLines(lines []CastLine) []vigil.SearchMatch {
	var out []vigil.SearchMatch
	var cur strings.Builder
	var start float64
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			if len(t) > maxMatchText {
				t = strings.ToValidUTF8(t[:maxMatchText], "")
			}
			out = append(out, vigil.SearchMatch{Offset: start, Text: t})
		}
		cur.Reset()
	}
	for _, l := range lines {
		if l.Code != "o" {
			continue
		}
		text := strings.ReplaceAll(StripANSI(l.Data), "\r", "")
		for j, part := range strings.Split(text, "\n") {
			if j > 0 {
				flush()
			}
			if cur.Len() == 0 {
				start = l.Time
			}
			cur.WriteString(part)
		}
	}
	flush()
	return out
}

// chunkMatches returns the lines of a stored chunk that match a query. When
// the query's words are in the chunk but on no single line, it returns the
// first line with any of them, at the time of the index row that matched.
func (s *Store) chunkMatches(ctx context.Context, sessionID string, idx int, rowOffset float64, phrases [][]string) ([]vigil.SearchMatch, error) {
	var comp []byte
	if err := s.queryRow(ctx, `SELECT data FROM rec_chunks WHERE session_id = ? AND idx = ?`, sessionID, idx).Scan(&comp); err != nil {
		return nil, notFound(err, "chunk %d of session %s", idx, sessionID)
	}
	data, err := zdec.DecodeAll(comp, nil)
	if err != nil {
		return nil, fmt.Errorf("chunk %d of session %s does not decompress: %w", idx, sessionID, err)
	}
	lines, err := ParseChunk(string(data))
	if err != nil {
		return nil, fmt.Errorf("chunk %d of session %s: %w", idx, sessionID, err)
	}
	var out []vigil.SearchMatch
	var some *vigil.SearchMatch
	found := make([]bool, len(phrases)) // each phrase is on some line of the chunk
	for _, l := range textLines(lines) {
		if lineMatches(l.Text, phrases) {
			out = append(out, l)
			if len(out) == maxMatches {
				break
			}
			continue
		}
		for i, p := range phrases {
			if !found[i] && lineMatches(l.Text, [][]string{p}) {
				found[i] = true
				if some == nil {
					some = &vigil.SearchMatch{Offset: rowOffset, Text: l.Text}
				}
			}
		}
	}
	// The index only says the chunk may hold the words (indexWord): when
	// some are not in it after all, the chunk does not match.
	if len(out) == 0 && some != nil && !slices.Contains(found, false) {
		out = append(out, *some)
	}
	return out, nil
}

// SessionMatches returns where a full-text query matches in one session,
// up to 20 hits by offset. A command match has the command's offset; an
// output match has the offset of the event where the matching line begins
// (found by reading the chunk the index points at), or of the index row
// when the query's words are in the chunk but on no single line.
func (s *Store) SessionMatches(ctx context.Context, orgID, id, q string) ([]vigil.SearchMatch, error) {
	out := []vigil.SearchMatch{}
	arg := s.searchArg(q)
	if arg == "" {
		return out, nil
	}
	rows, err := s.query(ctx, `SELECT offset_s, chunk_idx, text FROM rec_search WHERE `+s.searchCondition()+` AND session_id = ? AND org_id = ? ORDER BY offset_s LIMIT 200`,
		arg, id, orgID)
	if err != nil {
		return nil, fmt.Errorf("search session: %w", err)
	}
	type hit struct {
		offset float64
		chunk  int
		text   string
	}
	var hits []hit
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.offset, &h.chunk, &h.text); err != nil {
			rows.Close()
			return nil, err
		}
		hits = append(hits, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	phrases := queryPhrases(q)
	seen := map[int]bool{}
	for _, h := range hits {
		if h.chunk < 0 {
			if lineMatches(h.text, phrases) { // a command: its text is the row's
				out = append(out, vigil.SearchMatch{Offset: h.offset, Text: h.text})
			}
			continue
		}
		if seen[h.chunk] {
			continue // another row of a chunk already read
		}
		seen[h.chunk] = true
		ms, err := s.chunkMatches(ctx, id, h.chunk, h.offset, phrases)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	slices.SortStableFunc(out, func(a, b vigil.SearchMatch) int {
		switch {
		case a.Offset < b.Offset:
			return -1
		case a.Offset > b.Offset:
			return 1
		}
		return 0
	})
	if len(out) > maxMatches {
		out = out[:maxMatches]
	}
	return out, nil
}

// StripANSI removes terminal escape sequences and control characters (but
// tabs and newlines) from output, for indexing and plain display: OSC
// strings ending in BEL or ST, DCS/PM/APC strings ending in ST, CSI
// sequences and other two-byte escapes. An escape that does not complete is
// dropped alone.
func StripANSI(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c == 0x1b {
			if n := escapeLen(s[i:]); n > 0 {
				i += n
				continue
			}
			i++ // an escape that does not complete
			continue
		}
		if c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
			i++
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// escapeLen returns the length of the escape sequence at the start of s
// (which starts with ESC), or 0 when none completes.
func escapeLen(s string) int {
	if len(s) < 2 {
		return 0
	}
	switch s[1] {
	case ']': // OSC: up to BEL or ST, no ESC or BEL inside
		if n := stringEnd(s, true); n > 0 {
			return n
		}
	case 'P', '^', '_': // DCS, PM, APC: up to ST, no ESC inside
		if n := stringEnd(s, false); n > 0 {
			return n
		}
	case '[': // CSI: parameters, intermediates, a final byte
		j := 2
		for j < len(s) && s[j] >= 0x30 && s[j] <= 0x3f {
			j++
		}
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
			j++
		}
		if j < len(s) && s[j] >= 0x40 && s[j] <= 0x7e {
			return j + 1
		}
	}
	// Not a complete string or CSI: ESC and its next byte may still be a
	// two-byte escape, as with the regular expression this replaces.
	j := 1
	for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
		j++
	}
	if j < len(s) && s[j] >= 0x30 && s[j] <= 0x7e {
		return j + 1
	}
	return 0
}

// stringEnd returns the length of the control string at the start of s
// (ESC and its introducer) up to its terminator, ST or, when bel, BEL; 0
// when an ESC that is not ST comes first or none ends it.
func stringEnd(s string, bel bool) int {
	for j := 2; j < len(s); j++ {
		switch {
		case bel && s[j] == 0x07:
			return j + 1
		case s[j] == 0x1b:
			if j+1 < len(s) && s[j+1] == '\\' {
				return j + 2
			}
			return 0
		}
	}
	return 0
}
