package rules

import (
	"slices"
	"time"

	"github.com/vigilhq/vigil"
)

// BuiltinRule is a rule of the built-in pack. Organisations copy one into
// their own rules (vigil.Rule.Builtin keeps the id) and edit the copy.
type BuiltinRule struct {
	ID          string
	Name        string
	Description string
	Expression  string
	Severity    vigil.Severity
	Controls    []string
	Threshold   *vigil.RuleThreshold
	Throttle    vigil.Duration
}

// Rule returns the built-in rule as an enabled rule that alerts.
func (b BuiltinRule) Rule() vigil.Rule {
	r := vigil.Rule{
		Name: b.Name, Description: b.Description, Expression: b.Expression, Severity: b.Severity,
		Controls: slices.Clone(b.Controls), Enabled: true, Actions: []vigil.RuleAction{vigil.ActionAlert},
		Throttle: b.Throttle, Builtin: b.ID,
	}
	if b.Threshold != nil {
		t := *b.Threshold
		t.GroupBy = slices.Clone(t.GroupBy)
		r.Threshold = &t
	}
	return r
}

// BuiltinRules returns the whole pack as rules.
func BuiltinRules() []vigil.Rule {
	var out []vigil.Rule
	for _, b := range Builtin() {
		out = append(out, b.Rule())
	}
	return out
}

// cmd restricts a rule to events that carry a command line.
const cmd = `event.type in ["command", "sudo"] && `

const shellList = `["sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "fish"]`

func dur(d time.Duration) vigil.Duration { return vigil.Duration(d) }

// Builtin returns the built-in rule pack. Ids are stable: stored copies refer to them.
func Builtin() []BuiltinRule {
	return []BuiltinRule{
		{
			ID: "shadow-read", Name: "Password hashes or private keys read",
			Description: "A command read /etc/shadow, /etc/gshadow or a private key file (id_rsa, id_ed25519, *.pem, *.key). Reading them is a first step to cracking passwords or impersonating hosts.",
			Expression: cmd + `event.runs_arg(["cat", "tac", "less", "more", "head", "tail", "cp", "scp", "rsync", "base64", "base32", "xxd", "od", "hexdump", "strings", "grep", "egrep", "fgrep", "awk", "sed", "vi", "vim", "view", "nano", "emacs", "dd", "tar", "zip", "gzip", "openssl", "nl", "sort", "uniq", "cut", "curl", "nc", "python*", "perl", "unshadow", "john", "diff"],
  ["/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "*.key", "*.pem", "ssh_host_*_key"])
  && !event.runs_arg(["cat", "less", "more", "head", "tail", "openssl", "grep"], ["/etc/ssl/certs/**", "/usr/share/**", "/etc/pki/ca-trust/**"])`,
			Severity: vigil.SeverityHigh, Controls: []string{"8.2", "8.5", "5.17"},
		},
		{
			ID: "root-shell", Name: "Interactive root shell",
			Description: "Someone opened a root shell (sudo -i, sudo -s, sudo su, sudo bash, su -) instead of running single commands through sudo, so later commands lose their attribution.",
			Expression: `event.type == "su" && event.target_user in ["root", ""] || ` + cmd + `(
  event.runs_flag(["sudo", "doas"], ["-i", "-s", "--login", "--shell"])
    && (!event.runs_arg(["sudo", "doas"], ["-u", "--user=*"]) || event.runs_arg(["sudo", "doas"], ["root", "#0", "--user=root"]))
  || event.runs_as_root(["su"] + ` + shellList + `) && !event.runs_flag(["su"] + ` + shellList + `, ["-c", "--command"])
  || event.runs(["su"]) && !event.runs_flag(["su"], ["-c", "--command"]) && (!event.runs_arg(["su"], ["[!-]*"]) || event.runs_arg(["su"], ["root"])))`,
			Severity: vigil.SeverityMedium, Controls: []string{"8.2", "8.18"},
		},
		{
			ID: "sudoers-edit", Name: "sudoers changed",
			Description: "The sudo policy was edited (visudo, an editor, tee or a redirection on /etc/sudoers or /etc/sudoers.d).",
			Expression: cmd + `(event.runs(["visudo"]) && !event.runs_flag(["visudo"], ["-c", "--check"])
  || event.writes(["/etc/sudoers", "/etc/sudoers.d/**"]))`,
			Severity: vigil.SeverityHigh, Controls: []string{"8.2", "8.18", "8.32"},
		},
		{
			ID: "account-change", Name: "Local account or group changed",
			Description: "A local user or group was added or changed (useradd, adduser, usermod -aG, gpasswd, groupadd, edits of /etc/passwd or /etc/group).",
			Expression: `event.type in ["user_added", "group_changed"] || ` + cmd + `(event.runs(["useradd", "adduser", "groupadd", "addgroup", "gpasswd", "vipw", "vigr", "newusers", "chpasswd"])
  || event.runs_flag(["usermod"], ["-G", "-a", "--groups", "--append", "-u", "-o", "-L", "-U", "-p"])
  || event.writes(["/etc/passwd", "/etc/group", "/etc/gshadow", "/etc/shadow"]))`,
			Severity: vigil.SeverityMedium, Controls: []string{"5.16", "5.18", "8.2"},
		},
		{
			ID: "history-tamper", Name: "Shell history cleared or disabled",
			Description: "Someone cleared the shell history or stopped it being written (history -c, removing or truncating .bash_history, unset HISTFILE, HISTFILE=/dev/null, HISTSIZE=0, set +o history).",
			Expression: cmd + `(event.runs_flag(["history"], ["-c", "-w"]) && event.runs_flag(["history"], ["-c"])
  || event.runs_arg(["rm", "shred", "truncate", "unlink", "ln", "wipe", "srm"], [".bash_history", ".zsh_history", ".history", ".sh_history", ".ash_history", ".python_history", ".mysql_history", ".psql_history", "fish_history"])
  || event.writes([".bash_history", ".zsh_history", ".history", ".sh_history", ".ash_history", "fish_history"])
  || event.runs_arg(["unset", "export", "declare", "typeset", "set", "env"], ["HISTFILE", "HISTFILE=*", "HISTSIZE=0", "HISTFILESIZE=0", "HISTCONTROL=ignorespace", "HISTCONTROL=ignoreboth", "+o", "HISTIGNORE=*"])
  && !event.runs_arg(["export", "declare", "typeset", "env"], ["HISTFILE=~/*", "HISTFILE=$HOME/*", "HISTFILE=/home/*", "HISTFILE=/root/*"]))`,
			Severity: vigil.SeverityHigh, Controls: []string{"8.15", "5.28"},
		},
		{
			ID: "audit-stop", Name: "Logging or monitoring stopped",
			Description: "auditd, journald, syslog or the Vigil agent was stopped, disabled or killed, or kernel auditing switched off (auditctl -e 0).",
			Expression: cmd + `(event.runs_args(["systemctl", "service", "initctl", "rc-service", "update-rc.d", "chkconfig", "sv"], ["stop", "disable", "mask", "kill", "off", "remove", "down", "--now"], ["auditd*", "systemd-journald*", "rsyslog*", "syslog-ng*", "vigil-agent*", "vigil*", "auditd.service", "journald"])
  || event.runs_arg(["kill", "pkill", "killall", "skill"], ["auditd", "systemd-journald", "rsyslogd", "vigil-agent", "syslog-ng", "-f"]) && event.mentions(["*auditd*", "*journald*", "*rsyslog*", "*vigil*", "*syslog-ng*"])
  || event.runs_args(["auditctl"], ["-e"], ["0"]) || event.runs_flag(["auditctl"], ["-D"]))`,
			Severity: vigil.SeverityCritical, Controls: []string{"8.15", "8.16"},
		},
		{
			ID: "pipe-to-shell", Name: "Script downloaded and run",
			Description: "A script was downloaded and run straight away (curl … | sh, wget -O- … | bash, bash <(curl …), sh -c \"$(curl …)\"), skipping any review of what runs.",
			Expression: cmd + `event.pipes(["curl", "wget", "fetch", "aria2c", "lwp-download", "http", "https", "nc", "base64"], ` + shellList + ` + ["source", ".", "sudo", "eval", "python*", "perl"])
  && !event.runs_arg(["python*"], ["json.tool", "-m"])`,
			Severity: vigil.SeverityHigh, Controls: []string{"8.19", "8.7"},
		},
		{
			ID: "reverse-shell", Name: "Reverse shell",
			Description: "A command opened a shell for a remote party: nc/ncat -e, bash -i >& /dev/tcp/…, socat exec:, python/perl with socket and a shell, a fifo fed to nc.",
			Expression: cmd + `(event.runs_flag(["nc", "ncat", "netcat", "nc.traditional", "nc.openbsd"], ["-e", "-c", "--exec", "--sh-exec", "--lua-exec"])
  || event.mentions(["/dev/tcp/**", "/dev/udp/**"])
  || event.runs_arg(["socat"], ["exec:*", "EXEC:*", "system:*", "SYSTEM:*", "*:exec:*"]) && event.runs_arg(["socat"], ["tcp*", "TCP*", "udp*", "UDP*", "openssl*", "OPENSSL*", "ssl*"])
  || event.runs_args(["python*", "perl", "ruby", "php*", "lua*"], ["*socket*", "*Socket*", "*TCPSocket*", "*fsockopen*"], ["*pty*", "*subprocess*", "*dup2*", "*exec*", "*spawn*", "*system*", "*popen*", "*/bin/*"])
  || event.runs(["mkfifo", "mknod"]) && event.runs(["nc", "ncat", "netcat", "telnet", "openssl", "socat"])
  || event.pipes(` + shellList + `, ["nc", "ncat", "netcat", "telnet"]) && event.pipes(["nc", "ncat", "netcat", "telnet", "cat"], ` + shellList + `))`,
			Severity: vigil.SeverityCritical, Controls: []string{"8.7", "8.16", "8.20"},
		},
		{
			ID: "bulk-copy-out", Name: "Data copied to an outside host",
			Description: "scp, rsync, sftp, curl -T/--upload-file or rclone copied data to a host outside the organisation: a public address or a dotted name not ending in .internal, .local or .lan (edit the expression to add your own domains).",
			Expression: cmd + `(event.runs(["scp", "rsync", "sftp", "pscp"]) && event.argv.exists(a, is_external_host(remote_host(a)))
  || event.runs_flag(["curl"], ["-T", "--upload-file", "-F", "--form", "--data-binary"]) && event.argv.exists(a, is_external_host(remote_host(a)))
  || event.runs_arg(["rclone"], ["copy", "sync", "move", "copyto", "moveto"]) && event.argv.exists(a, remote_host(a) != "" && !a.startsWith("/")))`,
			Severity: vigil.SeverityHigh, Controls: []string{"8.12", "5.14", "8.10"},
		},
		{
			ID: "db-dump", Name: "Database dump outside the maintenance window",
			Description: "mysqldump, pg_dump, pg_dumpall or mongodump ran outside the maintenance window of 22:00–05:00 UTC. Change the window to yours.",
			Expression:  cmd + `event.runs(["mysqldump", "mariadb-dump", "pg_dump", "pg_dumpall", "mongodump", "mongoexport"]) && !in_hours(event.time, "22:00", "05:00", "UTC")`,
			Severity:    vigil.SeverityMedium, Controls: []string{"8.12", "8.11"},
		},
		{
			ID: "mass-delete", Name: "Recursive deletion of data",
			Description: "rm -r (also -rf, -fr, -r -f, --recursive) on /, /etc, /home, /srv, /data, /opt, /var/lib, /var/www or database directories.",
			Expression:  cmd + `event.runs_flag(["rm"], ["-r", "-R", "--recursive"]) && event.runs_arg(["rm"], ["/", "/*", "/etc", "/etc/**", "/home", "/home/*", "/srv", "/srv/**", "/data", "/data/**", "/opt", "/opt/*", "/var/lib", "/var/lib/*", "/var/lib/postgresql/**", "/var/lib/mysql/**", "/var/www", "/var/www/**", "/root", "/usr", "/boot", "/var", "/var/backups/**", "/backup*/**"])`,
			Severity:    vigil.SeverityHigh, Controls: []string{"8.10", "8.13"},
		},
		{
			ID: "login-off-hours", Name: "Login outside working hours",
			Description: "A successful login outside 08:00–19:00 UTC or at a weekend. Copy and set your own hours and time zone.",
			Expression:  `event.type == "login" && (!in_hours(event.time, "08:00", "19:00", "UTC") || event.time.getDayOfWeek("UTC") in [0, 6])`,
			Severity:    vigil.SeverityLow, Controls: []string{"8.2", "8.5"},
			Throttle: dur(time.Hour),
		},
		{
			ID: "login-burst-failed", Name: "Burst of failed logins",
			Description: "Five failed logins for one user from one address within five minutes: password guessing.",
			Expression:  `event.type == "login_failed"`,
			Severity:    vigil.SeverityMedium, Controls: []string{"8.5", "5.17"},
			Threshold: &vigil.RuleThreshold{Count: 5, Window: dur(5 * time.Minute), GroupBy: []string{"source_ip", "user"}},
			Throttle:  dur(15 * time.Minute),
		},
		{
			ID: "password-spray", Name: "Failed logins for many accounts from one address",
			Description: "Twenty failed logins from one address within ten minutes, whatever the user: password spraying.",
			Expression:  `event.type == "login_failed" && event.source_ip != ""`,
			Severity:    vigil.SeverityHigh, Controls: []string{"8.5", "8.16"},
			Threshold: &vigil.RuleThreshold{Count: 20, Window: dur(10 * time.Minute), GroupBy: []string{"source_ip"}},
			Throttle:  dur(30 * time.Minute),
		},
		{
			ID: "first-login", Name: "First login of a user to a host",
			Description: "A user logged in to a host for the first time. The server remembers pairs it has seen.",
			Expression:  `event.type == "login" && event.user != "" && first_seen(event.user + "@" + event.host)`,
			Severity:    vigil.SeverityLow, Controls: []string{"8.2", "5.18"},
		},
		{
			ID: "crypto-miner", Name: "Crypto-currency miner",
			Description: "A known miner ran (xmrig, minerd, cpuminer, ethminer, t-rex, nbminer, cgminer…) or a command connects to a stratum mining pool.",
			Expression: cmd + `(event.runs(["xmrig*", "minerd", "cpuminer*", "ethminer", "t-rex", "nbminer", "cgminer", "bfgminer", "phoenixminer", "lolminer", "nanominer", "xmr-stak*", "ccminer", "teamredminer", "gminer", "srbminer*"])
  || event.mentions(["*stratum+tcp://*", "*stratum+ssl://*", "*stratum2+tcp://*", "*nicehash*", "*minexmr*", "*pool.supportxmr*"]))`,
			Severity: vigil.SeverityHigh, Controls: []string{"8.7", "8.6"},
		},
		{
			ID: "firewall-off", Name: "Host firewall disabled",
			Description: "The host firewall was switched off or emptied: ufw disable, stopping firewalld or nftables, iptables -F or a default ACCEPT policy, nft flush ruleset.",
			Expression: cmd + `(event.runs_arg(["ufw"], ["disable", "reset"])
  || event.runs_args(["systemctl", "service"], ["stop", "disable", "mask", "kill"], ["firewalld*", "nftables*", "ufw*", "iptables*", "netfilter-persistent*"])
  || event.runs_flag(["iptables", "ip6tables", "iptables-legacy", "iptables-nft"], ["-F", "--flush", "-X"]) && !event.runs_arg(["iptables", "ip6tables", "iptables-legacy", "iptables-nft"], ["-t"])
  || event.runs_args(["iptables", "ip6tables", "iptables-legacy", "iptables-nft"], ["-P", "--policy"], ["ACCEPT"])
  || event.runs_args(["nft"], ["flush"], ["ruleset"]) || event.runs_args(["firewall-cmd"], ["--panic-off", "--set-default-zone=trusted"], ["*"]))`,
			Severity: vigil.SeverityHigh, Controls: []string{"8.20", "8.22"},
		},
		{
			ID: "authorized-keys", Name: "SSH authorized keys changed",
			Description: "A key was added to an authorized_keys file (an editor, echo >>, tee, cp or mv onto it, ssh-copy-id), giving lasting access that bypasses passwords.",
			Expression:  cmd + `(event.writes(["authorized_keys", "authorized_keys2"]) || event.runs(["ssh-copy-id"]))`,
			Severity:    vigil.SeverityHigh, Controls: []string{"5.18", "8.2", "8.5"},
		},
		{
			ID: "setuid", Name: "Setuid or setgid bit set",
			Description: "chmod set the setuid or setgid bit (u+s, g+s, 4755 …), a common way to keep root access.",
			Expression:  cmd + `event.runs_arg(["chmod"], ["u+s", "+s", "g+s", "a+s", "ug+s", "[4-7][0-7][0-7][0-7]", "[2-7][0-7][0-7][0-7]"]) && !event.runs_arg(["chmod"], ["[01][0-7][0-7][0-7]"])`,
			Severity:    vigil.SeverityHigh, Controls: []string{"8.2", "8.18"},
		},
		{
			ID: "kernel-module", Name: "Kernel module loaded or removed",
			Description: "insmod, rmmod or modprobe changed the running kernel's modules, which rootkits do.",
			Expression:  cmd + `(event.runs(["insmod", "rmmod"]) || event.runs(["modprobe"]) && !event.runs_flag(["modprobe"], ["-n", "--dry-run", "-c", "--showconfig", "--show-depends"]))`,
			Severity:    vigil.SeverityMedium, Controls: []string{"8.19", "8.9"},
		},
		{
			ID: "selinux-off", Name: "SELinux or AppArmor disabled",
			Description: "Mandatory access control was switched off: setenforce 0, SELINUX=disabled, aa-teardown, stopping apparmor.",
			Expression: cmd + `(event.runs_arg(["setenforce"], ["0", "Permissive", "permissive"]) || event.runs(["aa-teardown", "aa-disable", "aa-complain"])
  || event.runs_args(["systemctl", "service"], ["stop", "disable", "mask"], ["apparmor*"]) || event.mentions(["*SELINUX=disabled*", "*SELINUX=permissive*"]))`,
			Severity: vigil.SeverityHigh, Controls: []string{"8.9", "8.20"},
		},
		{
			ID: "root-crontab", Name: "Scheduled task changed by root",
			Description: "root edited or replaced a crontab, or wrote into /etc/cron*, a common way to persist.",
			Expression: cmd + `(event.runs_as_root(["crontab"]) && !event.runs_flag(["crontab"], ["-l"]) || event.user == "root" && event.runs(["crontab"]) && !event.runs_flag(["crontab"], ["-l"])
  || event.writes(["/etc/cron*/**", "/etc/crontab", "/var/spool/cron/**"]))`,
			Severity: vigil.SeverityMedium, Controls: []string{"8.9", "8.32"},
		},
		{
			ID: "log-wipe", Name: "System logs deleted or truncated",
			Description: "Files under /var/log were removed, shredded or truncated, or the journal vacuumed.",
			Expression: cmd + `(event.runs_arg(["rm", "shred", "truncate", "unlink"], ["/var/log/**"]) || event.writes(["/var/log/**"]) && event.runs(["echo", "printf", "cat", "true", "export", ":", "truncate", "cp"])
  || event.runs_arg(["journalctl"], ["--vacuum-*", "--rotate"]) && event.runs_flag(["journalctl"], ["--vacuum-time", "--vacuum-size", "--vacuum-files"]))`,
			Severity: vigil.SeverityHigh, Controls: []string{"8.15"},
		},
	}
}
