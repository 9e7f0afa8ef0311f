package dashboard

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
)

// handler is the shape of every page and API handler: it writes a response
// or returns an error, and handle turns the error into one response.
type handler func(c *gin.Context) error

// statusOf is the one table from error kinds to HTTP statuses.
var statusOf = map[errs.Kind]int{
	errs.Internal:        http.StatusInternalServerError,
	errs.NotFound:        http.StatusNotFound,
	errs.Invalid:         http.StatusUnprocessableEntity,
	errs.Conflict:        http.StatusConflict,
	errs.Forbidden:       http.StatusForbidden,
	errs.Unauthenticated: http.StatusUnauthorized,
	errs.Unavailable:     http.StatusServiceUnavailable,
}

// ErrorBody is the one shape of every API error.
type ErrorBody struct {
	Error APIError `json:"error"`
}

// APIError says what went wrong; Problems lists an invalid file's problems,
// exactly as the command line prints them.
type APIError struct {
	Kind     string           `json:"kind"`
	Message  string           `json:"message"`
	Problems []ingest.Problem `json:"problems,omitempty"`
}

// handle adapts a handler to gin: an error becomes the HTML error page or the
// JSON error body, chosen by path, and is logged exactly once here.
func (s *Server) handle(h handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.fail(c, err)
		}
	}
}

// fail writes the response for err. If the handler already wrote, only the log
// line is left to do.
func (s *Server) fail(c *gin.Context, err error) {
	kind := errs.KindOf(err)
	var problems ingest.Problems
	if errors.As(err, &problems) {
		kind = errs.Invalid
	}
	status := statusOf[kind]
	level := slog.LevelInfo
	if kind == errs.Internal || kind == errs.Unavailable {
		level = slog.LevelError
	}
	s.log.Log(c.Request.Context(), level, "request failed",
		"method", c.Request.Method, "path", c.Request.URL.Path, "status", status,
		"kind", kind.String(), "error", err.Error())
	if c.Writer.Written() {
		return
	}
	msg := errs.Message(err)
	if len(problems) > 0 {
		msg = "the file is not a valid review export"
		if files := problemFiles(problems); len(files) > 1 {
			msg = "some files are not valid review exports"
		}
	}
	if isAPI(c) {
		c.Header("Cache-Control", "no-store")
		c.JSON(status, ErrorBody{Error: APIError{Kind: kind.String(), Message: msg, Problems: problems}})
		return
	}
	vm := errorPage{Base: s.base(c, titleFor(status)), Status: status, Message: msg, Problems: problems}
	s.renderStatus(c, status, "error", &vm)
}

func problemFiles(ps ingest.Problems) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ps {
		if !seen[p.File] {
			seen[p.File] = true
			out = append(out, p.File)
		}
	}
	return out
}

func isAPI(c *gin.Context) bool {
	return strings.HasPrefix(c.Request.URL.Path, "/api/")
}

func titleFor(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusUnprocessableEntity:
		return "There is a problem"
	case http.StatusForbidden, http.StatusUnauthorized:
		return "You cannot see this page"
	case http.StatusServiceUnavailable:
		return "Service unavailable"
	}
	return "Sorry, there is a problem with the service"
}

// errorPage is the view-model of the error page.
type errorPage struct {
	Base
	Status   int
	Message  string
	Problems ingest.Problems
}
