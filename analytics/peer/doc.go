// Package peer holds only benchmarks: it loads the demo set into SQLite,
// the engine Datasette-style tools put in front of such data, and runs the
// aggregations behind Collate's dashboard there and as bare SQL in DuckDB,
// so docs/benchmarks.md can show Collate beside a peer. It also turns
// `go test -bench` output into the tables of that document (TestBenchTable).
//
// Nothing outside tests imports it, and it must never be imported: the
// SQLite driver is a test-only dependency.
package peer
