// Package xlsx owns review workbooks: the Excel template generated from a
// coding frame and the geography, the conversion of a workbook into an
// ingest.Export and back, and the spreadsheet safety every CSV and XLSX file
// Collate writes relies on (SafeCell, SafeCSVWriter).
//
// A workbook is only another way to write an export. Read converts it; the
// ingest Validator then checks the export exactly as it checks JSON, and
// Validate puts the two together, reporting every problem at its Sheet!Cell.
// The package never evaluates a formula: workbooks with formula cells are
// refused. It never opens a database and never imports the web framework or
// chart packages; cmd and dashboard wire it in.
//
// Layout (shared by Template, Write and Read): an Instructions sheet; a
// Review sheet of Field/Value rows (Question and Agency rows repeat); table
// sheets Participants, Episodes (laid out like Appendix 4 of the seed),
// Evidence, Factors, Patterns and Recommendations, each with headers in row
// 2, a first column marking EXAMPLE rows the reader skips, and data from row
// 3; and a protected Lists sheet holding the dropdowns' codes as "CODE label".
// The reader finds sheets by name and columns by header text, so columns may
// be moved and other columns and sheets added; their text is still screened.
package xlsx
