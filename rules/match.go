package rules

import "strings"

// matchAny reports whether s matches one of the patterns.
func matchAny(gs *globSet, s string) bool {
	return gs.match(s)
}

// argMatches reports whether an argument, or the value of an option or
// key=value argument (--file=/etc/shadow, if=/etc/shadow), matches.
func argMatches(gs *globSet, a string) bool {
	if matchAny(gs, a) {
		return true
	}
	if eq := strings.IndexByte(a, '='); eq > 0 && !strings.Contains(a[:eq], "/") {
		return matchAny(gs, a[eq+1:])
	}
	return false
}

// invArgMatches reports whether an argument or input redirection of inv matches.
func invArgMatches(inv *invocation, gs *globSet) bool {
	for _, a := range inv.args {
		if argMatches(gs, a) {
			return true
		}
	}
	for _, r := range inv.redirs {
		if (r.op == "<" || r.op == "<>") && matchAny(gs, r.target) {
			return true
		}
	}
	return false
}

// hasFlag reports whether inv has one of the flags: a long flag alone or as
// --flag=value, a short flag alone or in a cluster such as -rf.
func hasFlag(inv *invocation, flags []string) bool {
	for _, a := range inv.args {
		if a == "--" {
			return false
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		for _, f := range flags {
			switch {
			case a == f:
				return true
			case strings.HasPrefix(f, "--"):
				if strings.HasPrefix(a, f+"=") {
					return true
				}
			case len(f) == 2 && f[0] == '-' && a[1] != '-' && len(a) > 2 && isLetters(a[1:]):
				if strings.IndexByte(a[1:], f[1]) >= 0 {
					return true
				}
			}
		}
	}
	return false
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// runs reports whether one invocation runs one of progs and, for each
// condition given, has an argument matching a1, one matching a2, and one
// of flags.
func (cl *commandLine) runs(progs, a1, a2 *globSet, flags []string) bool {
	for i := range cl.invs {
		inv := &cl.invs[i]
		if !matchAny(progs, inv.prog) {
			continue
		}
		if a1 != nil && !invArgMatches(inv, a1) {
			continue
		}
		if a2 != nil && !invArgMatches(inv, a2) {
			continue
		}
		if flags != nil && !hasFlag(inv, flags) {
			continue
		}
		return true
	}
	return false
}

// runsAsRoot reports whether one of progs runs through sudo, doas, pkexec
// or su -c as root (or the event is a sudo event as root).
func (cl *commandLine) runsAsRoot(progs *globSet) bool {
	for i := range cl.invs {
		if cl.invs[i].elevated && matchAny(progs, cl.invs[i].prog) {
			return true
		}
	}
	return false
}

// editors change the files they are given.
var editors = map[string]bool{
	"vi": true, "vim": true, "nvim": true, "nano": true, "pico": true, "emacs": true, "ed": true, "ex": true,
	"joe": true, "jed": true, "mcedit": true, "micro": true, "gedit": true, "kate": true, "code": true,
	"sudoedit": true, "vim.basic": true, "vim.tiny": true, "rvim": true, "mg": true, "helix": true, "hx": true,
}

// writes reports whether the command line writes a file matching one of gs:
// an output redirection, tee, the destination of cp, mv, install, ln or
// rsync, dd of=, the files of sed -i, perl -i, truncate, and of editors.
func (cl *commandLine) writes(gs *globSet) bool {
	for i := range cl.invs {
		inv := &cl.invs[i]
		for _, r := range inv.redirs {
			if r.op != "<" && r.op != "<<" && r.op != "<<<" && r.op != "<&" && matchAny(gs, r.target) {
				return true
			}
		}
		switch {
		case inv.prog == "tee" || inv.prog == "truncate" || editors[inv.prog] ||
			(inv.prog == "sed" || inv.prog == "perl") && hasFlag(inv, []string{"-i", "--in-place"}):
			for _, a := range inv.args {
				if !strings.HasPrefix(a, "-") && matchAny(gs, a) {
					return true
				}
			}
		case inv.prog == "cp" || inv.prog == "mv" || inv.prog == "install" || inv.prog == "ln" || inv.prog == "rsync" || inv.prog == "scp":
			if last := lastOperand(inv.args); last != "" && matchAny(gs, last) {
				return true
			}
			for _, a := range inv.args { // cp -t DIR, --target-directory=DIR
				if strings.HasPrefix(a, "--target-directory=") && matchAny(gs, a[len("--target-directory="):]) {
					return true
				}
			}
		case inv.prog == "dd":
			for _, a := range inv.args {
				if strings.HasPrefix(a, "of=") && matchAny(gs, a[3:]) {
					return true
				}
			}
		}
	}
	return false
}

func lastOperand(args []string) string {
	for i := len(args) - 1; i >= 0; i-- {
		if !strings.HasPrefix(args[i], "-") {
			return args[i]
		}
	}
	return ""
}

// mentions reports whether any argument or redirection target matches.
func (cl *commandLine) mentions(gs *globSet) bool {
	for i := range cl.invs {
		inv := &cl.invs[i]
		for _, a := range inv.args {
			if argMatches(gs, a) {
				return true
			}
		}
		for _, r := range inv.redirs {
			if matchAny(gs, r.target) {
				return true
			}
		}
	}
	return false
}

// pipes reports whether the output of one of from flows into one of to:
// a | b, b <(a), b "$(a)".
func (cl *commandLine) pipes(from, to *globSet) bool {
	for i := range cl.invs {
		a := &cl.invs[i]
		if !matchAny(from, a.prog) {
			continue
		}
		for j := range cl.invs {
			b := &cl.invs[j]
			if b.pipe == a.pipe && b.stage > a.stage && matchAny(to, b.prog) {
				return true
			}
		}
	}
	return false
}
