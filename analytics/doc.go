// Package analytics answers every question Collate asks of its store: what
// recurs, where and since when, in any collection of reviews, with the
// uncertainty of each figure and with disclosure control applied before any
// figure leaves the package.
//
// It owns the read side of the DuckDB store (the aggregates kept at ingest and
// the base tables), the statistics, the saved custom collections and the
// suppression of small numbers. Every query takes the Viewer who asks, so
// access scope and suppression are enforced here and no caller can get round
// them. It returns plain result structs, each with its Provenance.
//
// It must not import gin, go-echarts or the dashboard, and it never writes
// reviews: ingest owns every write except saved collections.
package analytics
