// Package rules compiles and evaluates Vigil's detection rules: CEL
// expressions over monitoring events, with thresholds, throttles and a
// built-in pack. It does no I/O.
//
// Expressions see two variables. event has type, time (timestamp), user,
// host, host_labels (map of string to string), command, argv (list of
// string; the shell words of command when the agent sent no argv), cwd,
// exit_code (int, -1 when unknown), source_ip and target_user. session has
// id and started (timestamp; the Unix epoch when unknown).
//
// Helpers over the event's command line, which is parsed once per event as
// a shell would (quotes and backslashes removed, /usr/bin/cat read as cat,
// sudo, doas, env, command, exec, nohup, nice, timeout, xargs and similar
// wrappers unwrapped, and the scripts of sh -c, su -c, eval, $(…), `…` and
// <(…) parsed too):
//
//	event.runs(progs)               one of the programs runs
//	event.runs_arg(progs, args)     …with an argument (or < input) matching args
//	event.runs_args(progs, a, b)    …with one argument matching a and one matching b
//	event.runs_flag(progs, flags)   …with a flag; -r is found in -rf, --x in --x=v
//	event.runs_as_root(progs)       …through sudo, doas, pkexec or su -c as root
//	event.writes(paths)             a redirection, tee, cp/mv destination, dd of=,
//	                                sed -i or an editor writes a matching file
//	event.mentions(patterns)        any argument or redirection target matches
//	event.pipes(from, to)           output of from flows into to (a | b, b <(a))
//	event.programs()                every program run, wrappers included
//
// Program and argument lists are patterns (see PathMatches). Other helpers:
//
//	in_hours(t, "08:00", "18:00", "Europe/Berlin")  t within [start, end) in
//	    the zone; end before start spans midnight; bad literals fail Compile,
//	    bad computed values fail the evaluation
//	path_matches(path, glob), path.path_matches(glob)
//	cmd_tokens(s)        shell words of s
//	normalize_cmd(s)     s unquoted, single-spaced, program paths as names
//	remote_host(s)       host of user@host:path, host:path or a URL, else ""
//	is_external_host(h)  a public IP or a dotted name not ending in .internal,
//	    .local, .lan, .localdomain, .home.arpa, .corp or .intranet
//	first_seen(key)      key never seen before; Options.FirstSeen backs it
//
// FieldReference is the same reference in Markdown for users.
//
// Performance: programs are compiled once per Engine, with constant folding
// and the pattern lists of helpers compiled when the program is planned;
// each event is adapted once for all rules and its command line parsed at
// most once; rules whose expression starts with an event.type condition are
// indexed by type, so login rules never run on command events. Cost is
// limited per evaluation (EvalCostLimit) and, as a worst-case estimate, at
// compile time (CompileCostLimit).
package rules

// FieldReference is the user-facing reference of rule expressions, in
// Markdown.
const FieldReference = "" +
	"## Rule expressions\n\n" +
	"A rule is a [CEL](https://cel.dev) expression that must give `true` or `false`. " +
	"It is evaluated for every event; when it is true the rule matches.\n\n" +
	"### Fields\n\n" +
	"| Field | Type | Meaning |\n|---|---|---|\n" +
	"| `event.type` | string | `login`, `login_failed`, `logout`, `sudo`, `su`, `user_added`, `user_deleted`, `group_changed`, `command`, `policy_denied`, `unrecorded_session` |\n" +
	"| `event.time` | timestamp | when it happened |\n" +
	"| `event.user` | string | the acting user |\n" +
	"| `event.host` | string | host name |\n" +
	"| `event.host_labels` | map(string, string) | the host's labels, e.g. `event.host_labels[\"env\"] == \"prod\"` |\n" +
	"| `event.command` | string | the command line as typed (for `command` and `sudo` events) |\n" +
	"| `event.argv` | list(string) | the program's arguments; when the agent sent none, the shell words of `event.command` with quotes removed |\n" +
	"| `event.cwd` | string | working directory |\n" +
	"| `event.exit_code` | int | exit status; **-1 when unknown** |\n" +
	"| `event.source_ip` | string | address a login came from |\n" +
	"| `event.target_user` | string | user switched to (su, sudo) or account changed |\n" +
	"| `session.id` | string | recorded session, \"\" outside one |\n" +
	"| `session.started` | timestamp | when the session began (the epoch when unknown) |\n\n" +
	"Missing text fields are \"\". CEL's standard functions and the strings extension " +
	"(`lowerAscii`, `split`, `replace`, …) are available.\n\n" +
	"### Command helpers\n\n" +
	"These look at `event.command` parsed as a shell would: quotes and backslashes removed " +
	"(`'/etc/shadow'`, `\\rm`), program paths reduced to names (`/usr/bin/cat` is `cat`), " +
	"wrappers unwrapped (`sudo`, `doas`, `env X=1`, `command`, `exec`, `nohup`, `nice`, `timeout`, `xargs`, …), " +
	"and the scripts of `sh -c`, `su -c`, `eval`, `$(…)`, backticks and `<(…)` parsed too. " +
	"Lists of programs and arguments are **patterns**: without a slash, `*` matches any text and the pattern " +
	"also matches a path's file name (`id_rsa` matches `/root/.ssh/id_rsa`, `*.pem` any PEM file); " +
	"with a slash, `*` stays within one path element and `**` crosses them (`/etc/sudoers.d/**`), " +
	"and paths are cleaned first (`/etc//shadow` is `/etc/shadow`). `?` and `[a-z]` work too. " +
	"Option values count as arguments: `--file=/etc/shadow` and `if=/etc/shadow` match `/etc/shadow`.\n\n" +
	"| Helper | Gives true when |\n|---|---|\n" +
	"| `event.runs(progs)` | the command runs one of the programs |\n" +
	"| `event.runs_arg(progs, args)` | one of the programs runs with an argument (or `<` input) matching one of `args` |\n" +
	"| `event.runs_args(progs, a, b)` | one program run has an argument matching `a` and one matching `b` (`systemctl stop auditd`) |\n" +
	"| `event.runs_flag(progs, flags)` | one of the programs has one of the flags; short flags are found in clusters (`-r` in `-rf`), long ones also as `--flag=value` |\n" +
	"| `event.runs_as_root(progs)` | one of the programs runs through sudo, doas, pkexec or `su -c` as root, or the event is a `sudo` event to root |\n" +
	"| `event.writes(paths)` | the command writes a matching file: `>`/`>>` redirection, `tee`, destination of `cp`/`mv`/`install`/`ln`/`rsync`/`scp`, `dd of=`, `sed -i`, `truncate`, or an editor (vi, vim, nano, emacs, sudoedit, …) |\n" +
	"| `event.mentions(patterns)` | any argument or redirection target matches |\n" +
	"| `event.pipes(from, to)` | output of one of `from` flows into one of `to`: `curl … \\| sh`, `bash <(curl …)`, `sh -c \"$(curl …)\"` |\n" +
	"| `event.programs()` | (list) every program the command runs, wrappers included |\n\n" +
	"### Other helpers\n\n" +
	"| Helper | Meaning |\n|---|---|\n" +
	"| `in_hours(t, \"08:00\", \"18:00\", \"Europe/Berlin\")` | `t` in the zone falls within [start, end); an end before the start spans midnight (`\"22:00\", \"05:00\"`); equal start and end is all day. A bad time or zone is an error, found on save when given as literals |\n" +
	"| `path_matches(path, pattern)`, `path.path_matches(pattern)` | `path` matches the pattern as above |\n" +
	"| `cmd_tokens(s)` | the shell words of `s`, quotes removed; operators such as `\\|` and `>` are words of their own |\n" +
	"| `normalize_cmd(s)` | `s` with quotes removed, single spaces and program paths reduced to names |\n" +
	"| `remote_host(s)` | the host of `user@host:path`, `host:path` or a URL; \"\" for a local path |\n" +
	"| `is_external_host(h)` | `h` is outside the organisation: a public IP, or a dotted name not ending in `.internal`, `.local`, `.lan`, `.localdomain`, `.home.arpa`, `.corp`, `.intranet` (private, loopback and single-label names are internal) |\n" +
	"| `first_seen(key)` | `key` was never seen before by this rule engine (it is then remembered), e.g. `first_seen(event.user + \"@\" + event.host)` |\n\n" +
	"Time functions take a zone too: `event.time.getDayOfWeek(\"UTC\")` (0 is Sunday), `event.time.getHours(\"Europe/Berlin\")`.\n\n" +
	"### Limits\n\n" +
	"An expression is refused when its worst-case cost (with argv of 256 words and strings of 4 KiB) exceeds 100,000,000, " +
	"and stops with an error when one evaluation costs more than 100,000 (about as many operations). " +
	"An evaluation error skips that rule for that event; other rules still run.\n\n" +
	"### Thresholds and throttles\n\n" +
	"With a threshold, a rule fires when `count` matching events of one group (`group_by` of " +
	"`user`, `host`, `source_ip`, `target_user`, `session`, `command`) fall within `window`; the count " +
	"then starts again. After a rule fires for a group (without a threshold: the same user and host), " +
	"further matches within `throttle` are counted but raise no new alert. Times are the events' own.\n"
