package authlog

import (
	"strings"

	"github.com/vigilhq/vigil/wire"
)

// interpret turns the message a program logged into an event, if it is one we collect.
func interpret(prog, msg string) (wire.Event, bool) {
	msg = strings.TrimSpace(msg)
	// rsyslog folds repeats into one line; the repeated message is still worth an event.
	if inner, ok := repeated(msg); ok {
		msg = inner
	}
	// syslog daemons escape a trailing newline as #012.
	msg = strings.TrimSuffix(msg, "#012")
	if strings.HasPrefix(msg, "pam_") {
		return interpretPAM(prog, msg)
	}
	switch {
	case strings.HasPrefix(prog, "sshd"): // sshd, and sshd-session since OpenSSH 9.8
		return interpretSSHD(msg)
	case prog == "sudo":
		return interpretSudo(msg)
	case prog == "su":
		return interpretSu(msg)
	case prog == "login":
		return interpretLogin(msg)
	case prog == "useradd", prog == "userdel", prog == "usermod", prog == "groupadd",
		prog == "groupdel", prog == "groupmod", prog == "gpasswd":
		return interpretAccounts(msg)
	}
	return wire.Event{}, false
}

// repeated unwraps rsyslog's "message repeated 3 times: [ MSG]".
func repeated(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "message repeated ")
	if !ok {
		return "", false
	}
	_, inner, ok := strings.Cut(rest, " times: [")
	if !ok || !strings.HasSuffix(inner, "]") {
		return "", false
	}
	return strings.TrimSpace(strings.TrimSuffix(inner, "]")), true
}

func ptr(b bool) *bool { return &b }

// interpretSSHD handles sshd's own messages; its PAM lines go through interpretPAM.
func interpretSSHD(msg string) (wire.Event, bool) {
	switch {
	case strings.HasPrefix(msg, "Accepted "):
		method, rest, ok := strings.Cut(strings.TrimPrefix(msg, "Accepted "), " for ")
		if !ok {
			return wire.Event{}, false
		}
		user, addr, ok := cutLast(rest, " from ")
		if !ok || user == "" {
			return wire.Event{}, false
		}
		return wire.Event{Type: wire.EventLogin, User: user, SourceIP: firstField(addr),
			Method: normMethod(method), Success: ptr(true)}, true
	case strings.HasPrefix(msg, "Failed "):
		method, rest, ok := strings.Cut(strings.TrimPrefix(msg, "Failed "), " for ")
		if !ok {
			return wire.Event{}, false
		}
		rest = strings.TrimPrefix(rest, "invalid user ")
		user, addr, ok := cutLast(rest, " from ")
		if !ok {
			return wire.Event{}, false
		}
		return wire.Event{Type: wire.EventLoginFailed, User: user, SourceIP: firstField(addr),
			Method: normMethod(method), Success: ptr(false)}, true
	case strings.HasPrefix(msg, "Invalid user "):
		user, addr, ok := cutLast(strings.TrimPrefix(msg, "Invalid user "), " from ")
		if !ok {
			return wire.Event{}, false
		}
		return wire.Event{Type: wire.EventLoginFailed, User: user, SourceIP: firstField(addr),
			Success: ptr(false)}, true
	case strings.HasPrefix(msg, "Connection closed by authenticating user "):
		user, ip, ok := userHostPort(strings.TrimPrefix(msg, "Connection closed by authenticating user "))
		if !ok {
			return wire.Event{}, false
		}
		return wire.Event{Type: wire.EventLoginFailed, User: user, SourceIP: ip, Success: ptr(false)}, true
	case strings.HasPrefix(msg, "Disconnected from user "):
		user, ip, ok := userHostPort(strings.TrimPrefix(msg, "Disconnected from user "))
		if !ok {
			return wire.Event{}, false
		}
		return wire.Event{Type: wire.EventLogout, User: user, SourceIP: ip}, true
	}
	return wire.Event{}, false
}

// normMethod drops the submethod sshd appends ("keyboard-interactive/pam"), which says how
// the server checked, not how the user authenticated.
func normMethod(m string) string {
	m, _, _ = strings.Cut(m, "/")
	return m
}

// cutLast splits s around the last sep. The last, because a user name an attacker chose may
// itself contain " from ".
func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+len(sep):], true
}

func firstField(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// userHostPort parses "USER HOST port N [preauth]", reading from the end for the same reason
// as cutLast.
func userHostPort(s string) (user, host string, ok bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "[preauth]"))
	rest, _, ok := cutLast(s, " port ")
	if !ok {
		return "", "", false
	}
	user, host, ok = cutLast(rest, " ")
	if !ok || user == "" || host == "" {
		return "", "", false
	}
	return user, host, true
}

// interpretPAM handles "pam_MODULE(SERVICE:TYPE): TEXT" lines, whichever program logged them.
func interpretPAM(prog, msg string) (wire.Event, bool) {
	lparen := strings.IndexByte(msg, '(')
	rparen := strings.Index(msg, "): ")
	if lparen < 0 || rparen < lparen {
		return wire.Event{}, false
	}
	service, kind, ok := strings.Cut(msg[lparen+1:rparen], ":")
	if !ok {
		return wire.Event{}, false
	}
	text := msg[rparen+3:]
	isSu := service == "su" || service == "su-l"
	switch kind {
	case "auth":
		rest, ok := strings.CutPrefix(text, "authentication failure;")
		if !ok {
			return wire.Event{}, false
		}
		kv := pamFields(rest)
		switch {
		case isSu:
			invoker := kv["ruser"]
			if invoker == "" {
				invoker = kv["logname"]
			}
			return wire.Event{Type: wire.EventSu, User: invoker, TargetUser: kv["user"],
				TTY: ttyName(kv["tty"]), Success: ptr(false)}, true
		case strings.HasPrefix(service, "sudo"):
			// sudo logs the failure itself, with the command; this line would only repeat it.
			return wire.Event{}, false
		}
		return wire.Event{Type: wire.EventLoginFailed, User: kv["user"], SourceIP: kv["rhost"],
			TTY: ttyName(kv["tty"]), Success: ptr(false)}, true
	case "session":
		if rest, ok := strings.CutPrefix(text, "session closed for user "); ok {
			if service != "sshd" && service != "login" {
				return wire.Event{}, false
			}
			user := stripUID(strings.TrimSpace(rest))
			if user == "" {
				return wire.Event{}, false
			}
			return wire.Event{Type: wire.EventLogout, User: user}, true
		}
		if rest, ok := strings.CutPrefix(text, "session opened for user "); ok && isSu {
			// "session opened for user root(uid=0) by alice(uid=1000)"
			target, by, _ := strings.Cut(rest, " by ")
			return wire.Event{Type: wire.EventSu, User: stripUID(strings.TrimSpace(by)),
				TargetUser: stripUID(strings.TrimSpace(target)), Success: ptr(true)}, true
		}
	}
	return wire.Event{}, false
}

// pamFields parses pam_unix's "logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root".
func pamFields(s string) map[string]string {
	kv := map[string]string{}
	for _, f := range strings.Fields(s) {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		}
	}
	return kv
}

// stripUID turns "alice(uid=1000)" into "alice"; newer pam_unix appends the uid.
func stripUID(s string) string {
	if i := strings.Index(s, "(uid="); i >= 0 {
		return s[:i]
	}
	return s
}

// ttyName reduces a terminal to its name ("/dev/pts/0" → "pts/0") and drops the pseudo
// values PAM uses for network services.
func ttyName(s string) string {
	s = strings.TrimPrefix(s, "/dev/")
	switch s {
	case "ssh", "unknown", "none", "(unknown)", "NODEVssh":
		return ""
	}
	return s
}

// interpretSudo parses sudo's "  alice : [REASON ; ]TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=...".
// A part that is not KEY=VALUE is the reason sudo refused ("command not allowed", "3 incorrect
// password attempts", "user NOT in sudoers"), so its presence means failure.
func interpretSudo(msg string) (wire.Event, bool) {
	user, rest, ok := strings.Cut(strings.TrimSpace(msg), " : ")
	user = strings.TrimSpace(user)
	if !ok || user == "" || strings.ContainsAny(user, " \t") {
		return wire.Event{}, false
	}
	var head, command string
	if c, found := strings.CutPrefix(rest, "COMMAND="); found {
		command = c
	} else if h, c, found := strings.Cut(rest, " ; COMMAND="); found {
		head, command = h, c
	} else {
		return wire.Event{}, false
	}
	ev := wire.Event{Type: wire.EventSudo, User: user, Command: command}
	success := true
	if head != "" {
		for _, part := range strings.Split(head, " ; ") {
			part = strings.TrimSpace(part)
			k, v, found := strings.Cut(part, "=")
			if !found || !isKey(k) {
				success = false
				continue
			}
			switch k {
			case "TTY":
				ev.TTY = ttyName(v)
			case "PWD":
				ev.CWD = v
			case "USER":
				ev.TargetUser = v
			case "GROUP":
				ev.Group = v
			}
		}
	}
	ev.Success = ptr(success)
	return ev, true
}

// isKey reports whether k looks like one of sudo's upper-case field names.
func isKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if (k[i] < 'A' || k[i] > 'Z') && k[i] != '_' {
			return false
		}
	}
	return true
}

// interpretSu parses util-linux su's "(to root) alice on pts/0" and "FAILED SU (to root) ...".
func interpretSu(msg string) (wire.Event, bool) {
	success := true
	if rest, ok := strings.CutPrefix(msg, "FAILED SU "); ok {
		msg, success = rest, false
	}
	rest, ok := strings.CutPrefix(msg, "(to ")
	if !ok {
		return wire.Event{}, false
	}
	target, rest, ok := strings.Cut(rest, ") ")
	if !ok {
		return wire.Event{}, false
	}
	user, tty, _ := cutLast(rest, " on ")
	if user == "" {
		user = rest
	}
	return wire.Event{Type: wire.EventSu, User: strings.TrimSpace(user), TargetUser: target,
		TTY: ttyName(strings.TrimSpace(tty)), Success: ptr(success)}, true
}

// interpretLogin parses login(1) on a console: "LOGIN ON tty1 BY alice [FROM host]",
// "ROOT LOGIN ON tty1 [FROM host]", and the failures of util-linux ("FAILED LOGIN 1 FROM tty1
// FOR alice, Authentication failure") and shadow ("FAILED LOGIN (1) on '/dev/tty1' FOR 'alice', ...").
func interpretLogin(msg string) (wire.Event, bool) {
	switch {
	case strings.HasPrefix(msg, "LOGIN ON "), strings.HasPrefix(msg, "ROOT LOGIN ON "):
		user := "root"
		rest := msg[strings.Index(msg, "LOGIN ON ")+len("LOGIN ON "):]
		rest, from, _ := strings.Cut(rest, " FROM ")
		tty, by, found := strings.Cut(rest, " BY ")
		if found {
			user = by
		}
		return wire.Event{Type: wire.EventLogin, User: strings.TrimSpace(user),
			TTY: ttyName(strings.TrimSpace(tty)), SourceIP: strings.TrimSpace(from), Success: ptr(true)}, true
	case strings.HasPrefix(msg, "FAILED LOGIN "):
		rest, ok := strings.CutPrefix(msg, "FAILED LOGIN ")
		if !ok {
			return wire.Event{}, false
		}
		before, after, ok := cutLast(rest, " FOR ")
		if !ok {
			return wire.Event{}, false
		}
		user, _, _ := strings.Cut(after, ",")
		user = unquote(strings.TrimSpace(user))
		if user == "UNKNOWN" {
			// login writes this instead of a name no account has, which is often a password
			// typed at the wrong prompt.
			user = ""
		}
		ev := wire.Event{Type: wire.EventLoginFailed, User: user, Success: ptr(false)}
		where := ""
		if _, w, ok := strings.Cut(before, " FROM "); ok {
			where = w
		} else if _, w, ok := strings.Cut(before, " on "); ok {
			where = w
		}
		where = unquote(strings.TrimSpace(where))
		if isTTY(where) {
			ev.TTY = ttyName(where)
		} else if where != "(unknown)" {
			ev.SourceIP = where
		}
		return ev, true
	}
	return wire.Event{}, false
}

func isTTY(s string) bool {
	s = strings.TrimPrefix(s, "/dev/")
	return s == "console" || strings.HasPrefix(s, "tty") || strings.HasPrefix(s, "pts/") || strings.HasPrefix(s, "hvc")
}

// unquote removes the quotes shadow puts around names: 'bob' in current versions, `bob' in old.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '`') && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	return s
}

// quoted reads a name in shadow's quotes at the start of s and returns it and what follows.
func quoted(s string) (name, rest string, ok bool) {
	if s == "" || (s[0] != '\'' && s[0] != '`') {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '\'')
	if end < 0 {
		return "", "", false
	}
	return s[1 : 1+end], s[2+end:], true
}

// interpretAccounts handles shadow-utils (useradd, userdel, usermod, groupadd, groupdel,
// groupmod, gpasswd). Their "shadow group" and "/etc/gshadow" lines repeat the plain ones and
// are skipped, so one change gives one event.
func interpretAccounts(msg string) (wire.Event, bool) {
	if rest, ok := strings.CutPrefix(msg, "new user: "); ok {
		kv := commaFields(rest)
		if kv["name"] == "" {
			return wire.Event{}, false
		}
		ev := wire.Event{Type: wire.EventUserAdded, TargetUser: kv["name"]}
		if from := kv["from"]; isTTY(from) {
			ev.TTY = ttyName(from)
		}
		return ev, true
	}
	if rest, ok := strings.CutPrefix(msg, "new group: "); ok {
		if name := commaFields(rest)["name"]; name != "" {
			return wire.Event{Type: wire.EventGroupChanged, Group: name}, true
		}
		return wire.Event{}, false
	}
	if rest, ok := strings.CutPrefix(msg, "delete user "); ok {
		if name, tail, ok := quoted(rest); ok && strings.TrimSpace(tail) == "" {
			return wire.Event{Type: wire.EventUserDeleted, TargetUser: name}, true
		}
		return wire.Event{}, false
	}
	// "add 'bob' to group 'sudo'", "delete 'bob' from group 'sudo'"
	for _, f := range [...]struct{ verb, prep string }{{"add ", " to group "}, {"delete ", " from group "}} {
		rest, ok := strings.CutPrefix(msg, f.verb)
		if !ok {
			continue
		}
		user, rest, ok := quoted(rest)
		if !ok {
			continue
		}
		group, ok := strings.CutPrefix(rest, f.prep)
		if !ok {
			continue
		}
		if g, tail, ok := quoted(group); ok && strings.TrimSpace(tail) == "" {
			return wire.Event{Type: wire.EventGroupChanged, TargetUser: user, Group: g}, true
		}
	}
	// userdel: "removed group 'bob' owned by 'bob'"
	if rest, ok := strings.CutPrefix(msg, "removed group "); ok {
		if g, _, ok := quoted(rest); ok {
			return wire.Event{Type: wire.EventGroupChanged, Group: g}, true
		}
	}
	// groupdel: "group 'devs' removed" (current), "remove group `devs'" (old)
	if rest, ok := strings.CutPrefix(msg, "group "); ok {
		if g, tail, ok := quoted(rest); ok && strings.TrimSpace(tail) == "removed" {
			return wire.Event{Type: wire.EventGroupChanged, Group: g}, true
		}
	}
	if rest, ok := strings.CutPrefix(msg, "remove group "); ok {
		if g, tail, ok := quoted(rest); ok && strings.TrimSpace(tail) == "" {
			return wire.Event{Type: wire.EventGroupChanged, Group: g}, true
		}
	}
	// groupmod: "group changed in /etc/group (group devs/1002, new name: developers)"
	if rest, ok := strings.CutPrefix(msg, "group changed in /etc/group (group "); ok {
		if g, _, ok := strings.Cut(rest, "/"); ok && g != "" && !strings.ContainsAny(g, " ,") {
			return wire.Event{Type: wire.EventGroupChanged, Group: g}, true
		}
	}
	// gpasswd: "user bob added by root to group sudo", "user bob removed by root from group sudo"
	if rest, ok := strings.CutPrefix(msg, "user "); ok {
		for _, f := range [...]struct{ verb, prep string }{{" added by ", " to group "}, {" removed by ", " from group "}} {
			user, rest, ok := strings.Cut(rest, f.verb)
			if !ok {
				continue
			}
			by, group, ok := strings.Cut(rest, f.prep)
			if !ok {
				continue
			}
			return wire.Event{Type: wire.EventGroupChanged, User: by, TargetUser: user,
				Group: firstField(group)}, true
		}
	}
	// gpasswd -M: "members of group sudo set by root to alice,bob"
	if rest, ok := strings.CutPrefix(msg, "members of group "); ok {
		if group, rest, ok := strings.Cut(rest, " set by "); ok {
			by, _, _ := strings.Cut(rest, " to ")
			return wire.Event{Type: wire.EventGroupChanged, User: by, Group: group}, true
		}
	}
	return wire.Event{}, false
}

// commaFields parses useradd's "name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0".
func commaFields(s string) map[string]string {
	kv := map[string]string{}
	for _, f := range strings.Split(s, ", ") {
		if k, v, ok := strings.Cut(strings.TrimSpace(f), "="); ok {
			kv[k] = v
		}
	}
	return kv
}
