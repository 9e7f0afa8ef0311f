package ingest

import (
	"testing"
	"time"
)

// testNow fixes the clock for year checks: mid-June 2026.
var testNow = time.Date(2026, time.June, 15, 12, 0, 0, 0, time.UTC)

func mustValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := NewValidator(ValidatorOptions{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return v
}
