package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collate-project/collate/cmd/app"
	"github.com/collate-project/collate/dashboard"
)

// syncBuffer is a bytes.Buffer safe to read while a server writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// served is `collate serve` running in the test process through app.Run,
// exactly as main runs it.
type served struct {
	addr   string
	stdout *syncBuffer
	stderr *syncBuffer
	stop   context.CancelFunc
	done   chan struct{} // closed when Run has returned, with err set
	err    error
}

// wait waits for Run to return and returns its error.
func (s *served) wait() error {
	<-s.done
	return s.err
}

// stopped reports whether Run has returned.
func (s *served) stopped() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// mustServe starts `collate serve` on a loopback port and stops it when the
// test ends, if the test has not stopped it already.
func mustServe(t *testing.T, args ...string) *served {
	t.Helper()
	stderr := &syncBuffer{}
	cfg, err := app.Parse(append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "info"}, args...), nil, stderr)
	if err != nil {
		t.Fatalf("serve %v: %v\n%s", args, err, stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	s := &served{stdout: &syncBuffer{}, stderr: stderr, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = app.Run(app.WithReady(ctx, ready), cfg, s.stdout, stderr)
	}()
	select {
	case s.addr = <-ready:
	case <-s.done:
		cancel()
		t.Fatalf("serve stopped before listening: %v\n%s", s.err, stderr)
	}
	t.Cleanup(func() {
		cancel()
		s.wait()
	})
	return s
}

// mustToken creates an admin with an API token in the store and returns the
// token, for uploads to a server with accounts.
func mustToken(t *testing.T, store, user string) string {
	t.Helper()
	mustRun(t, "users", "add", "--db", store, "--log-level", "error", "--role", "admin", "--no-password", user)
	tok := strings.TrimSpace(mustRun(t, "tokens", "create", "--db", store, "--log-level", "error", "--user", user, "--name", "test uploads"))
	if !strings.HasPrefix(tok, "collate_") {
		t.Fatalf("tokens create printed %q", tok)
	}
	return tok
}

// multipartFiles is a multipart body with every .json file of dir as a
// "files" part, in name order.
func multipartFiles(t *testing.T, dir string) ([]byte, string) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		part, err := mw.CreateFormFile("files", filepath.Base(n))
		if err != nil {
			t.Fatal(err)
		}
		part.Write(data)
	}
	mw.Close()
	return body.Bytes(), mw.FormDataContentType()
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var metricsURL = regexp.MustCompile(`Metrics are served on (http://\S+/metrics)`)

// TestServeProbesAndMetrics runs `collate serve` with accounts and a
// metrics listener: the probes answer without an account, the metrics are
// on their own address only, and they count what the server did.
func TestServeProbesAndMetrics(t *testing.T) {
	store := filepath.Join(t.TempDir(), "collate.duckdb")
	token := mustToken(t, store, "probe")
	s := mustServe(t, "--db", store, "--metrics-addr", "127.0.0.1:0")
	base := "http://" + s.addr
	for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ready\n"} {
		if status, body := httpGet(t, base+path); status != http.StatusOK || body != want {
			t.Errorf("GET %s = %d %q, want 200 %q", path, status, body, want)
		}
	}
	m := metricsURL.FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("serve did not say where the metrics are:\n%s", s.stdout)
	}
	if !strings.HasPrefix(m[1], "http://127.0.0.1:") || strings.Contains(m[1], s.addr) {
		t.Fatalf("metrics at %s: want a loopback listener of their own, not the dashboard's %s", m[1], s.addr)
	}
	// The dashboard's address does not serve them, to anyone.
	if status, body := httpGet(t, base+"/metrics"); status == http.StatusOK || strings.Contains(body, "collate_http_requests_total") {
		t.Errorf("GET /metrics on the dashboard's address = %d, want a refusal", status)
	}

	dir := t.TempDir()
	writeReviews(t, dir, "PROBE", []string{"ENG-NE-NCL", "WLS-CV-CRF"}, 3)
	body, ctype := multipartFiles(t, dir)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/reviews", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload = %d", resp.StatusCode)
	}

	status, text := httpGet(t, m[1])
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d", m[1], status)
	}
	for _, want := range []string{
		`collate_http_requests_total{method="GET",route="/readyz",status="200"} 1`,
		`collate_http_requests_total{method="POST",route="/api/v1/reviews",status="201"} 1`,
		`collate_ingest_reviews_total{outcome="added"} 3`,
		`collate_ingest_batch_duration_seconds_count 1`,
		`collate_http_request_duration_seconds_count{route="/healthz"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	size := regexp.MustCompile(`(?m)^collate_store_size_bytes (\S+)$`).FindStringSubmatch(text)
	if size == nil || size[1] == "0" {
		t.Errorf("metrics lack a store size: %v", size)
	}
}

// TestServeShutdownFinishesUploads stops `collate serve` (as SIGTERM does)
// while an upload is still arriving: the server stops listening, lets the
// upload finish and answer 201, and only then closes the store, which then
// holds every review of the upload whole.
func TestServeShutdownFinishesUploads(t *testing.T) {
	store := filepath.Join(t.TempDir(), "collate.duckdb")
	token := mustToken(t, store, "shutdown")
	dir := t.TempDir()
	boards := []string{"ENG-NE-NCL", "ENG-LDN-CAM", "WLS-CV-CRF", "SCT-N-ABE", "NIR-SBNI-BEL"}
	want := map[string][]shape{}
	for i := range 25 {
		id := fmt.Sprintf("SHUT-%02d", i)
		want[id] = []shape{writeReview(t, dir, id, boards[i%len(boards)], 2019+i%5, i)}
	}
	body, ctype := multipartFiles(t, dir)
	s := mustServe(t, "--db", store)

	// One connection, accepted by the server before the upload starts (a
	// connection still in the kernel's accept queue when the listener
	// closes is reset, and was never in flight).
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	if resp, err := client.Get("http://" + s.addr + "/healthz"); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	// Send the headers and the first half of the body, then hold the rest.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.addr+"/api/v1/reviews", pr)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	req.ContentLength = int64(len(body))
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- answer{resp.StatusCode, b, err}
	}()
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatal(err)
	}

	// Let the server's connection goroutine read the headers and start
	// the handler, which then waits for the rest of the body.
	time.Sleep(200 * time.Millisecond)
	s.stop() // what SIGTERM does in main
	// Shutdown has begun once the listener refuses new connections.
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			break
		}
		c.Close()
		if i == 500 {
			t.Fatal("the server still accepts connections after it was told to stop")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s.stopped() {
		t.Fatalf("serve returned (%v) while an upload was still arriving", s.err)
	}

	if _, err := pw.Write(body[half:]); err != nil {
		a := <-answered
		t.Fatalf("the server stopped reading the in-flight upload: %v; it answered %d %s %v\n%s", err, a.status, a.body, a.err, s.stderr)
	}
	pw.Close()
	a := <-answered
	if a.err != nil {
		t.Fatalf("the in-flight upload failed during shutdown: %v\n%s", a.err, s.stderr)
	}
	if a.status != http.StatusCreated {
		t.Fatalf("the in-flight upload answered %d during shutdown: %s", a.status, a.body)
	}
	if err := s.wait(); err != nil {
		t.Fatalf("serve after shutdown: %v", err)
	}
	var got dashboard.UploadReceipts
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	var acked []ack
	for _, r := range got.Receipts {
		acked = append(acked, ack{id: r.ReviewID, version: r.Version, sha: r.SHA256})
	}
	if len(acked) != len(want) {
		t.Fatalf("%d receipts for %d files", len(acked), len(want))
	}
	// Every acknowledged review is there, whole; nothing else is.
	checkStore(t, store, want, acked, true)
}
