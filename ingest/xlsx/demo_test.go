package xlsx

import (
	"testing"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
)

// TestRoundTripDemo: JSON → XLSX → JSON is lossless over a generated demo
// set. The lead runs the whole set; -short keeps it to a few reviews.
func TestRoundTripDemo(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 20
	}
	v := mustValidator(t)
	err := demo.Generate(demo.Options{Reviews: n, Seed: 7}, func(i int, e *ingest.Export) error {
		if i%50 == 0 {
			// The whole path, with the validator and the screen, on a sample.
			if _, err := Validate(v, e.Review.ID+".xlsx", mustWrite(t, e)); err != nil {
				t.Errorf("review %d (%s): workbook refused: %v", i, e.Review.ID, err)
			}
		}
		roundTrip(t, e.Review.ID, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
