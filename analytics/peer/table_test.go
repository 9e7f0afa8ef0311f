package peer

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBenchTable prints the benchmark tables of docs/benchmarks.md from the
// output of `go test -bench` (what `make bench` collects), given as
// COLLATE_BENCH_RESULTS=FILE; COLLATE_BENCH_TABLE=FILE also writes them
// there. Without COLLATE_BENCH_RESULTS it only checks itself on a sample.
//
// Lines "size: N" in the input give the store size of the benchmarks after
// them that do not name one (the dashboard's BenchmarkServer); lines
// "machine: …" and "load average: …" are copied into the heading.
func TestBenchTable(t *testing.T) {
	in := os.Getenv("COLLATE_BENCH_RESULTS")
	if in == "" {
		got := benchTables(parseBench(strings.NewReader(sampleBench)))
		if diff := cmp.Diff(sampleTables, got); diff != "" {
			t.Errorf("tables from the sample (-want +got):\n%s", diff)
		}
		return
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := benchTables(parseBench(f))
	fmt.Println(out)
	if path := os.Getenv("COLLATE_BENCH_TABLE"); path != "" {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// benchLine is one result line of `go test -bench`.
type benchLine struct {
	name    string // without the Benchmark prefix and -GOMAXPROCS suffix
	size    string // from size=N in the name or the last "size:" line
	metrics map[string]float64
}

type benchRun struct {
	notes []string // machine and load average lines
	lines []benchLine
}

var (
	benchResult = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)
	sizeInName  = regexp.MustCompile(`(?:size|reviews)=(\d+)`)
)

func parseBench(r io.Reader) benchRun {
	var run benchRun
	size := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "size:"):
			size = strings.TrimSpace(strings.TrimPrefix(line, "size:"))
		case strings.HasPrefix(line, "machine:"), strings.HasPrefix(line, "load average"):
			run.notes = append(run.notes, line)
		default:
			m := benchResult.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			bl := benchLine{name: m[1], size: size, metrics: map[string]float64{}}
			if s := sizeInName.FindStringSubmatch(bl.name); s != nil {
				bl.size = s[1]
			}
			f := strings.Fields(m[2])
			for i := 0; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err == nil {
					bl.metrics[f[i+1]] = v
				}
			}
			run.lines = append(run.lines, bl)
		}
	}
	return run
}

// benchTables lays the results out as Markdown: ingest beside read_json,
// each query in Collate, bare DuckDB SQL and SQLite, and each page and API
// call of the server.
func benchTables(run benchRun) string {
	var b strings.Builder
	for _, n := range run.notes {
		fmt.Fprintf(&b, "%s  \n", n)
	}

	// Ingest.
	type ingestRow struct{ ours, ref map[string]float64 }
	ingest := map[string]*ingestRow{}
	// Queries: size -> query -> engine -> metrics.
	queries := map[string]map[string]map[string]map[string]float64{}
	var server []benchLine
	for _, l := range run.lines {
		parts := strings.Split(l.name, "/")
		switch {
		case parts[0] == "Ingest" || parts[0] == "ReadJSONReference":
			r := ingest[l.size]
			if r == nil {
				r = &ingestRow{}
				ingest[l.size] = r
			}
			if parts[0] == "Ingest" {
				r.ours = l.metrics
			} else {
				r.ref = l.metrics
			}
		case (parts[0] == "Analytics" || parts[0] == "SQLitePeer") && len(parts) >= 4:
			q := strings.ReplaceAll(strings.Join(parts[2:len(parts)-1], "/"), "_", " ")
			engine := parts[len(parts)-1]
			if parts[0] == "SQLitePeer" && engine == "duckdb" {
				engine = "duckdb-peer"
			}
			if queries[l.size] == nil {
				queries[l.size] = map[string]map[string]map[string]float64{}
			}
			if queries[l.size][q] == nil {
				queries[l.size][q] = map[string]map[string]float64{}
			}
			queries[l.size][q][engine] = l.metrics
			// BenchmarkAnalytics measures the bare SQL in the same
			// sub-benchmark, alternating with Collate (naive-* metrics).
			if v, ok := l.metrics["naive-p50-ms"]; ok && engine == "collate" {
				queries[l.size][q]["naive"] = map[string]float64{"p50-ms": v, "p95-ms": l.metrics["naive-p95-ms"]}
			}
		case parts[0] == "Server":
			server = append(server, l)
		}
	}

	if len(ingest) > 0 {
		b.WriteString("\n### Ingest\n\n| reviews | Collate reviews/s | Collate rows/s | Collate peak RSS MiB | read_json reviews/s | read_json rows/s | read_json peak RSS MiB | Collate / read_json |\n|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, size := range sortedSizes(ingest) {
			r := ingest[size]
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", thousands(size),
				num(r.ours, "reviews/s"), num(r.ours, "rows/s"), num(r.ours, "peak-RSS-MiB"),
				num(r.ref, "reviews/s"), num(r.ref, "rows/s"), num(r.ref, "peak-RSS-MiB"), ratio(r.ours, r.ref, "reviews/s"))
		}
	}
	if len(queries) > 0 {
		b.WriteString("\n### Queries: median / p95 in ms\n\n" +
			"| reviews | question | Collate | DuckDB, bare SQL | DuckDB, peer SQL | SQLite, peer SQL | SQLite / DuckDB peer SQL (median) |\n" +
			"|--:|---|--:|--:|--:|--:|--:|\n")
		for _, size := range sortedSizes(queries) {
			var names []string
			for q := range queries[size] {
				names = append(names, q)
			}
			sort.Strings(names)
			for _, q := range names {
				e := queries[size][q]
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", thousands(size), q,
					pair(e["collate"]), pair(e["naive"]), pair(e["duckdb-peer"]), pair(e["sqlite"]), ratio(e["sqlite"], e["duckdb-peer"], "p50-ms"))
			}
		}
	}
	if len(server) > 0 {
		// BenchmarkServer/cold/PATH and /warm/PATH: the result cache off and on.
		type serverRow struct{ cold, warm map[string]float64 }
		rows := map[string]map[string]*serverRow{}
		var order []string
		for _, l := range server {
			name := strings.TrimPrefix(l.name, "Server/")
			cache, rest, ok := strings.Cut(name, "/")
			if !ok || (cache != "cold" && cache != "warm") {
				cache, rest = "cold", name
			}
			if rows[l.size] == nil {
				rows[l.size] = map[string]*serverRow{}
			}
			r := rows[l.size][rest]
			if r == nil {
				r = &serverRow{}
				rows[l.size][rest] = r
				if !slices.Contains(order, rest) {
					order = append(order, rest)
				}
			}
			if cache == "cold" {
				r.cold = l.metrics
			} else {
				r.warm = l.metrics
			}
		}
		b.WriteString("\n### Pages and API over HTTP: median / p95 in ms\n\n| reviews | request | result cache off | result cache on |\n|--:|---|--:|--:|\n")
		for _, size := range sortedSizes(rows) {
			for _, name := range order {
				if r := rows[size][name]; r != nil {
					fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", thousands(size), requestOf(name), pair(r.cold), pair(r.warm))
				}
			}
		}
	}
	return b.String()
}

// requestOf turns a sub-benchmark name back into the request it made:
// api_v1_trends_tree-factor_depth-2 is /api/v1/trends?tree=factor&depth=2.
func requestOf(name string) string {
	if name == "overview" {
		return "`/`"
	}
	segs := strings.Split(name, "_")
	q := len(segs)
	for i, seg := range segs {
		if k, _, ok := strings.Cut(seg, "-"); ok && queryKeys[k] {
			q = i
			break
		}
	}
	path := "/" + strings.Join(segs[:q], "/")
	if path != "/" {
		path = strings.TrimSuffix(path, "/")
	}
	if q == len(segs) {
		return "`" + path + "`"
	}
	var kv []string
	for _, seg := range segs[q:] {
		k, v, _ := strings.Cut(seg, "-")
		kv = append(kv, k+"="+v)
	}
	return "`" + path + "?" + strings.Join(kv, "&") + "`"
}

// queryKeys are the query parameters benchmark names carry.
var queryKeys = map[string]bool{"collection": true, "from": true, "to": true, "tree": true, "depth": true, "focus": true,
	"code": true, "codes": true, "q": true, "what": true, "by": true, "page": true, "per_page": true, "kind": true}

func sortedSizes[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return atoi(out[i]) < atoi(out[j]) })
	return out
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func thousands(s string) string {
	n := atoi(s)
	if n == 0 {
		return s
	}
	out := strconv.Itoa(n)
	for i := len(out) - 3; i > 0; i -= 3 {
		out = out[:i] + "," + out[i:]
	}
	return out
}

func num(m map[string]float64, key string) string {
	v, ok := m[key]
	if !ok {
		return "–"
	}
	switch {
	case v >= 100:
		return thousands(strconv.Itoa(int(v + 0.5)))
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func pair(m map[string]float64) string {
	if m == nil {
		return "–"
	}
	return num(m, "p50-ms") + " / " + num(m, "p95-ms")
}

func ratio(a, b map[string]float64, key string) string {
	x, okA := a[key]
	y, okB := b[key]
	if !okA || !okB || y == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", x/y)
}

const sampleBench = `machine: 2 CPUs, AMD EPYC, 23 GiB
load average: 1.00 0.50 0.25
BenchmarkIngest/reviews=1000-2   	1	1000 ns/op	 2500 reviews/s	 90000 rows/s	 300.5 peak-RSS-MiB
BenchmarkReadJSONReference/reviews=1000-2   	1	1000 ns/op	 5000 reviews/s	 180000 rows/s	 250.0 peak-RSS-MiB
BenchmarkAnalytics/size=1000/overview_(region)/collate-2 	20	1 ns/op	1.500 p50-ms	2.000 p95-ms	1.700 cpu-p50-ms	3.000 naive-p50-ms	4.000 naive-p95-ms	3.100 naive-cpu-p50-ms	0.5000 ratio
BenchmarkSQLitePeer/size=1000/overview_(region)/duckdb-2 	20	1 ns/op	2.500 p50-ms	3.500 p95-ms
BenchmarkSQLitePeer/size=1000/overview_(region)/sqlite-2 	20	1 ns/op	25.00 p50-ms	30.00 p95-ms
size: 20000
BenchmarkServer/cold/api_v1_trends_tree-factor_depth-2-2 	20	1 ns/op	12.34 p50-ms	56.78 p95-ms
BenchmarkServer/warm/api_v1_trends_tree-factor_depth-2-2 	20	1 ns/op	0.1234 p50-ms	0.5678 p95-ms
BenchmarkServer/cold/_collection-ENG-NE_from-2020_to-2023-2 	20	1 ns/op	20 p50-ms	30 p95-ms
`

const sampleTables = `machine: 2 CPUs, AMD EPYC, 23 GiB  
load average: 1.00 0.50 0.25  

### Ingest

| reviews | Collate reviews/s | Collate rows/s | Collate peak RSS MiB | read_json reviews/s | read_json rows/s | read_json peak RSS MiB | Collate / read_json |
|--:|--:|--:|--:|--:|--:|--:|--:|
| 1,000 | 2,500 | 90,000 | 301 | 5,000 | 180,000 | 250 | 0.50× |

### Queries: median / p95 in ms

| reviews | question | Collate | DuckDB, bare SQL | DuckDB, peer SQL | SQLite, peer SQL | SQLite / DuckDB peer SQL (median) |
|--:|---|--:|--:|--:|--:|--:|
| 1,000 | overview (region) | 1.50 / 2.00 | 3.00 / 4.00 | 2.50 / 3.50 | 25.0 / 30.0 | 10.00× |

### Pages and API over HTTP: median / p95 in ms

| reviews | request | result cache off | result cache on |
|--:|---|--:|--:|
| 20,000 | ` + "`/api/v1/trends?tree=factor&depth=2`" + ` | 12.3 / 56.8 | 0.12 / 0.57 |
| 20,000 | ` + "`/?collection=ENG-NE&from=2020&to=2023`" + ` | 20.0 / 30.0 | – |
`
