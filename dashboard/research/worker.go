package research

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/collate-project/collate/ingest/errs"
)

// WorkerEnv is set to 1 in a worker's environment.
const WorkerEnv = "COLLATE_RESEARCH_WORKER"

// IsWorker reports whether this process was started as a research worker.
func IsWorker() bool { return os.Getenv(WorkerEnv) == "1" }

// killGrace is how long after the time limit a worker that has not stopped
// by itself is killed.
const killGrace = 2 * time.Second

type workerRequest struct {
	Snapshot      string `json:"snapshot"`
	SQL           string `json:"sql"`
	MaxRows       int    `json:"max_rows"`
	MaxBytes      int    `json:"max_bytes"`
	TimeoutMS     int64  `json:"timeout_ms"`
	MemoryLimit   string `json:"memory_limit"`
	Threads       int    `json:"threads"`
	ProcessMemory uint64 `json:"process_memory"`
}

type workerResponse struct {
	Columns   []Column     `json:"columns"`
	Rows      [][]any      `json:"rows"`
	Truncated bool         `json:"truncated"`
	Error     *workerError `json:"error,omitempty"`
}

type workerError struct {
	Kind    string `json:"kind"` // invalid, timeout, memory, internal
	Message string `json:"message"`
}

// run starts a worker for one query and reads its answer.
func (s *Sandbox) run(ctx context.Context, snap *snapshot, query string) (*Result, error) {
	req, err := json.Marshal(workerRequest{Snapshot: snap.path, SQL: query, MaxRows: s.limits.MaxRows, MaxBytes: s.limits.MaxBytes,
		TimeoutMS: s.limits.Timeout.Milliseconds(), MemoryLimit: s.limits.MemoryLimit, Threads: s.limits.Threads, ProcessMemory: s.limits.ProcessMemory})
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, s.limits.Timeout+killGrace)
	defer cancel()
	cmd := exec.CommandContext(wctx, s.opts.Worker[0], s.opts.Worker[1:]...)
	// A bare environment: the worker needs no secrets and gets none.
	cmd.Env = []string{WorkerEnv + "=1", "TMPDIR=" + snap.dir, "HOME=" + snap.dir, "COLLATE_LOG_LEVEL=error"}
	cmd.Dir = snap.dir
	cmd.Stdin = bytes.NewReader(req)
	out := &cappedBuffer{max: 2*s.limits.MaxBytes + 1<<20}
	stderr := &cappedBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = out, stderr
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, errs.Wrap(errs.Unavailable, ctx.Err(), "the research query was cancelled")
	}
	if wctx.Err() != nil {
		return nil, timeoutError(s.limits.Timeout)
	}
	var resp workerResponse
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.UseNumber()
	decErr := dec.Decode(&resp)
	if runErr != nil || decErr != nil || out.overflow {
		if strings.Contains(stderr.String(), "out of memory") {
			return nil, memoryError(s.limits)
		}
		s.log.Error("research worker failed", "error", runErr, "decode_error", decErr, "stderr", stderr.String())
		return nil, errs.Wrap(errs.Internal, errors.Join(runErr, decErr), "research worker failed")
	}
	if e := resp.Error; e != nil {
		switch e.Kind {
		case "invalid":
			return nil, errs.E(errs.Invalid, "%s", e.Message)
		case "timeout":
			return nil, timeoutError(s.limits.Timeout)
		case "memory":
			return nil, memoryError(s.limits)
		}
		s.log.Error("research worker failed", "error", e.Message)
		return nil, errs.E(errs.Internal, "research worker failed")
	}
	if resp.Rows == nil {
		resp.Rows = [][]any{}
	}
	return &Result{Columns: resp.Columns, Rows: resp.Rows, Truncated: resp.Truncated}, nil
}

func timeoutError(d time.Duration) error {
	return errs.E(errs.Unavailable, "the query ran longer than the %s limit and was stopped; narrow it or add a LIMIT", d)
}

func memoryError(l Limits) error {
	return errs.E(errs.Invalid, "the query needed more memory than a research query may use (%s); aggregate before joining or select fewer rows", l.MemoryLimit)
}

// cappedBuffer keeps at most max bytes and notes whether more came.
type cappedBuffer struct {
	bytes.Buffer
	max      int
	overflow bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); len(p) > room {
		b.overflow = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// ServeWorker is a worker's whole life: it reads one request from r, runs
// it and writes the answer to w. The collate binary calls it when started as
// `collate research-worker`; the dashboard never calls it in-process.
func ServeWorker(ctx context.Context, r io.Reader, w io.Writer) error {
	var req workerRequest
	if err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&req); err != nil {
		return fmt.Errorf("research worker: read request: %w", err)
	}
	resp := serve(ctx, req)
	return json.NewEncoder(w).Encode(resp)
}

var memoryLimitRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(KB|MB|GB|KiB|MiB|GiB)$`)

// workerDSN opens the snapshot read-only with external access off, the
// configuration locked and the caps set, all before the first statement.
func workerDSN(req workerRequest) (string, error) {
	if !memoryLimitRE.MatchString(req.MemoryLimit) || req.Threads < 1 || req.Threads > 64 || strings.ContainsAny(req.Snapshot, "?#") {
		return "", fmt.Errorf("bad worker request")
	}
	return req.Snapshot + "?access_mode=READ_ONLY&enable_external_access=false&autoload_known_extensions=false" +
		"&autoinstall_known_extensions=false&allow_community_extensions=false&max_temp_directory_size=1GB" +
		"&threads=" + strconv.Itoa(req.Threads) + "&memory_limit=" + req.MemoryLimit + "&lock_configuration=true", nil
}

func serve(ctx context.Context, req workerRequest) workerResponse {
	fail := func(kind, format string, args ...any) workerResponse {
		return workerResponse{Error: &workerError{Kind: kind, Message: fmt.Sprintf(format, args...)}}
	}
	if err := limitProcessMemory(req.ProcessMemory); err != nil {
		return fail("internal", "limit memory: %v", err)
	}
	dsn, err := workerDSN(req)
	if err != nil {
		return fail("internal", "%v", err)
	}
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return fail("internal", "open snapshot: %v", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(req.TimeoutMS)*time.Millisecond)
	defer cancel()
	if err := checkText(req.SQL, len(req.SQL)); err != nil {
		return fail("invalid", "%s", errs.Message(err))
	}
	if err := checkParsed(ctx, db, req.SQL); err != nil {
		if errs.KindOf(err) == errs.Invalid {
			return fail("invalid", "%s", errs.Message(err))
		}
		if ctx.Err() != nil {
			return classify(ctx, err)
		}
		return fail("internal", "%v", err)
	}
	rows, err := db.QueryContext(ctx, req.SQL)
	if err != nil {
		return classify(ctx, err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return classify(ctx, err)
	}
	resp := workerResponse{Columns: make([]Column, len(types)), Rows: [][]any{}}
	for i, t := range types {
		resp.Columns[i] = Column{Name: t.Name(), Type: t.DatabaseTypeName()}
	}
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	size := 0
	for rows.Next() {
		if len(resp.Rows) >= req.MaxRows {
			resp.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return classify(ctx, err)
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = jsonValue(v, resp.Columns[i].Type)
		}
		b, err := json.Marshal(row)
		if err != nil {
			return fail("internal", "encode row: %v", err)
		}
		if size += len(b); size > req.MaxBytes {
			resp.Truncated = true
			break
		}
		resp.Rows = append(resp.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return classify(ctx, err)
	}
	return resp
}

// classify turns a DuckDB error into the answer's error: the time limit,
// the memory limit, or a mistake in the query (whose message is DuckDB's).
func classify(ctx context.Context, err error) workerResponse {
	msg := err.Error()
	switch {
	case ctx.Err() != nil || strings.Contains(msg, "INTERRUPT"):
		return workerResponse{Error: &workerError{Kind: "timeout", Message: "time limit"}}
	case strings.Contains(msg, "Out of Memory"):
		return workerResponse{Error: &workerError{Kind: "memory", Message: msg}}
	}
	return workerResponse{Error: &workerError{Kind: "invalid", Message: clip(msg, 2000)}}
}

// jsonValue turns a scanned DuckDB value into one encoding/json writes
// faithfully: big and exact numbers as JSON numbers, times as RFC 3339,
// non-finite floats and binary data as strings.
func jsonValue(v any, typ string) any {
	switch x := v.(type) {
	case nil, bool, string, int8, int16, int32, int64, int, uint8, uint16, uint32, uint64:
		return x
	case float32:
		return jsonValue(float64(x), typ)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		return x
	case *big.Int:
		return json.Number(x.String())
	case duckdb.Decimal:
		return json.Number(x.String())
	case time.Time:
		if typ == "DATE" {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339Nano)
	case []byte:
		if typ == "UUID" && len(x) == 16 {
			u := duckdb.UUID(x)
			return u.String()
		}
		if utf8.Valid(x) {
			return string(x)
		}
		return `\x` + hex.EncodeToString(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e, "")
		}
		return out
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}
