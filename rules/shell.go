package rules

import (
	"path"
	"strings"
)

// Limits that keep parsing a hostile command line cheap.
const (
	maxCommandLen   = 16 << 10 // bytes of a command line that are parsed
	maxInvocations  = 256      // programs kept per command line
	maxParseDepth   = 4        // nesting of sh -c, eval, $(…) and <(…)
	maxTokenMatches = 4 << 10  // bytes of one argument that globs look at
)

// redirect is one redirection of a simple command, e.g. >> /etc/sudoers.
type redirect struct {
	op     string // ">", ">>", "<", "<>", ">&", "&>", "&>>", ">|", "<<", "<<<"
	target string
}

// invocation is one program a command line runs, found by shell-style
// parsing and by unwrapping sudo, env, nohup and the like. A wrapper such as
// sudo is an invocation of its own whose args are only its own options.
type invocation struct {
	prog     string // file name of the program: /usr/bin/cat is cat
	args     []string
	redirs   []redirect
	elevated bool // run through sudo, doas, pkexec or su -c as root
	pipe     int  // pipelines are numbered; $(…) and <(…) join their user's pipeline
	stage    int  // position in the pipeline; data flows to higher stages
}

// commandLine is a parsed command line.
type commandLine struct {
	tokens []string // every word, unquoted, for argv when the agent sent none
	invs   []invocation
	npipes int
}

// token is a word or an operator of the shell grammar.
type token struct {
	text  string
	op    bool
	subst []string // scripts of $(…), `…` and <(…) in this word
}

// parseCommand parses a command line as a POSIX shell would split it. It
// never fails: whatever it cannot make sense of becomes plain words.
func parseCommand(s string, elevated bool) *commandLine {
	cl := &commandLine{}
	cl.parse(s, elevated, 0, -1, 0)
	return cl
}

// parse adds the invocations of s. A nested script (pipe >= 0) joins the
// pipeline and stage of the command that uses its output.
func (cl *commandLine) parse(s string, elevated bool, depth, pipe, stage int) {
	if depth > maxParseDepth {
		return
	}
	if len(s) > maxCommandLen {
		s = s[:maxCommandLen]
	}
	toks := tokenize(s)
	nested := pipe >= 0
	if !nested {
		pipe = cl.npipes
		cl.npipes++
	}
	var words []token
	var redirs []redirect
	flush := func() {
		if len(words) > 0 || len(redirs) > 0 {
			cl.simple(words, redirs, elevated, depth, pipe, stage)
		}
		words, redirs = nil, nil
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if depth == 0 {
			cl.tokens = append(cl.tokens, t.text)
		}
		if !t.op {
			words = append(words, t)
			continue
		}
		switch t.text {
		case "|", "|&":
			flush()
			if !nested {
				stage++
			}
		case ";", "&&", "||", "&", "\n":
			flush()
			if !nested {
				pipe = cl.npipes
				cl.npipes++
				stage = 0
			}
		case "(", ")":
			flush()
		default: // a redirection takes the next word as its target
			r := redirect{op: strings.TrimLeft(t.text, "0123456789")}
			if i+1 < len(toks) && !toks[i+1].op {
				i++
				r.target = toks[i].text
				if depth == 0 {
					cl.tokens = append(cl.tokens, r.target)
				}
				for _, sub := range toks[i].subst {
					cl.parse(sub, elevated, depth+1, pipe, stage-1)
				}
			}
			redirs = append(redirs, r)
		}
	}
	flush()
}

// Programs that run another program given after their own options. The
// value lists the options that take an argument.
var wrappers = map[string]string{
	"sudo":         "u g C D h p r t T U",
	"doas":         "u C",
	"pkexec":       "",
	"run0":         "u g D",
	"env":          "u C S",
	"command":      "",
	"builtin":      "",
	"exec":         "a",
	"nohup":        "",
	"time":         "f o",
	"nice":         "n",
	"ionice":       "c n p",
	"stdbuf":       "i o e",
	"setsid":       "",
	"timeout":      "s k",
	"xargs":        "I a d E L n P s",
	"busybox":      "",
	"chronic":      "",
	"unbuffer":     "",
	"torsocks":     "",
	"proxychains":  "f",
	"proxychains4": "f",
	"runuser":      "u g G",
	"chroot":       "",
	"strace":       "o e p s u",
	"ltrace":       "o e p s u",
	"watch":        "n d",
	"flock":        "w E",
}

// shells run a script given with -c.
var shells = map[string]bool{"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true, "ash": true, "mksh": true, "fish": true, "rbash": true}

// keywords of the shell grammar that may precede a command.
var keywords = map[string]bool{"if": true, "then": true, "else": true, "elif": true, "do": true, "while": true, "until": true, "!": true, "{": true, "}": true, "fi": true, "done": true, "esac": true}

// simple adds the invocations of one simple command.
func (cl *commandLine) simple(words []token, redirs []redirect, elevated bool, depth, pipe, stage int) {
	var subst []string
	for _, w := range words {
		subst = append(subst, w.subst...)
	}
	defer func() {
		for _, sub := range subst {
			cl.parse(sub, elevated, depth+1, pipe, stage-1)
		}
	}()
	for len(words) > 0 && keywords[words[0].text] {
		words = words[1:]
	}
	if len(words) > 0 && (words[0].text == "for" || words[0].text == "case" || words[0].text == "select" || words[0].text == "function") {
		return
	}
	// Leading assignments. A line of nothing but assignments shows as an
	// invocation of export, so HISTFILE=/dev/null is found like export HISTFILE=….
	var assigns []string
	for len(words) > 0 && isAssignment(words[0].text) {
		assigns = append(assigns, words[0].text)
		words = words[1:]
	}
	if len(words) == 0 {
		if len(assigns) > 0 || len(redirs) > 0 {
			cl.add(invocation{prog: "export", args: assigns, redirs: redirs, elevated: elevated, pipe: pipe, stage: stage})
		}
		return
	}
	args := make([]string, len(words))
	for i, w := range words {
		args[i] = w.text
	}
	for guard := 0; len(args) > 0 && guard < 16; guard++ {
		prog := progName(args[0])
		rest := args[1:]
		opts, ok := wrappers[prog]
		if !ok {
			inv := invocation{prog: prog, args: rest, redirs: redirs, elevated: elevated, pipe: pipe, stage: stage}
			cl.add(inv)
			cl.nested(inv, depth)
			return
		}
		own, inner, asRoot := splitWrapper(prog, opts, rest)
		cl.add(invocation{prog: prog, args: own, elevated: elevated, pipe: pipe, stage: stage})
		if asRoot {
			elevated = true
		}
		if prog == "sudo" && hasShortFlag(own, 'e') || prog == "sudoedit" {
			inner = append([]string{"sudoedit"}, inner...)
		}
		if prog == "env" {
			for i, o := range own {
				if (o == "-S" || o == "--split-string") && i+1 < len(own) {
					cl.parse(strings.Join(append([]string{own[i+1]}, inner...), " "), elevated, depth+1, pipe, stage)
					return
				}
			}
		}
		if len(inner) == 0 {
			if len(redirs) > 0 {
				cl.invs[len(cl.invs)-1].redirs = redirs
			}
			return
		}
		args = inner
	}
}

// nested parses the scripts that shells, su and eval run.
func (cl *commandLine) nested(inv invocation, depth int) {
	switch {
	case inv.prog == "eval":
		cl.parse(strings.Join(inv.args, " "), inv.elevated, depth+1, inv.pipe, inv.stage)
	case shells[inv.prog] || inv.prog == "su":
		for i := 0; i < len(inv.args); i++ {
			a := inv.args[i]
			if a == "--command" || a == "-c" || (len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a, 'c') > 0 && inv.prog != "su") {
				if i+1 < len(inv.args) {
					el := inv.elevated
					if inv.prog == "su" {
						el = el || suToRoot(inv.args)
					}
					cl.parse(inv.args[i+1], el, depth+1, inv.pipe, inv.stage)
				}
				return
			}
			if strings.HasPrefix(a, "--command=") {
				cl.parse(strings.TrimPrefix(a, "--command="), inv.elevated || suToRoot(inv.args), depth+1, inv.pipe, inv.stage)
				return
			}
		}
	}
}

func (cl *commandLine) add(inv invocation) {
	if len(cl.invs) < maxInvocations {
		cl.invs = append(cl.invs, inv)
	}
}

// suToRoot reports whether su's arguments switch to root: no user or root.
func suToRoot(args []string) bool {
	skip := false
	for _, a := range args {
		if skip {
			skip = false
			continue
		}
		switch {
		case a == "-c" || a == "--command" || a == "-s" || a == "--shell" || a == "-g" || a == "-G" || a == "-w":
			skip = true
		case strings.HasPrefix(a, "-"):
		default:
			return a == "root"
		}
	}
	return true
}

// splitWrapper splits a wrapper's arguments into its own options and the
// command it runs, and says whether that command runs as root.
func splitWrapper(prog, argOpts string, args []string) (own, inner []string, asRoot bool) {
	user := ""
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" {
			own = append(own, a)
			i++
			break
		}
		if prog == "env" && isAssignment(a) {
			own = append(own, a)
			i++
			continue
		}
		if prog == "nice" && len(a) > 1 && a[0] == '-' && isDigits(a[1:]) {
			own = append(own, a)
			i++
			continue
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		own = append(own, a)
		i++
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			if name == "user" {
				user = val
			}
			if !hasVal && longTakesArg(prog, name) && i < len(args) {
				if name == "user" {
					user = args[i]
				}
				own = append(own, args[i])
				i++
			}
			continue
		}
		// A cluster of short options; one that takes an argument ends it.
		for j := 1; j < len(a); j++ {
			if strings.IndexByte(argOpts, a[j]) < 0 {
				continue
			}
			val := a[j+1:]
			if val == "" && i < len(args) {
				val = args[i]
				own = append(own, val)
				i++
			}
			if a[j] == 'u' {
				user = val
			}
			break
		}
	}
	switch prog {
	case "timeout": // a duration comes before the command
		if i < len(args) {
			own = append(own, args[i])
			i++
		}
	case "chroot":
		if i < len(args) {
			own = append(own, args[i])
			i++
		}
	}
	inner = args[i:]
	switch prog {
	case "sudo", "doas", "pkexec", "run0":
		asRoot = user == "" || user == "root" || user == "0" || user == "#0"
	}
	return own, inner, asRoot
}

func longTakesArg(prog, name string) bool {
	switch name {
	case "user", "group", "chdir", "prompt", "role", "type", "close-from", "other-user", "host",
		"unset", "adjustment", "signal", "kill-after", "replace", "max-args", "max-procs", "arg-file", "delimiter":
		return true
	}
	return false
}

// hasShortFlag reports whether args hold the short option c, alone or in a cluster.
func hasShortFlag(args []string, c byte) bool {
	for _, a := range args {
		if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a[1:], c) >= 0 {
			return true
		}
	}
	return false
}

// progName returns the file name of a program path: /usr/bin/cat is cat.
func progName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 && i < len(s)-1 {
		return s[i+1:]
	}
	return s
}

func isAssignment(s string) bool {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return false
	}
	for i := 0; i < eq; i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' || i == eq-1 && c == '+') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// tokenize splits a command line into words and operators the way a POSIX
// shell does: quotes are removed, a backslash keeps the next character, and
// the scripts of $(…), `…`, <(…) and >(…) are kept for parsing.
func tokenize(s string) []token {
	var toks []token
	var b strings.Builder
	var subst []string
	inWord := false
	emit := func() {
		if inWord {
			toks = append(toks, token{text: b.String(), subst: subst})
		}
		b.Reset()
		subst = nil
		inWord = false
	}
	op := func(o string) {
		emit()
		toks = append(toks, token{text: o, op: true})
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			emit()
			i++
		case c == '\n':
			op("\n")
			i++
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '\\':
			inWord = true
			if i+1 < len(s) {
				if s[i+1] != '\n' {
					b.WriteByte(s[i+1])
				}
				i += 2
			} else {
				i++
			}
		case c == '\'':
			inWord = true
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				b.WriteString(s[i+1:])
				i = len(s)
			} else {
				b.WriteString(s[i+1 : i+1+end])
				i += end + 2
			}
		case c == '$' && i+1 < len(s) && s[i+1] == '\'':
			inWord = true
			i = ansiQuote(s, i+2, &b)
		case c == '"':
			inWord = true
			i++
			for i < len(s) && s[i] != '"' {
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`\n", s[i+1]) >= 0:
					if s[i+1] != '\n' {
						b.WriteByte(s[i+1])
					}
					i += 2
				case s[i] == '$' && i+1 < len(s) && s[i+1] == '(':
					end := matchParen(s, i+2)
					subst = append(subst, s[i+2:end])
					b.WriteString(s[i:min(end+1, len(s))])
					i = end + 1
				case s[i] == '`':
					end := strings.IndexByte(s[i+1:], '`')
					if end < 0 {
						end = len(s) - i - 1
					}
					subst = append(subst, s[i+1:i+1+end])
					b.WriteString(s[i:min(i+end+2, len(s))])
					i += end + 2
				default:
					b.WriteByte(s[i])
					i++
				}
			}
			i++
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			inWord = true
			end := matchParen(s, i+2)
			subst = append(subst, s[i+2:end])
			b.WriteString(s[i:min(end+1, len(s))])
			i = end + 1
		case c == '`':
			inWord = true
			end := strings.IndexByte(s[i+1:], '`')
			if end < 0 {
				end = len(s) - i - 1
			}
			subst = append(subst, s[i+1:i+1+end])
			b.WriteString(s[i:min(i+end+2, len(s))])
			i += end + 2
		case (c == '<' || c == '>') && i+1 < len(s) && s[i+1] == '(' && !inWord:
			end := matchParen(s, i+2)
			toks = append(toks, token{text: s[i:min(end+1, len(s))], subst: []string{s[i+2 : end]}})
			i = end + 1
		case c == '|' || c == '&' || c == ';' || c == '(' || c == ')':
			if c == '(' && inWord { // a=( … ) and the like stay words
				b.WriteByte(c)
				i++
				continue
			}
			o := string(c)
			if i+1 < len(s) {
				two := s[i : i+2]
				switch two {
				case "||", "&&", "|&", ";;", "&>":
					o = two
				}
				if two == "&>" && i+2 < len(s) && s[i+2] == '>' {
					o = "&>>"
				}
			}
			op(o)
			i += len(o)
		case c == '<' || c == '>':
			// An fd number just before the operator belongs to it.
			prefix := ""
			if inWord && isDigits(b.String()) {
				prefix = b.String()
				b.Reset()
				inWord = false
			}
			emit()
			o := string(c)
			for _, cand := range []string{"<<<", "&>>", ">>", "<<", "<>", ">&", "<&", ">|"} {
				if strings.HasPrefix(s[i:], cand) {
					o = cand
					break
				}
			}
			toks = append(toks, token{text: prefix + o, op: true})
			i += len(o)
		default:
			inWord = true
			b.WriteByte(c)
			i++
		}
	}
	emit()
	return toks
}

// matchParen returns the index of the ')' closing a '(' just before i, or
// len(s) when there is none.
func matchParen(s string, i int) int {
	depth := 1
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\'':
			if end := strings.IndexByte(s[i+1:], '\''); end >= 0 {
				i += end + 1
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return len(s)
}

// ansiQuote reads a $'…' string from i, just after the quote.
func ansiQuote(s string, i int, b *strings.Builder) int {
	for i < len(s) && s[i] != '\'' {
		if s[i] == '\\' && i+1 < len(s) {
			switch e := s[i+1]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'x':
				if i+3 < len(s) && isHex(s[i+2]) && isHex(s[i+3]) {
					b.WriteByte(unhex(s[i+2])<<4 | unhex(s[i+3]))
					i += 4
					continue
				}
				b.WriteByte('x')
			default:
				if e >= '0' && e <= '7' && i+3 < len(s) && s[i+2] >= '0' && s[i+2] <= '7' && s[i+3] >= '0' && s[i+3] <= '7' {
					b.WriteByte((e-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
					i += 4
					continue
				}
				b.WriteByte(e)
			}
			i += 2
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return i + 1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// Tokens splits a command line into words the way a shell would, removing
// quotes and backslashes; operators such as | and > are words of their own.
func Tokens(s string) []string {
	if len(s) > maxCommandLen {
		s = s[:maxCommandLen]
	}
	toks := tokenize(s)
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if t.text != "\n" {
			out = append(out, t.text)
		}
	}
	return out
}

// NormalizeCommand returns a command line in a canonical form for display
// and matching: words unquoted and separated by one space, and program paths
// reduced to file names (/usr/bin/cat /etc/shadow is cat /etc/shadow).
func NormalizeCommand(s string) string {
	if len(s) > maxCommandLen {
		s = s[:maxCommandLen]
	}
	toks := tokenize(s)
	var b strings.Builder
	cmdPos := true
	for _, t := range toks {
		if t.text == "\n" {
			t.text = ";"
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		w := t.text
		switch {
		case t.op:
			cmdPos = t.text == "|" || t.text == "|&" || t.text == ";" || t.text == "&&" || t.text == "||" || t.text == "&" || t.text == "(" || t.text == ")"
		case cmdPos && isAssignment(w):
		case cmdPos:
			w = progName(w)
			_, wrap := wrappers[w]
			cmdPos = wrap || keywords[w]
		}
		b.WriteString(w)
	}
	return b.String()
}

// cleanArg reduces a path argument to its clean form, so /etc//shadow and
// /etc/./shadow match /etc/shadow.
func cleanArg(a string) string {
	if strings.IndexByte(a, '/') < 0 || strings.Contains(a, "://") {
		return a
	}
	return path.Clean(a)
}
