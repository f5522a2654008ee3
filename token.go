package vigil

import "time"

// TokenPrefix starts every API token, so leaked tokens are easy to spot.
const TokenPrefix = "vgl_"

// Token is an API token bound to one membership. The secret itself is shown
// once at creation and stored only as a hash.
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	UserID     string     `json:"user_id"`
	Email      string     `json:"email"`
	OrgID      string     `json:"org_id"`
	Role       Role       `json:"role"`
	Hint       string     `json:"hint"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// NewToken describes a token to create.
type NewToken struct {
	MembershipID string
	Name         string
	ExpiresIn    time.Duration // 0 = never expires
}
