package research

import "syscall"

// limitProcessMemory caps the worker's data segment (heap and anonymous
// mappings), which covers DuckDB's allocations outside memory_limit.
func limitProcessMemory(n uint64) error {
	if n == 0 {
		return nil
	}
	return syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: n, Max: n})
}
