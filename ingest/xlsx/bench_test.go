package xlsx

import (
	"testing"

	"github.com/collate-project/collate/ingest/demo"
)

func BenchmarkWrite(b *testing.B) {
	g, err := demo.New(demo.Options{Reviews: 10, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	e := g.Export(3)
	b.ReportAllocs()
	for b.Loop() {
		mustWrite(b, e)
	}
}

func BenchmarkRead(b *testing.B) {
	g, err := demo.New(demo.Options{Reviews: 10, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	data := mustWrite(b, g.Export(3))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadWorkbook("r.xlsx", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidate is the whole path for one uploaded workbook: read,
// screen every text, check.
func BenchmarkValidate(b *testing.B) {
	g, err := demo.New(demo.Options{Reviews: 10, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	data := mustWrite(b, g.Export(3))
	v := mustValidator(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate(v, "r.xlsx", data); err != nil {
			b.Fatal(err)
		}
	}
}
