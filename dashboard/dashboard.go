// Package dashboard is Collate's web app and JSON API: server-rendered pages,
// charts drawn by ECharts from options built here, uploads, and downloads.
//
// It owns HTTP and presentation only. Every figure comes from package
// analytics, so disclosure control and access scope are applied before any
// number reaches a handler; dashboard never queries DuckDB itself. Uploads go
// through ingest's Validator and Writer, the same path as the command line.
package dashboard

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/analytics"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/schemas"
)

// Options configures a Server. cmd builds every dependency and passes it in.
type Options struct {
	// Analytics answers every figure the pages and the API show.
	Analytics Analytics
	// Writer stores uploads; without it the upload page and POST /api/v1/reviews
	// answer 503.
	Writer *ingest.Writer
	// Validator checks uploads before anything is stored.
	Validator *ingest.Validator
	// Logger receives one line per request and one per error.
	Logger *slog.Logger
	// Authenticate finds who is asking. Nil means every request is made by
	// DefaultViewer, which is how Collate runs until accounts exist.
	Authenticate Authenticator
	// DefaultViewer is the viewer used when Authenticate is nil.
	DefaultViewer analytics.Viewer
	// Geography lists nations, regions and boards for the collection
	// switcher; the embedded one when nil.
	Geography *schemas.Geography
	// MaxUploadBytes caps one uploaded file (ingest.DefaultMaxBytes when 0);
	// MaxUploadFiles caps the files in one request (50 when 0).
	MaxUploadBytes int64
	MaxUploadFiles int
	// Now is the clock for provenance lines; time.Now when nil.
	Now func() time.Time
	// Ready reports whether the store is open, migrated and answering, for
	// /readyz (health.go); nil means ready whenever the server answers.
	Ready func(ctx context.Context) error
	// Metrics records requests and uploads (metrics.go); nil records nothing.
	Metrics *Metrics
	// CacheEntries is how many analytics results are kept for reuse (1000
	// when 0; a negative number turns the cache off). Results are kept per
	// viewer and cleared by every stored upload.
	CacheEntries int
	// QuerySlots is how many analytics computations the cache lets run at
	// once (twice the usable CPUs when 0); further requests for results not
	// in the cache wait their turn. See cache.go.
	QuerySlots int
	// StaleFor is how long after an upload a figure from before it may be
	// given out while every query slot is taken and as many computations
	// wait (DefaultStaleFor when 0; a negative duration never). Each
	// result names the data version it was computed from; lists of reviews
	// and episodes are always current. See cache.go.
	StaleFor time.Duration
}

// Server is the dashboard and API. It is safe for concurrent use.
type Server struct {
	opts   Options
	an     Analytics // opts.Analytics behind the result cache
	cache  *cache    // nil when off
	log    *slog.Logger
	engine *gin.Engine
	pages  *pageSet
	assets *assets
	geo    *schemas.Geography
	picker []collectionGroup
	// builtinFrame labels factors while analytics cannot list frames.
	builtinFrame *analytics.FrameInfo
}

var ginMode sync.Once

// New builds the server: it parses every template and hashes the embedded
// assets, so a broken template fails here, at start-up, not on a request.
func New(opts Options) (*Server, error) {
	if opts.Analytics == nil {
		return nil, errors.New("dashboard: Options.Analytics is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Geography == nil {
		opts.Geography = schemas.LoadGeography()
	}
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = ingest.DefaultMaxBytes
	}
	if opts.MaxUploadFiles <= 0 {
		opts.MaxUploadFiles = 50
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Validator == nil {
		v, err := ingest.NewValidator(ingest.ValidatorOptions{Geography: opts.Geography})
		if err != nil {
			return nil, err
		}
		opts.Validator = v
	}
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	pages, err := parsePages(a.version)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: opts.Logger, pages: pages, assets: a, geo: opts.Geography}
	s.an = opts.Analytics
	if opts.CacheEntries >= 0 {
		n := opts.CacheEntries
		if n == 0 {
			n = 1000
		}
		slots := opts.QuerySlots
		if slots <= 0 {
			slots = 2 * runtime.GOMAXPROCS(0)
		}
		s.cache = newCache(opts.Analytics, n, slots, opts.Metrics)
		if opts.StaleFor < 0 {
			s.cache.staleFor = 0
		} else if opts.StaleFor > 0 {
			s.cache.staleFor = opts.StaleFor
		}
		s.an = s.cache
	}
	s.picker = collectionGroups(opts.Geography)
	s.builtinFrame = frameInfo(schemas.BuiltinFrames()[0])
	ginMode.Do(func() { gin.SetMode(gin.ReleaseMode) })
	s.engine = s.routes()
	return s, nil
}

// Handler returns the http.Handler that serves pages, assets and the API.
func (s *Server) Handler() http.Handler { return s.engine }
