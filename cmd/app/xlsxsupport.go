package app

import "github.com/collate-project/collate/ingest"

// validateWorkbook reads a workbook export. Until workbook import is wired in,
// a workbook is refused with a clear problem rather than misread.
func validateWorkbook(_ *ingest.Validator, path string, _ []byte) (*ingest.Export, error) {
	return nil, ingest.Problems{{File: path, Location: "/", Message: "workbook (.xlsx) exports are not supported by this build",
		Hint: "convert the workbook to JSON, or use a build with workbook import"}}
}
