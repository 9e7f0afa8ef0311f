package xlsx

import (
	"github.com/collate-project/collate/ingest"
)

// screen runs the screen for identifying information over the workbook's
// texts: all of them, or only those the validator's Check does not already
// screen as fields of the converted export (cells outside the mapped
// fields, notes and sheet names). Each finding names the cell it came from.
func (wb *Workbook) screen(_ *ingest.Validator, name string, all bool) (ingest.Problems, error) {
	var out ingest.Problems
	for _, t := range wb.Texts {
		if !all && t.Kind == "" && wb.screened[t.Location] {
			continue
		}
		for _, p := range ingest.ScreenText(name, t.cell(), t.Value) {
			if t.Kind != "" {
				p.Message += " in the " + t.Kind
			}
			out = append(out, p)
		}
	}
	return out, nil
}
