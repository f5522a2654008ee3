package store

import "context"

// SetMinVerifyRange lets tests make every chain long enough to be verified
// in parallel ranges.
func SetMinVerifyRange(n int64) (restore func()) {
	old := minVerifyRange
	minVerifyRange = n
	return func() { minVerifyRange = old }
}

// NextRef exposes Tx.nextRef to the external tests.
func NextRef(ctx context.Context, s *Store, orgID, kind string) (ref string, err error) {
	err = s.update(ctx, func(tx *Tx) error {
		ref, err = tx.nextRef(ctx, orgID, kind)
		return err
	})
	return ref, err
}

// ResolvePerson exposes Tx.resolvePerson to the external tests.
func ResolvePerson(ctx context.Context, s *Store, orgID, ref string) (id string, err error) {
	err = s.update(ctx, func(tx *Tx) error {
		id, err = tx.resolvePerson(ctx, orgID, "owner", ref)
		return err
	})
	return id, err
}

// CastFromEvents exposes castFromEvents to the external tests.
func CastFromEvents(b []byte) ([]CastLine, []byte, error) { return castFromEvents(b) }
