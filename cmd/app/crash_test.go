package app_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/collate-project/collate/dashboard"
	"github.com/collate-project/collate/ingest"
)

// buildCollate builds the collate binary into the test's temporary directory.
func buildCollate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "collate")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/collate-project/collate/cmd/collate")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// ack is a review version a target reported as stored.
type ack struct {
	id      string
	version int
	sha     string
}

// crashTarget is a way of storing reviews that the crash test kills part
// way through: `collate ingest` now; the server's upload API (every 201
// answer an ack) can be added as another target.
type crashTarget interface {
	name() string
	// start begins storing the export files in dir into the store. Every
	// review version the target reports as stored arrives on the channel,
	// which is closed when the target's output ends.
	start(t *testing.T, store, dir string) (*exec.Cmd, <-chan ack)
	// finish stores dir to the end without interruption.
	finish(t *testing.T, store, dir string)
	// binary is the collate binary, for the other commands the test runs.
	binary() string
}

// ingestTarget runs `collate ingest` with args added to its flags.
type ingestTarget struct {
	bin  string
	args []string
}

func (g ingestTarget) name() string { return strings.Join(append([]string{"ingest"}, g.args...), " ") }

func (g ingestTarget) binary() string { return g.bin }

func (g ingestTarget) start(t *testing.T, store, dir string) (*exec.Cmd, <-chan ack) {
	t.Helper()
	// Small batches: many commits to land between.
	args := append([]string{"ingest", "--db", store, "--batch", "3", "--ack", "--log-level", "error"}, g.args...)
	cmd := exec.Command(g.bin, append(args, dir)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acks := make(chan ack)
	go func() {
		defer close(acks)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Split(sc.Text(), "\t")
			if len(f) != 5 || f[0] != "stored" {
				continue
			}
			v, err := strconv.Atoi(f[2])
			if err != nil {
				continue
			}
			acks <- ack{id: f[1], version: v, sha: f[4]}
		}
	}()
	return cmd, acks
}

func (g ingestTarget) finish(t *testing.T, store, dir string) {
	t.Helper()
	args := append([]string{"ingest", "--db", store, "--log-level", "error"}, g.args...)
	out, err := exec.Command(g.bin, append(args, dir)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ingest after the crash did not complete: %v\n%s", err, out)
	}
}

// TestCrashDuringIngest kills `collate ingest` with SIGKILL at random points,
// many times over, and after each kill checks that the store opens, that
// every review in it is whole (its rows are exactly those of one of its
// export files), that every review the command acknowledged is there, and
// that ingesting again completes. COLLATE_CRASH_ITERATIONS sets how many
// kills (20 by default), COLLATE_CRASH_SEED replays a run's choices and
// COLLATE_CRASH_KEEP=1 keeps the store and files for a post-mortem.
func TestCrashDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the collate binary and kills it many times")
	}
	runCrashTest(t, ingestTarget{bin: buildCollate(t)})
}

// TestCrashDuringIngestWithoutWAL is TestCrashDuringIngest for a load that
// writes no write-ahead log, as a large one does: what it committed since
// its last checkpoint is lost in a crash, but it acknowledges a review only
// once a checkpoint has made it durable, and the store it leaves is whole.
func TestCrashDuringIngestWithoutWAL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the collate binary and kills it many times")
	}
	runCrashTest(t, ingestTarget{bin: buildCollate(t), args: []string{"--wal", "off", "--checkpoint-every", "6"}})
}

func runCrashTest(t *testing.T, target crashTarget) {
	iterations := envInt(t, "COLLATE_CRASH_ITERATIONS", 20)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("COLLATE_CRASH_SEED"); s != "" {
		seed = uint64(envInt(t, "COLLATE_CRASH_SEED", 0))
	}
	t.Logf("%s: %d iterations, COLLATE_CRASH_SEED=%d", target.name(), iterations, seed)
	rng := rand.New(rand.NewPCG(seed, 0x636f6c6c617465))

	dir := t.TempDir()
	if os.Getenv("COLLATE_CRASH_KEEP") != "" {
		// Keep the store and the export files for a post-mortem.
		var err error
		if dir, err = os.MkdirTemp("", "collate-crash-"); err != nil {
			t.Fatal(err)
		}
		t.Logf("keeping the store and files in %s", dir)
	}
	store := filepath.Join(dir, "collate.duckdb")
	boards := []string{"ENG-NE-NCL", "ENG-LDN-CAM", "WLS-CV-CRF", "SCT-N-ABE", "NIR-SBNI-BEL"}
	// want[id][version-1] is the shape of the file that becomes that version.
	want := map[string][]shape{}
	boardOf := map[string]string{}
	var ids []string
	kills := 0
	for it := range iterations {
		in := filepath.Join(dir, fmt.Sprintf("in-%02d", it))
		earlier := len(ids)
		// New reviews, and new revisions of some earlier ones (supersede).
		// Revision numbers 100*k+r keep every revision's content distinct.
		for i := range 12 {
			id := fmt.Sprintf("CR-%02d-%02d", it, i)
			boardOf[id] = boards[rng.IntN(len(boards))]
			want[id] = []shape{writeReview(t, in, id, boardOf[id], 2019+rng.IntN(5), rng.IntN(6))}
			ids = append(ids, id)
		}
		revised := map[string]bool{}
		for range min(4, earlier) {
			id := ids[rng.IntN(earlier)]
			if revised[id] {
				continue
			}
			revised[id] = true
			want[id] = append(want[id], writeReview(t, in, id, boardOf[id], 2020, 100*len(want[id])+rng.IntN(6)))
		}

		cmd, acks := target.start(t, store, in)
		// Kill after a random number of acknowledgements (0: during start-up,
		// migration or the first batch), plus a random moment more.
		killAfter := rng.IntN(8)
		wait := time.Duration(rng.IntN(15000)) * time.Microsecond
		var acked []ack
		if killAfter > 0 {
			for a := range acks {
				acked = append(acked, a)
				if len(acked) >= killAfter {
					break
				}
			}
		}
		time.Sleep(wait)
		_ = cmd.Process.Kill() // fails only if it has already exited
		for a := range acks {  // lines written before the kill still count
			acked = append(acked, a)
		}
		_ = cmd.Wait()
		if !cmd.ProcessState.Exited() {
			kills++
		}
		// What opens the store first after the crash varies: the checker
		// (read-only, so it changes nothing), another command that only
		// reads (a backup, which is then restored and checked too), or the
		// target again.
		next := []string{"check", "backup", "finish"}[it%3]
		switch next {
		case "check":
			checkStore(t, store, want, acked, false)
		case "backup":
			bk := filepath.Join(dir, fmt.Sprintf("backup-%02d", it))
			if out, err := exec.Command(target.binary(), "backup", "--db", store, "--log-level", "error", bk).CombinedOutput(); err != nil {
				t.Fatalf("collate backup after the crash: %v\n%s", err, out)
			}
			restored := filepath.Join(dir, fmt.Sprintf("restored-%02d.duckdb", it))
			if out, err := exec.Command(target.binary(), "restore", "--db", restored, "--log-level", "error", bk).CombinedOutput(); err != nil {
				t.Fatalf("collate restore of the backup taken after the crash: %v\n%s", err, out)
			}
			checkStore(t, restored, want, acked, false)
			checkStore(t, store, want, acked, false)
		}
		target.finish(t, store, in)
		checkStore(t, store, want, acked, true)
		if t.Failed() {
			t.Fatalf("iteration %d (kill after %d acks + %v, then %s) left the store inconsistent; replay with COLLATE_CRASH_SEED=%d",
				it, killAfter, wait, next, seed)
		}
	}
	t.Logf("%d of %d runs were killed before they finished", kills, iterations)
}

// checkStore opens the store after a crash and checks it. With complete, every
// review written so far must be there in its latest version.
func checkStore(t *testing.T, store string, want map[string][]shape, acked []ack, complete bool) {
	t.Helper()
	if _, err := os.Stat(store); errors.Is(err, os.ErrNotExist) {
		// Killed before the store was created.
		if len(acked) > 0 || complete {
			t.Errorf("the store %s does not exist, but %d reviews were acknowledged", filepath.Base(store), len(acked))
		}
		return
	}
	// Read-only: the check replays the write-ahead log in memory and
	// leaves the files as the crash left them.
	db, err := sql.Open("duckdb", store+"?access_mode=read_only")
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		t.Fatalf("the store %s does not open after the crash: %v", filepath.Base(store), err)
	}
	defer db.Close()
	var migrated int
	if err := db.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_name = 'reviews'`).Scan(&migrated); err != nil {
		t.Fatal(err)
	}
	if migrated == 0 {
		if len(acked) > 0 || complete {
			t.Errorf("the store has no reviews table, but %d reviews were acknowledged", len(acked))
		}
		return
	}
	rows, err := db.Query(`
		SELECT r.review_id, r.version, r.status, r.content_sha256,
		       r.n_episodes, r.n_patterns, r.n_recommendations,
		       (SELECT count(*) FROM episodes c WHERE c.review_key = r.review_key),
		       (SELECT count(*) FROM episode_factors c WHERE c.review_key = r.review_key),
		       (SELECT count(*) FROM patterns c WHERE c.review_key = r.review_key),
		       (SELECT count(*) FROM recommendations c WHERE c.review_key = r.review_key)
		FROM reviews r ORDER BY r.review_id, r.version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type stored struct {
		status, sha string
	}
	have := map[string]map[int]stored{}
	for rows.Next() {
		var id, status, sha string
		var version, nEp, nPat, nRec int
		var got shape
		if err := rows.Scan(&id, &version, &status, &sha, &nEp, &nPat, &nRec,
			&got.Episodes, &got.Factors, &got.Patterns, &got.Recommendations); err != nil {
			t.Fatal(err)
		}
		if have[id] == nil {
			have[id] = map[int]stored{}
		}
		if _, dup := have[id][version]; dup {
			t.Errorf("review %s has version %d twice", id, version)
		}
		have[id][version] = stored{status, sha}
		versions := want[id]
		switch {
		case version < 1 || version > len(versions):
			t.Errorf("review %s has version %d, but only %d files of it were written", id, version, len(versions))
		case got != versions[version-1]:
			t.Errorf("review %s version %d is not whole: it has %+v, its file has %+v", id, version, got, versions[version-1])
		}
		if nEp != got.Episodes || nPat != got.Patterns || nRec != got.Recommendations {
			t.Errorf("review %s version %d counts %d/%d/%d but has %+v", id, version, nEp, nPat, nRec, got)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for id, vs := range have {
		latest := 0
		for v := range vs {
			latest = max(latest, v)
		}
		for v, s := range vs {
			wantStatus := map[bool]string{true: "current", false: "superseded"}[v == latest]
			// A bulk load stores its reviews as loading and counts them when
			// it finishes, or when the store is next opened for writing.
			if s.status == "loading" && wantStatus == "current" && !complete {
				wantStatus = "loading"
			}
			if s.status != wantStatus {
				t.Errorf("review %s version %d is %s, want %s (latest stored is %d)", id, v, s.status, wantStatus, latest)
			}
			if v > 1 && vs[v-1] == (stored{}) {
				t.Errorf("review %s has version %d but not version %d", id, v, v-1)
			}
		}
	}
	for _, table := range []string{"episodes", "episode_factors", "patterns", "recommendations"} {
		var orphans int
		if err := db.QueryRow(`SELECT count(*) FROM ` + table + ` WHERE review_key NOT IN (SELECT review_key FROM reviews)`).Scan(&orphans); err != nil {
			t.Fatal(err)
		}
		if orphans > 0 {
			t.Errorf("%d rows of %s belong to no review", orphans, table)
		}
	}
	// The aggregates count exactly the current reviews: the figures and the
	// reviews behind them change in the same transaction.
	if queryStrings(t, db, `SELECT count(*) || '' FROM information_schema.tables WHERE table_name = 'agg_totals'`)[0] == "1" {
		counted := queryStrings(t, db, `SELECT coalesce(sum(reviews), 0) || '' FROM agg_totals`)[0]
		current := queryStrings(t, db, `SELECT count(*) || '' FROM reviews WHERE status = 'current'`)[0]
		if counted != current {
			t.Errorf("the aggregates count %s reviews, but %s are current", counted, current)
		}
	}
	// Lookups through the indexes on review_id and content_sha256 (what
	// the writer uses to find earlier versions) must find every row a scan
	// finds: DuckDB can persist an index without the rows it replayed from
	// the log (duckdb/duckdb#23788) when a process only reads after a crash.
	for _, col := range []string{"review_id", "content_sha256"} {
		var lookedUp, scanned int
		for _, v := range queryStrings(t, db, `SELECT DISTINCT `+col+` || '' FROM reviews ORDER BY 1`) {
			var n, m int
			if err := db.QueryRow(`SELECT count(*) FROM reviews WHERE `+col+` = ?`, v).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(`SELECT count(*) FROM reviews WHERE `+col+` || '' = ?`, v).Scan(&m); err != nil {
				t.Fatal(err)
			}
			lookedUp += n
			scanned += m
		}
		if lookedUp != scanned {
			t.Errorf("the index on reviews.%s finds %d rows, a scan finds %d", col, lookedUp, scanned)
		}
	}
	for _, a := range acked {
		s, ok := have[a.id][a.version]
		if !ok {
			t.Errorf("review %s version %d was acknowledged as stored but is missing", a.id, a.version)
		} else if s.sha != a.sha {
			t.Errorf("review %s version %d was acknowledged with SHA-256 %s but is stored with %s", a.id, a.version, a.sha, s.sha)
		}
	}
	if complete {
		for id, versions := range want {
			if len(have[id]) != len(versions) {
				t.Errorf("after ingesting again, review %s has %d versions, want %d", id, len(have[id]), len(versions))
			}
		}
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q is not a number", name, s)
	}
	return n
}

// serveTarget stores reviews through the upload API of `collate serve`:
// a few clients post the files of a directory at once, one to three files
// a request, as an API token of an admin. Every review in a 201 answer is an
// ack. When every upload has been answered the server is stopped with
// SIGTERM, so a kill can also land during a graceful shutdown.
type serveTarget struct {
	bin   string
	token string // created in the store before the first start
	acked atomic.Int64
}

// serveClients is how many uploads are in flight at once.
const serveClients = 3

func (*serveTarget) name() string { return "serve" }

func (g *serveTarget) binary() string { return g.bin }

// ensureToken creates an admin and an API token in the store, once.
func (g *serveTarget) ensureToken(t *testing.T, store string) {
	t.Helper()
	if g.token != "" {
		return
	}
	if out, err := exec.Command(g.bin, "users", "add", "--db", store, "--log-level", "error", "--role", "admin", "--no-password", "crash").CombinedOutput(); err != nil {
		t.Fatalf("collate users add: %v\n%s", err, out)
	}
	out, err := exec.Command(g.bin, "tokens", "create", "--db", store, "--log-level", "error", "--user", "crash", "--name", "crash test").Output()
	if err != nil {
		t.Fatalf("collate tokens create: %v", err)
	}
	g.token = strings.TrimSpace(string(out))
}

var servingURL = regexp.MustCompile(`Collate is serving .* on (http://127\.0\.0\.1:\d+/)`)

// startServer starts `collate serve` on a loopback port. The URL arrives on
// the channel once the server listens; the channel is closed without one if
// the server's output ends first (it was killed while starting).
func (g *serveTarget) startServer(t *testing.T, store string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(g.bin, "serve", "--db", store, "--addr", "127.0.0.1:0", "--log-level", "error")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	url := make(chan string, 1)
	go func() {
		defer close(url)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingURL.FindStringSubmatch(sc.Text()); m != nil {
				url <- m[1]
				break
			}
		}
		io.Copy(io.Discard, stdout) // keep the pipe drained until the server exits
	}()
	return cmd, url
}

// requests groups the export files of dir into uploads of one to three files.
func requests(t *testing.T, dir string) [][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out [][]string
	for i := 0; i < len(files); {
		n := min(1+i%3, len(files)-i)
		out = append(out, files[i:i+n])
		i += n
	}
	return out
}

// upload posts files to the server. It returns the receipts of a 201 answer,
// or an error when there was no answer (the server is gone). Any other
// answer fails the test.
func (g *serveTarget) upload(t *testing.T, client *http.Client, base string, files []string) ([]ingest.Receipt, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Error(err)
			return nil, err
		}
		part, _ := mw.CreateFormFile("files", filepath.Base(f))
		part.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"api/v1/reviews", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+g.token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err // cut off part way: not an acknowledgement
	}
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("upload of %d files answered %d: %s", len(files), resp.StatusCode, b)
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var got dashboard.UploadReceipts
	if err := json.Unmarshal(b, &got); err != nil {
		t.Errorf("upload answer: %v: %s", err, b)
		return nil, err
	}
	return got.Receipts, nil
}

func (g *serveTarget) start(t *testing.T, store, dir string) (*exec.Cmd, <-chan ack) {
	t.Helper()
	g.ensureToken(t, store)
	cmd, urls := g.startServer(t, store)
	reqs := requests(t, dir)
	acks := make(chan ack)
	go func() {
		defer close(acks)
		base, ok := <-urls
		if !ok {
			return // killed before it listened
		}
		client := &http.Client{Transport: &http.Transport{}}
		defer client.CloseIdleConnections()
		next := make(chan []string)
		var wg sync.WaitGroup
		for range serveClients {
			wg.Go(func() {
				for files := range next {
					receipts, err := g.upload(t, client, base, files)
					if err != nil {
						continue // the server is gone; drain the rest
					}
					for _, r := range receipts {
						if r.Outcome != ingest.Rejected {
							g.acked.Add(1)
							acks <- ack{id: r.ReviewID, version: r.Version, sha: r.SHA256}
						}
					}
				}
			})
		}
		for _, files := range reqs {
			next <- files
		}
		close(next)
		wg.Wait()
		// Everything was answered: stop the server as an operator would.
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}()
	return cmd, acks
}

func (g *serveTarget) finish(t *testing.T, store, dir string) {
	t.Helper()
	g.ensureToken(t, store)
	cmd, urls := g.startServer(t, store)
	base, ok := <-urls
	if !ok {
		err := cmd.Wait()
		t.Fatalf("collate serve did not start after the crash: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{}}
	for _, files := range requests(t, dir) {
		if _, err := g.upload(t, client, base, files); err != nil {
			t.Errorf("upload after the crash: %v", err)
		}
	}
	client.CloseIdleConnections()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("collate serve did not stop cleanly on SIGTERM: %v", err)
	}
}

// TestCrashDuringServe kills `collate serve` with SIGKILL at random points
// while clients upload through the API, and checks after each kill what
// TestCrashDuringIngest checks, with every review in a 201 answer counted
// as acknowledged. It runs 10 kills unless COLLATE_CRASH_ITERATIONS says
// otherwise; COLLATE_CRASH_SEED and COLLATE_CRASH_KEEP work as there.
func TestCrashDuringServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the collate binary and kills it many times")
	}
	if os.Getenv("COLLATE_CRASH_ITERATIONS") == "" {
		t.Setenv("COLLATE_CRASH_ITERATIONS", "10")
	}
	g := &serveTarget{bin: buildCollate(t)}
	runCrashTest(t, g)
	t.Logf("%d reviews were acknowledged with 201 before the kills", g.acked.Load())
	if g.acked.Load() == 0 {
		t.Error("no upload was acknowledged before a kill: the test checked nothing acknowledged")
	}
}
