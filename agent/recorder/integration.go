package recorder

import (
	"path/filepath"
	"strings"
)

// bashIntegration is the rcfile the recorder gives bash. It loads the user's
// own startup files, as bash would have, then emits OSC 133 marks: C with the
// command line and working directory before each command (PS0), D with its
// exit status and A before each prompt (PROMPT_COMMAND). Values are
// percent-encoded as osc133.Encode does.
const bashIntegration = `exec 3<&-
__VIGIL_STARTUP__
__vigil_enc() {
	local LC_ALL=C s="$1" out="" c i
	for ((i = 0; i < ${#s}; i++)); do
		c="${s:i:1}"
		case "$c" in
		[A-Za-z0-9./_~:,@+-]) out+="$c" ;;
		*) printf -v c '%%%02X' "'$c"; out+="$c" ;;
		esac
	done
	printf '%s' "$out"
}
__vigil_preexec() {
	local c
	c=$(HISTTIMEFORMAT= builtin history 1)
	[[ $c =~ ^[[:space:]]*[0-9]+\*?[[:space:]]+(.*)$ ]] && c="${BASH_REMATCH[1]}"
	printf '\033]133;C;cmdline=%s;cwd=%s\007' "$(__vigil_enc "$c")" "$(__vigil_enc "$PWD")"
}
__vigil_prompt() {
	local s=$?
	printf '\033]133;D;%s\007\033]133;A;cwd=%s\007' "$s" "$(__vigil_enc "$PWD")"
	return $s
}
PROMPT_COMMAND="__vigil_prompt${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
PS0='$(__vigil_preexec)'"${PS0-}"
`

const bashLogin = `[ -r /etc/profile ] && . /etc/profile
if [ -r ~/.bash_profile ]; then . ~/.bash_profile
elif [ -r ~/.bash_login ]; then . ~/.bash_login
elif [ -r ~/.profile ]; then . ~/.profile
fi`

const bashInteractive = `[ -r /etc/bash.bashrc ] && . /etc/bash.bashrc
[ -r ~/.bashrc ] && . ~/.bashrc`

// BashRC returns the rcfile for an interactive bash, a login shell or not.
func BashRC(login bool) string {
	startup := bashInteractive
	if login {
		startup = bashLogin
	}
	return strings.Replace(bashIntegration, "__VIGIL_STARTUP__", startup, 1)
}

// zshEnv is the .zshenv in the folder the recorder points ZDOTDIR at: it puts
// the user's ZDOTDIR back (so zsh reads the user's own .zprofile, .zshrc and
// .zlogin next), sources the user's .zshenv and adds precmd/preexec hooks that
// emit the same marks as the bash integration.
const zshEnv = `if [[ -n "${VIGIL_USER_ZDOTDIR+x}" ]]; then ZDOTDIR="$VIGIL_USER_ZDOTDIR"; else unset ZDOTDIR; fi
unset VIGIL_USER_ZDOTDIR
[[ -r "${ZDOTDIR:-$HOME}/.zshenv" ]] && builtin source "${ZDOTDIR:-$HOME}/.zshenv"
__vigil_enc() {
	emulate -L zsh
	setopt nomultibyte
	local s=$1 out= c i
	for (( i = 1; i <= ${#s}; i++ )); do
		c=${s[i]}
		case $c in
		([A-Za-z0-9./_~:,@+-]) out+=$c ;;
		(*) printf -v c '%%%02X' "'$c"; out+=$c ;;
		esac
	done
	print -rn -- $out
}
__vigil_preexec() {
	printf '\033]133;C;cmdline=%s;cwd=%s\007' "$(__vigil_enc "$1")" "$(__vigil_enc "$PWD")"
}
__vigil_precmd() {
	local s=$?
	printf '\033]133;D;%s\007\033]133;A;cwd=%s\007' "$s" "$(__vigil_enc "$PWD")"
	return $s
}
autoload -Uz add-zsh-hook
add-zsh-hook preexec __vigil_preexec
add-zsh-hook precmd __vigil_precmd
`

// integrates reports whether the recorder knows how to inject shell integration into shell.
func integrates(shell string) bool {
	switch filepath.Base(shell) {
	case "bash", "zsh":
		return true
	}
	return false
}
