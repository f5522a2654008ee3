package redact

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSplitAcrossReads(t *testing.T) {
	t.Parallel()
	res, errs := Compile([]string{`secret-[0-9]+`, `(`})
	if len(errs) != 1 {
		t.Fatalf("errors %v, want the bad pattern reported", errs)
	}
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
	input := "id AKIAIOSFODNN7EXAMPLE and password=hunter2 then " + key + " secret-12345 end"
	for _, cut := range []int{1, 3, 7, 16, 64} {
		s := NewStream(res, 128)
		var out strings.Builder
		redacted := false
		for i := 0; i < len(input); i += cut {
			p, r := s.Feed(time.Duration(i), []byte(input[i:min(i+cut, len(input))]))
			for _, piece := range p {
				out.WriteString(string(piece.Data))
			}
			redacted = redacted || r
		}
		p, r := s.Flush()
		for _, piece := range p {
			out.WriteString(string(piece.Data))
		}
		redacted = redacted || r
		got := out.String()
		if len(got) != len(input) || !redacted {
			t.Fatalf("cut %d: length %d of %d, redacted %v", cut, len(got), len(input), redacted)
		}
		for _, secret := range []string{"AKIA", "hunter2", "b3BlbnNz", "12345"} {
			if strings.Contains(got, secret) {
				t.Errorf("cut %d: %q leaked in %q", cut, secret, got)
			}
		}
		if !strings.HasPrefix(got, "id ") || !strings.HasSuffix(got, " end") {
			t.Errorf("cut %d: too much masked: %q", cut, got)
		}
	}
}

func TestTimesKept(t *testing.T) {
	t.Parallel()
	res, _ := Compile(nil)
	s := NewStream(res, 4)
	p1, _ := s.Feed(1, []byte("abcdef"))
	if len(p1) != 1 || string(p1[0].Data) != "ab" || p1[0].T != 1 {
		t.Fatalf("first %+v", p1)
	}
	p2, _ := s.Feed(2, []byte("gh")) // pieces are valid until the next call
	if len(p2) != 1 || string(p2[0].Data) != "cd" || p2[0].T != 1 {
		t.Fatalf("second %+v", p2)
	}
	rest, _ := s.Flush()
	if len(rest) != 2 || string(rest[0].Data) != "ef" || rest[1].T != 2 {
		t.Fatalf("flush %+v", rest)
	}
}

// TestFoldNeedle checks the literal pre-filter of case-insensitive
// patterns never lets a match through unmasked.
func TestFoldNeedle(t *testing.T) {
	for _, tc := range []struct {
		pattern, need string
	}{
		{`(?i)password=\S+`, "password="},
		{`(?i)Token: \w+`, "token: "},
		{`AKIA[0-9A-Z]{16}`, ""},
		{`(?i)ab`, ""},
		{`(?i)(password|secret)=\S+`, ""},
		{`(?i)pass\*word`, ""},
	} {
		if got := string(foldNeedle(tc.pattern)); got != tc.need {
			t.Errorf("foldNeedle(%q) = %q; want %q", tc.pattern, got, tc.need)
		}
	}
	res, errs := Compile(nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, in := range []string{"PassWord=hunter2 ", "x password=a ", "PA\u017f\u017fWORD=b ", "no secret here "} {
		s := NewStream(res, 4)
		var out []byte
		pieces, _ := s.Feed(0, []byte(in))
		for _, p := range pieces { // valid until the next call
			out = append(out, p.Data...)
		}
		rest, _ := s.Flush()
		for _, p := range rest {
			out = append(out, p.Data...)
		}
		want := regexp.MustCompile(`(?i)password=\S+`).ReplaceAllStringFunc(in, func(m string) string { return strings.Repeat("*", len(m)) })
		if string(out) != want {
			t.Errorf("%q redacted to %q; want %q", in, out, want)
		}
	}
}

// anchorOf is the index NewStream anchors a needle's search on.
func anchorOf(need []byte) int {
	return bytes.IndexFunc(need, func(r rune) bool { return r < 'a' || r > 'z' })
}

// containsFold finds a needle in any ASCII case exactly where lower-casing the output finds
// it.
func TestContainsFold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		b, need string
		want    bool
	}{
		{"PassWord=x", "password=", true},
		{"password", "password=", false},
		{"==password=", "password=", true},
		{"xx TOKEN: abc", "token: ", true},
		{"token:x", "token: ", false},
		{": : token: ", "token: ", true}, // anchors before the match do not end the search
		{"", "password=", false},
		{"passw\u00f6rd=", "password=", false},
		{"PASSWORD=" + strings.Repeat("x", 100), "password=", true},
	} {
		b, need := []byte(tc.b), []byte(tc.need)
		got := containsFold(b, need, anchorOf(need))
		if lowered := bytes.Contains(lowerASCII(nil, b), need); got != tc.want || got != lowered {
			t.Errorf("containsFold(%q, %q) = %v; want %v (lower-cased: %v)", tc.b, tc.need, got, tc.want, lowered)
		}
	}
}

func FuzzContainsFold(f *testing.F) {
	f.Add([]byte("PassWord=hunter2"), []byte("password="))
	f.Add([]byte("a Token: b"), []byte("token: "))
	f.Fuzz(func(t *testing.T, b, need []byte) {
		need = lowerASCII(nil, need)
		p := anchorOf(need)
		if len(need) == 0 || p < 0 {
			return
		}
		if got, want := containsFold(b, need, p), bytes.Contains(lowerASCII(nil, b), need); got != want {
			t.Fatalf("containsFold(%q, %q) = %v, lower-casing says %v", b, need, got, want)
		}
	})
}
