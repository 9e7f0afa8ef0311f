package ingest

// SetChunkReviews sets how many loading reviews FinishLoading counts at a
// time, so tests can make a small load take several chunks; it returns a
// function that puts the old value back.
func SetChunkReviews(n int) (restore func()) {
	old := chunkReviews
	chunkReviews = n
	return func() { chunkReviews = old }
}
