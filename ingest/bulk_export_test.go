package ingest

// SetAfterCount makes FinishLoading call f after it has counted the loading
// reviews and before it stores the counts, so a test can change what is
// loading in between; it returns a function that removes f.
func SetAfterCount(f func()) (restore func()) {
	afterCount = f
	return func() { afterCount = nil }
}
