package web

import (
	"html"
	"html/template"
	"strings"
)

// renderPolicyMarkdown turns a policy's Markdown into HTML using a small,
// safe subset: headings (#, ##, ###), paragraphs, bullet and numbered lists
// and **bold**. Every piece of text is escaped first, so raw HTML in a
// policy shows as text and can never run; nothing else is interpreted.
//
// The text sits under the page's h1 and a section's h2, so the document's
// highest heading level becomes h3 and the others follow below it.
func renderPolicyMarkdown(src string) template.HTML {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	top := 3
	for _, line := range lines {
		if n := headingLevel(strings.TrimSpace(line)); n > 0 && n < top {
			top = n
		}
	}
	var b strings.Builder
	var para []string
	list := "" // "ul" or "ol" while a list is open
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + inlineMarkdown(strings.Join(para, " ")) + "</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	openList := func(kind string) {
		if list != kind {
			closeList()
			b.WriteString("<" + kind + ">\n")
			list = kind
		}
	}
	for _, line := range lines {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flushPara()
			closeList()
		case headingLevel(t) > 0:
			flushPara()
			closeList()
			n := headingLevel(t)
			tag := string(rune('3' + n - top))
			b.WriteString("<h" + tag + ">" + inlineMarkdown(strings.TrimSpace(t[n:])) + "</h" + tag + ">\n")
		case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* "):
			flushPara()
			openList("ul")
			b.WriteString("<li>" + inlineMarkdown(strings.TrimSpace(t[2:])) + "</li>\n")
		case numberedItem(t) > 0:
			flushPara()
			openList("ol")
			b.WriteString("<li>" + inlineMarkdown(strings.TrimSpace(t[numberedItem(t):])) + "</li>\n")
		case list != "" && len(line) > len(strings.TrimLeft(line, " \t")):
			// An indented line continues the list item before it.
			s := b.String()
			i := strings.LastIndex(s, "</li>")
			b.Reset()
			b.WriteString(s[:i] + " " + inlineMarkdown(t) + s[i:])
		default:
			closeList()
			para = append(para, t)
		}
	}
	flushPara()
	closeList()
	return template.HTML(b.String()) // every text was escaped above
}

// headingLevel returns 1 to 3 for "# ", "## " or "### ", else 0.
func headingLevel(t string) int {
	for n := 3; n >= 1; n-- {
		if strings.HasPrefix(t, strings.Repeat("#", n)+" ") {
			return n
		}
	}
	return 0
}

// numberedItem returns the length of a "12. " prefix, else 0.
func numberedItem(t string) int {
	i := 0
	for i < len(t) && i < 4 && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i > 0 && strings.HasPrefix(t[i:], ". ") {
		return i + 2
	}
	return 0
}

// inlineMarkdown escapes text and turns balanced **pairs** into <strong>.
func inlineMarkdown(s string) string {
	s = html.EscapeString(s)
	parts := strings.Split(s, "**")
	if len(parts)%2 == 0 {
		return s // unbalanced: leave the asterisks as they are
	}
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && p != "" {
			b.WriteString("<strong>" + p + "</strong>")
		} else if i%2 == 1 {
			b.WriteString("****")
		} else {
			b.WriteString(p)
		}
	}
	return b.String()
}
