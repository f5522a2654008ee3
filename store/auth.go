package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pquerna/otp/totp"
	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/password"
)

// errBadLogin is the one answer for a wrong email or password, so a caller
// cannot probe which accounts exist.
var errBadLogin = vigil.Errorf(vigil.EUnauthorized, "invalid email or password")

// dummyHash makes a login for an unknown email cost as much as a real one.
var dummyHash = sync.OnceValue(func() string {
	h, _ := password.Hash("vigil-timing-equaliser", password.Default)
	return h
})

// Authenticate checks an email and password. Failures are counted per
// account; LockoutThreshold failures within LockoutWindow lock the account
// for LockoutDuration. Every attempt is recorded in the trail. The returned
// user may still need a second factor (User.TOTPEnabled).
func (s *Store) Authenticate(ctx context.Context, email, pw string) (vigil.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var u vigil.User
	var hash string
	var lockedUntil, created int64
	err := s.queryRow(ctx, `SELECT id, email, name, disabled, totp_enabled, created_at, password_hash, locked_until FROM users WHERE email = ?`, email).
		Scan(&u.ID, &u.Email, &u.Name, &u.Disabled, &u.TOTPEnabled, &created, &hash, &lockedUntil)
	if errors.Is(err, sql.ErrNoRows) {
		_ = password.Verify(pw, dummyHash())
		if err := s.RecordEvent(ctx, "", vigil.ActionLoginFailure, "user", "", map[string]any{"email": email, "reason": "unknown account"}); err != nil {
			return u, err
		}
		return u, errBadLogin
	}
	if err != nil {
		return u, fmt.Errorf("find user: %w", err)
	}
	u.CreatedAt = fromMicros(created)
	now := s.now()
	if lockedUntil > micros(now) {
		if err := s.loginFailed(ctx, u.ID, "locked", false); err != nil {
			return u, err
		}
		return u, vigil.Errorf(vigil.ELocked, "this account is locked after repeated failed logins; try again after %s", fromMicros(lockedUntil).Format("15:04 MST"))
	}
	if hash == "" || password.Verify(pw, hash) != nil {
		if err := s.loginFailed(ctx, u.ID, "wrong password", true); err != nil {
			return u, err
		}
		return u, errBadLogin
	}
	if u.Disabled {
		if err := s.loginFailed(ctx, u.ID, "disabled", false); err != nil {
			return u, err
		}
		return u, errBadLogin
	}
	if u.TOTPEnabled {
		// The password step alone is not a login; LoginSucceeded records
		// the success once the second factor is in.
		return u, nil
	}
	return u, s.LoginSucceeded(ctx, u.ID, "password")
}

// loginFailed records a failed attempt; count says whether it counts
// towards the lockout.
func (s *Store) loginFailed(ctx context.Context, userID, reason string, count bool) error {
	return s.update(ctx, func(tx *Tx) error {
		details := map[string]any{"reason": reason}
		if count {
			if _, err := tx.exec(ctx, `INSERT INTO login_failures (user_id, at) VALUES (?, ?)`, userID, micros(tx.now)); err != nil {
				return fmt.Errorf("record failure: %w", err)
			}
			var n int
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM login_failures WHERE user_id = ? AND at > ?`, userID, micros(tx.now.Add(-vigil.LockoutWindow))).Scan(&n); err != nil {
				return fmt.Errorf("count failures: %w", err)
			}
			if n >= vigil.LockoutThreshold {
				until := tx.now.Add(vigil.LockoutDuration)
				if _, err := tx.exec(ctx, `UPDATE users SET locked_until = ? WHERE id = ?`, micros(until), userID); err != nil {
					return fmt.Errorf("lock account: %w", err)
				}
				if _, err := tx.exec(ctx, `DELETE FROM login_failures WHERE user_id = ?`, userID); err != nil {
					return fmt.Errorf("reset failures: %w", err)
				}
				details["locked_until"] = until
			}
		}
		return tx.trailUser(ctx, userID, vigil.ActionLoginFailure, details)
	})
}

// LoginSucceeded clears the failure count and records the login, with the
// person who signed in as its actor.
func (s *Store) LoginSucceeded(ctx context.Context, userID, method string) error {
	ctx = vigil.WithActor(ctx, vigil.Actor{Type: vigil.ActorUser, ID: userID, UserID: userID})
	return s.update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM login_failures WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("reset failures: %w", err)
		}
		return tx.trailUser(ctx, userID, vigil.ActionLoginSuccess, map[string]any{"method": method})
	})
}

// LoginFailedSecondFactor records a wrong TOTP or recovery code; it counts
// towards the lockout like a wrong password.
func (s *Store) LoginFailedSecondFactor(ctx context.Context, userID string) error {
	return s.loginFailed(ctx, userID, "wrong second factor", true)
}

// IsLocked reports whether an account is locked now.
func (s *Store) IsLocked(ctx context.Context, userID string) (bool, error) {
	var until int64
	if err := s.queryRow(ctx, `SELECT locked_until FROM users WHERE id = ?`, userID).Scan(&until); err != nil {
		return false, notFound(err, "user %s", userID)
	}
	return until > micros(s.now()), nil
}

// BeginTOTP stores a new, not yet enabled TOTP secret for a user and returns
// the key's otpauth URL (for the QR code) and secret.
func (s *Store) BeginTOTP(ctx context.Context, userID, issuer string) (url, secret string, err error) {
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return "", "", err
	}
	if u.TOTPEnabled {
		return "", "", vigil.Errorf(vigil.EConflict, "a second factor is already enrolled")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.Email})
	if err != nil {
		return "", "", fmt.Errorf("generate totp key: %w", err)
	}
	err = s.update(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `UPDATE users SET totp_secret = ? WHERE id = ? AND totp_enabled = ?`, key.Secret(), userID, false)
		return err
	})
	return key.URL(), key.Secret(), err
}

// EnableTOTP confirms enrolment with a current code and returns the
// recovery codes, shown once.
func (s *Store) EnableTOTP(ctx context.Context, userID, code string) ([]string, error) {
	var secret string
	var enabled bool
	if err := s.queryRow(ctx, `SELECT totp_secret, totp_enabled FROM users WHERE id = ?`, userID).Scan(&secret, &enabled); err != nil {
		return nil, notFound(err, "user %s", userID)
	}
	if enabled {
		return nil, vigil.Errorf(vigil.EConflict, "a second factor is already enrolled")
	}
	if secret == "" {
		return nil, vigil.Errorf(vigil.EInvalid, "start the enrolment first")
	}
	if !totp.Validate(strings.TrimSpace(code), secret) {
		return nil, vigil.Invalid("code", "is not the current code of your authenticator")
	}
	codes := make([]string, 10)
	for i := range codes {
		b := make([]byte, 5)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		c := strings.ToLower(base32.StdEncoding.EncodeToString(b))
		codes[i] = c[:4] + "-" + c[4:]
	}
	err := s.update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `UPDATE users SET totp_enabled = ?, updated_at = ? WHERE id = ?`, true, micros(tx.now), userID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return err
		}
		for _, c := range codes {
			if _, err := tx.exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, hashSecret(c)); err != nil {
				return err
			}
		}
		return tx.trailUser(ctx, userID, "user.totp_enable", map[string]any{"totp_enabled": true})
	})
	return codes, err
}

// DisableTOTP removes a user's second factor.
func (s *Store) DisableTOTP(ctx context.Context, userID string) error {
	return s.update(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE users SET totp_enabled = ?, totp_secret = '', updated_at = ? WHERE id = ? AND totp_enabled = ?`, false, micros(tx.now), userID, true)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "enrolled second factor"); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return err
		}
		return tx.trailUser(ctx, userID, "user.totp_disable", map[string]any{"totp_enabled": false})
	})
}

// CheckSecondFactor accepts a current TOTP code or an unused recovery code
// (which is then used up).
func (s *Store) CheckSecondFactor(ctx context.Context, userID, code string) (bool, error) {
	code = strings.ToLower(strings.TrimSpace(code))
	var secret string
	if err := s.queryRow(ctx, `SELECT totp_secret FROM users WHERE id = ? AND totp_enabled = ?`, userID, true).Scan(&secret); err != nil {
		return false, notFound(err, "enrolled second factor")
	}
	if totp.Validate(code, secret) {
		return true, nil
	}
	used := false
	err := s.update(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at = 0`, micros(tx.now), userID, hashSecret(code))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if used = n == 1; used {
			return tx.trailUser(ctx, userID, "user.recovery_code_use", map[string]any{"recovery_code": "used"})
		}
		return nil
	})
	return used, err
}

// hashSecret is how bearer secrets (tokens, session ids, recovery codes) are
// stored: they are long random values, so a plain SHA-256 suffices.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// randomSecret returns n random bytes, base64url-encoded.
func randomSecret(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
