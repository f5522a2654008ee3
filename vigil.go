// Package vigil holds Vigil's domain: the types the rest of the code base talks
// about (organisations, people, roles, the audit trail) and the rules that apply
// to them. It imports only the standard library; storage, HTTP and the command
// line are adapters in their own packages.
package vigil

import "time"

// Version is the release of this build; the linker may override it.
var Version = "0.1.0-dev"

// SystemChain is the trail chain of events that belong to no organisation
// (logins of unknown accounts, organisation creation, CLI maintenance).
const SystemChain = "system"

// TruncateTime drops precision below a microsecond so that a time survives a
// round trip through both databases unchanged.
func TruncateTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
