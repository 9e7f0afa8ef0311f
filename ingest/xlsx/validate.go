package xlsx

import (
	"errors"

	"github.com/collate-project/collate/ingest"
)

// Validate reads a workbook, screens every piece of text in it for
// identifying information, and runs the validator's Check on the export it
// converts to. Every problem names the workbook and a Sheet!Cell location.
// On success it returns the export, ready for ingest.Writer exactly as a
// JSON export would be.
//
// Formula cells are refused, wherever they are: Collate never evaluates a
// formula and does not trust a cached result it cannot check.
func Validate(v *ingest.Validator, name string, data []byte) (*ingest.Export, error) {
	wb, err := ReadWorkbook(name, data)
	if wb == nil {
		return nil, err
	}
	var ps ingest.Problems
	converted := err == nil
	if err != nil {
		var rps ingest.Problems
		if !errors.As(err, &rps) {
			return nil, err
		}
		ps = append(ps, rps...)
	}
	// When the conversion failed, Check does not run, so the screen takes
	// every text, including those Check would have screened.
	sps, err := wb.screen(v, name, !converted)
	if err != nil {
		return nil, err
	}
	ps = append(ps, sps...)
	if converted {
		if err := v.Check(name, wb.Export); err != nil {
			var cps ingest.Problems
			if !errors.As(err, &cps) {
				return nil, err
			}
			ps = append(ps, wb.Cells.Translate(cps)...)
		}
	}
	if len(ps) == 0 {
		return wb.Export, nil
	}
	ps = dedupe(ps)
	sortProblems(ps, wb.order)
	if len(ps) > maxProblems {
		ps = ps[:maxProblems]
	}
	return nil, ps
}

// dedupe drops a problem reported twice for the same place, as the screen
// of the workbook and the validator's screen of the export can.
func dedupe(ps ingest.Problems) ingest.Problems {
	type key struct{ loc, msg string }
	seen := map[key]bool{}
	out := ps[:0]
	for _, p := range ps {
		k := key{p.Location, p.Message}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, p)
	}
	return out
}

// maxProblems caps the problems reported for one workbook, as the validator
// caps them for one JSON file.
const maxProblems = 100
