package authlog

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/vigilhq/vigil/wire"
)

// WriteJSON writes e as one JSON object on one line, in wire.Event's encoding: type, time
// (RFC 3339, UTC), then host, user, source_ip, target_user, command, tty, cwd, method, success
// and group where they apply.
// It is the output of `vigil-agent events parse FILE` and the format of the golden test files,
// so one line in gives at most one line out and the two can be diffed.
func WriteJSON(w io.Writer, e wire.Event) error {
	e.Time = e.Time.UTC()
	enc := json.NewEncoder(w)
	// Command lines are full of & < >: keep them readable rather than \u0026.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	return nil
}
