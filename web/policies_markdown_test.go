package web

import (
	"regexp"
	"strings"
	"testing"
)

func TestRenderPolicyMarkdown(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"paragraphs", "one\ntwo\n\nthree", "<p>one two</p>\n<p>three</p>\n"},
		{"headings", "# A\n## B\n### C\n#### D", "<h3>A</h3>\n<h4>B</h4>\n<h5>C</h5>\n<p>#### D</p>\n"},
		{"top level is h3", "## A\n### B", "<h3>A</h3>\n<h4>B</h4>\n"},
		{"bullets", "- a\n* **b**\n  more\n\nafter", "<ul>\n<li>a</li>\n<li><strong>b</strong> more</li>\n</ul>\n<p>after</p>\n"},
		{"numbered", "1. first\n2. second", "<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n"},
		{"list switch", "- a\n1. b", "<ul>\n<li>a</li>\n</ul>\n<ol>\n<li>b</li>\n</ol>\n"},
		{"html escaped", `<script>alert("x")</script> & <b>`, "<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;</p>\n"},
		{"unbalanced bold", "a ** b", "<p>a ** b</p>\n"},
		{"empty bold", "a **** b", "<p>a **** b</p>\n"},
		{"crlf", "x\r\n\r\ny", "<p>x</p>\n<p>y</p>\n"},
	}
	for _, tt := range tests {
		if got := string(renderPolicyMarkdown(tt.in)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// allowedTag matches the only markup the renderer may produce.
var allowedTag = regexp.MustCompile(`</?(p|h3|h4|h5|ul|ol|li|strong)>`)

func FuzzRenderPolicyMarkdown(f *testing.F) {
	for _, s := range []string{"# T\n\n- a\n- **b**\n1. c", "<img src=x onerror=alert(1)>", "  - x\n  y", "**<i>**"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := allowedTag.ReplaceAllString(string(renderPolicyMarkdown(in)), "")
		if strings.ContainsAny(out, "<>") {
			t.Fatalf("unexpected markup in %q", out)
		}
	})
}
