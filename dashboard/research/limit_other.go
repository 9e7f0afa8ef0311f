//go:build !linux

package research

// limitProcessMemory has no portable equivalent outside Linux; the worker
// then relies on DuckDB's memory_limit and the time limit alone.
func limitProcessMemory(n uint64) error { return nil }
