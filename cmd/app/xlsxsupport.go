package app

import (
	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/xlsx"
)

// validateWorkbook reads a workbook export; its problems name Sheet!Cell locations.
func validateWorkbook(v *ingest.Validator, path string, data []byte) (*ingest.Export, error) {
	return xlsx.Validate(v, path, data)
}
