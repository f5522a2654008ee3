package vigil

import (
	"strings"
	"time"
)

// Org is an organisation: every record belongs to exactly one.
type Org struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// NormalizeOrgName trims and validates an organisation's name.
func NormalizeOrgName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", Invalid("name", "must not be empty")
	}
	if len(name) > 200 {
		return "", Invalid("name", "must be at most 200 characters")
	}
	return name, nil
}
