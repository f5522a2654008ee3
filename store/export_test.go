package store

// SetMinVerifyRange lets tests make every chain long enough to be verified
// in parallel ranges.
func SetMinVerifyRange(n int64) (restore func()) {
	old := minVerifyRange
	minVerifyRange = n
	return func() { minVerifyRange = old }
}
