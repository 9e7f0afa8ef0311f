package xlsx

import (
	"os"
	"strconv"
	"testing"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/demo"
)

// TestRoundTripDemo: JSON → XLSX → JSON is lossless over the whole demo set
// that `make demo` loads (3,000 reviews, seed 1); COLLATE_XLSX_DEMO_REVIEWS
// changes the size and -short keeps it to a few reviews.
func TestRoundTripDemo(t *testing.T) {
	n := 3000
	if s := os.Getenv("COLLATE_XLSX_DEMO_REVIEWS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("COLLATE_XLSX_DEMO_REVIEWS: %v", err)
		}
		n = v
	}
	if testing.Short() {
		n = 20
	}
	v := mustValidator(t)
	err := demo.Generate(demo.Options{Reviews: n, Seed: 1}, func(i int, e *ingest.Export) error {
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
