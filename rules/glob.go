package rules

import (
	"strings"
	"sync"
)

// A glob is a compiled pattern. Patterns without a slash are plain
// wildcards: * matches any text, so *.pem matches /root/a.pem and
// exec:* matches exec:/bin/sh; they also match a path's file name alone.
// Patterns with a slash are path globs: * stays within one path element
// and ** crosses them, and the argument is cleaned first, so /etc/shadow
// matches /etc//shadow. ? matches one character and [a-z] or [!a-z] one of
// a set.
type glob struct {
	pat   string
	slash bool // a path glob
	kind  int
	lit   string // for the fast kinds
}

// Fast kinds of glob that avoid the general matcher.
const (
	globGeneral = iota
	globLiteral
	globPrefix   // lit*
	globSuffix   // *lit
	globContains // *lit*
)

var globCache sync.Map // pattern → *glob

const maxGlobCache = 4096

var globCacheSize int64
var globCacheMu sync.Mutex

// compileGlob returns the compiled form of p, cached because patterns are
// literals of rule expressions and repeat on every event.
func compileGlob(p string) *glob {
	if g, ok := globCache.Load(p); ok {
		return g.(*glob)
	}
	g := &glob{pat: p, slash: strings.IndexByte(p, '/') >= 0}
	if !g.slash || !strings.Contains(p, "*") {
		meta := strings.IndexAny(p, "*?[")
		body := strings.Trim(p, "*")
		switch {
		case meta < 0:
			g.kind, g.lit = globLiteral, p
		case strings.ContainsAny(body, "*?["):
		case strings.HasPrefix(p, "*") && strings.HasSuffix(p, "*") && len(p) >= 2 && !g.slash:
			g.kind, g.lit = globContains, body
		case strings.HasPrefix(p, "*") && !strings.HasPrefix(p, "**") && !g.slash:
			g.kind, g.lit = globSuffix, body
		case strings.HasSuffix(p, "*") && !strings.HasSuffix(p, "**") && !g.slash:
			g.kind, g.lit = globPrefix, body
		}
	}
	globCacheMu.Lock()
	if globCacheSize < maxGlobCache {
		globCacheSize++
		globCache.Store(p, g)
	}
	globCacheMu.Unlock()
	return g
}

// match reports whether s matches the glob.
func (g *glob) match(s string) bool {
	if len(s) > maxTokenMatches {
		s = s[:maxTokenMatches]
	}
	if g.slash {
		return wildcard(g.pat, cleanArg(s), true)
	}
	if g.matchPlain(s) {
		return true
	}
	if i := strings.LastIndexByte(s, '/'); i >= 0 && i < len(s)-1 {
		return g.matchPlain(s[i+1:])
	}
	return false
}

func (g *glob) matchPlain(s string) bool {
	switch g.kind {
	case globLiteral:
		return s == g.lit
	case globPrefix:
		return strings.HasPrefix(s, g.lit)
	case globSuffix:
		return strings.HasSuffix(s, g.lit)
	case globContains:
		return strings.Contains(s, g.lit)
	}
	return wildcard(g.pat, s, false)
}

// wildcard matches s against pattern p by dynamic programming, so no
// pattern can make it take more than len(p)*len(s) steps. With slash set,
// a single * does not match '/'.
func wildcard(p, s string, slash bool) bool {
	// cur[j] says whether p[:i] matches s[:j].
	var small [2][96]bool // most arguments are short: no allocation
	var cur, next []bool
	if len(s) < len(small[0]) {
		cur, next = small[0][:len(s)+1], small[1][:len(s)+1]
	} else {
		cur, next = make([]bool, len(s)+1), make([]bool, len(s)+1)
	}
	cur[0] = true
	for i := 0; i < len(p); {
		for j := range next {
			next[j] = false
		}
		c := p[i]
		step := 1
		switch {
		case c == '*':
			double := i+1 < len(p) && p[i+1] == '*'
			if double {
				step = 2
				// **/ also matches nothing at all, so a/**/b matches a/b.
				if i+2 < len(p) && p[i+2] == '/' {
					step = 3
				}
			}
			if step == 3 {
				// **/ matches nothing, or any text that ends with a slash.
				reach := false
				for j := 0; j <= len(s); j++ {
					next[j] = cur[j] || (j > 0 && s[j-1] == '/' && reach)
					reach = reach || cur[j]
				}
				break
			}
			crossing := double || !slash
			reach := false
			for j := 0; j <= len(s); j++ {
				if cur[j] {
					reach = true
				}
				next[j] = reach
				if j < len(s) && s[j] == '/' && !crossing {
					reach = false
				}
			}
		case c == '?':
			for j := 0; j < len(s); j++ {
				next[j+1] = cur[j] && !(slash && s[j] == '/')
			}
		case c == '[':
			end, ok := classEnd(p, i)
			if !ok {
				for j := 0; j < len(s); j++ {
					next[j+1] = cur[j] && s[j] == '['
				}
				break
			}
			for j := 0; j < len(s); j++ {
				next[j+1] = cur[j] && inClass(p[i+1:end], s[j])
			}
			step = end - i + 1
		default:
			if c == '\\' && i+1 < len(p) {
				c = p[i+1]
				step = 2
			}
			for j := 0; j < len(s); j++ {
				next[j+1] = cur[j] && s[j] == c
			}
		}
		i += step
		cur, next = next, cur
	}
	return cur[len(s)]
}

// classEnd returns the index of the ']' closing the set starting at i.
func classEnd(p string, i int) (int, bool) {
	j := i + 1
	if j < len(p) && (p[j] == '!' || p[j] == '^') {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for ; j < len(p); j++ {
		if p[j] == ']' {
			return j, true
		}
	}
	return 0, false
}

// inClass reports whether c is in the set body (without brackets).
func inClass(body string, c byte) bool {
	neg := false
	if body != "" && (body[0] == '!' || body[0] == '^') {
		neg, body = true, body[1:]
	}
	in := false
	for k := 0; k < len(body); k++ {
		if k+2 < len(body) && body[k+1] == '-' {
			if body[k] <= c && c <= body[k+2] {
				in = true
			}
			k += 2
			continue
		}
		if body[k] == c {
			in = true
		}
	}
	return in != neg
}

// PathMatches reports whether path matches the glob pattern, with the rules
// of the path_matches helper.
func PathMatches(path, pattern string) bool {
	return compileGlob(pattern).match(path)
}

// globSet is a list of patterns with the literal ones in maps, so that
// matching against a long list of program names costs one lookup.
type globSet struct {
	plain  map[string]struct{} // literals without a slash: the text or its file name
	paths  map[string]struct{} // literal paths, compared cleaned
	others []*glob
}

func newGlobSet(pats []string) *globSet {
	gs := &globSet{}
	for _, p := range pats {
		g := compileGlob(p)
		switch {
		case g.kind == globLiteral && !g.slash:
			if gs.plain == nil {
				gs.plain = map[string]struct{}{}
			}
			gs.plain[p] = struct{}{}
		case g.kind == globLiteral:
			if gs.paths == nil {
				gs.paths = map[string]struct{}{}
			}
			gs.paths[cleanArg(p)] = struct{}{}
		default:
			gs.others = append(gs.others, g)
		}
	}
	return gs
}

// match reports whether s matches one of the patterns.
func (gs *globSet) match(s string) bool {
	if len(gs.plain) > 0 {
		if _, ok := gs.plain[s]; ok {
			return true
		}
		if i := strings.LastIndexByte(s, '/'); i >= 0 && i < len(s)-1 {
			if _, ok := gs.plain[s[i+1:]]; ok {
				return true
			}
		}
	}
	if len(gs.paths) > 0 && strings.IndexByte(s, '/') >= 0 {
		if _, ok := gs.paths[cleanArg(s)]; ok {
			return true
		}
	}
	for _, g := range gs.others {
		if g.match(s) {
			return true
		}
	}
	return false
}
