package wire

import (
	"encoding/json"
	"testing"
	"time"
)

func TestKnownEventType(t *testing.T) {
	t.Parallel()
	for _, typ := range EventTypes() {
		if !KnownEventType(typ) {
			t.Errorf("%s not known", typ)
		}
	}
	for _, typ := range []string{"", "Login", "logins", "exec"} {
		if KnownEventType(typ) {
			t.Errorf("%q known", typ)
		}
	}
}

func TestEventJSON(t *testing.T) {
	t.Parallel()
	no := false
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{
			name: "fields that do not apply are left out",
			ev:   Event{Type: EventLogout, Time: time.Date(2026, 11, 28, 3, 14, 15, 0, time.UTC), User: "alice"},
			want: `{"type":"logout","time":"2026-11-28T03:14:15Z","user":"alice"}`,
		},
		{
			name: "a false success is kept",
			ev: Event{Type: EventSudo, Time: time.Date(2026, 11, 28, 3, 14, 15, 500, time.UTC), User: "bob",
				TargetUser: "root", Command: "/bin/bash", TTY: "pts/1", CWD: "/home/bob", Success: &no},
			want: `{"type":"sudo","time":"2026-11-28T03:14:15.0000005Z","user":"bob","target_user":"root","command":"/bin/bash","tty":"pts/1","cwd":"/home/bob","success":false}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			var back Event
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			again, _ := json.Marshal(back)
			if string(again) != tt.want {
				t.Errorf("round trip gave %s", again)
			}
		})
	}
}
