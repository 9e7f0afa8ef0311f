package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/collate-project/collate/ingest"
	"github.com/collate-project/collate/ingest/errs"
	"github.com/collate-project/collate/ingest/xlsx"
	"github.com/collate-project/collate/schemas"
)

// upload is one file as received.
type upload struct {
	Name string
	Data []byte
}

// fileResult is what happened to one uploaded file: a receipt, or the
// problems that kept it out of the store.
type fileResult struct {
	Name     string
	Anchor   string
	Receipt  *ingest.Receipt
	Problems ingest.Problems
	Message  string // a refusal that is not a problem in the file (a conflict)
}

// OK reports whether the file was stored (or was already stored unchanged).
func (r fileResult) OK() bool { return r.Receipt != nil && r.Receipt.Outcome != ingest.Rejected }

// readUploads takes the files of a request: multipart "files" parts, or one
// JSON export as the body (named by ?name=).
func (s *Server) readUploads(c *gin.Context) ([]upload, error) {
	limit := s.opts.MaxUploadBytes*int64(s.opts.MaxUploadFiles) + 1<<20
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	ctype, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if ctype == "application/json" {
		data, err := io.ReadAll(c.Request.Body)
		if err != nil {
			return nil, tooLarge(err, limit)
		}
		name, err := uploadName("the name parameter", c.Query("name"))
		if err != nil {
			return nil, err
		}
		if name == "" {
			name = "upload.json"
		}
		return []upload{{Name: name, Data: data}}, nil
	}
	if ctype != "multipart/form-data" {
		return nil, errs.E(errs.Invalid, "send the files as multipart/form-data (field %q) or one export as application/json", "files")
	}
	form, err := c.MultipartForm()
	if err != nil {
		return nil, tooLarge(err, limit)
	}
	headers := form.File["files"]
	if len(headers) == 0 {
		return nil, errs.E(errs.Invalid, "choose at least one file to upload")
	}
	if len(headers) > s.opts.MaxUploadFiles {
		return nil, errs.E(errs.Invalid, "%d files were sent; upload at most %d at a time", len(headers), s.opts.MaxUploadFiles)
	}
	out := make([]upload, 0, len(headers))
	for i, h := range headers {
		name, err := uploadName(fmt.Sprintf("part %d of %q", i+1, "files"), h.Filename)
		if err != nil {
			return nil, err
		}
		if name == "" {
			name = fmt.Sprintf("file-%d", i+1)
		}
		f, err := h.Open()
		if err != nil {
			return nil, fmt.Errorf("open upload %s: %w", h.Filename, err)
		}
		data, err := io.ReadAll(io.LimitReader(f, s.opts.MaxUploadBytes+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read upload %s: %w", h.Filename, err)
		}
		out = append(out, upload{Name: name, Data: data})
	}
	return out, nil
}

// uploadName cleans the name a file was sent with: its last path element,
// trimmed. A name that is not UTF-8, or that holds control characters, is
// refused rather than stored as a review's source name and repeated in
// problems, logs and pages; part says where it was found.
func uploadName(part, raw string) (string, error) {
	if !utf8.ValidString(raw) {
		return "", errs.E(errs.Invalid, "%s: the file name %s is not valid UTF-8; rename the file using letters, digits, spaces, dots and dashes and upload it again",
			part, strconv.QuoteToASCII(raw))
	}
	if i := strings.IndexFunc(raw, unicode.IsControl); i >= 0 {
		return "", errs.E(errs.Invalid, "%s: the file name %s holds a control character at byte %d; rename the file and upload it again",
			part, strconv.QuoteToASCII(raw), i)
	}
	name := path.Base(strings.ReplaceAll(strings.TrimSpace(raw), `\`, "/"))
	if name == "." || name == "/" {
		name = ""
	}
	if utf8.RuneCountInString(name) > 255 {
		return "", errs.E(errs.Invalid, "%s: the file name is longer than 255 characters; shorten it and upload it again", part)
	}
	return name, nil
}

func tooLarge(err error, limit int64) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return errs.Wrap(errs.Invalid, err, "the upload is larger than the limit of %d bytes", limit)
	}
	return errs.Wrap(errs.Invalid, err, "the upload could not be read")
}

// validate checks one file without storing anything.
func (s *Server) validate(u upload) (*ingest.Export, ingest.Problems) {
	if int64(len(u.Data)) > s.opts.MaxUploadBytes {
		return nil, ingest.Problems{{File: u.Name, Location: "/", Message: fmt.Sprintf("the file is larger than %d bytes", s.opts.MaxUploadBytes),
			Hint: "split the upload, or ask an administrator to raise the limit"}}
	}
	var (
		e   *ingest.Export
		err error
	)
	switch strings.ToLower(path.Ext(u.Name)) {
	case ".xlsx":
		e, err = xlsx.Validate(s.opts.Validator, u.Name, u.Data)
	default:
		e, err = s.opts.Validator.Validate(u.Name, u.Data)
	}
	if err == nil {
		return e, nil
	}
	var ps ingest.Problems
	if errors.As(err, &ps) {
		return nil, ps
	}
	return nil, ingest.Problems{{File: u.Name, Location: "/", Message: err.Error()}}
}

// store validates every file, then stores the valid ones in one batch. A bad
// file never stops the good ones; each result says what happened.
func (s *Server) store(ctx context.Context, files []upload, by string) ([]fileResult, error) {
	if s.opts.Writer == nil {
		return nil, errs.E(errs.Unavailable, "uploads are switched off on this server")
	}
	results := make([]fileResult, len(files))
	var items []ingest.Item
	var at []int
	for i, f := range files {
		results[i] = fileResult{Name: f.Name, Anchor: fmt.Sprintf("file-%d", i+1)}
		e, ps := s.validate(f)
		if len(ps) > 0 {
			results[i].Problems = ps
			s.opts.Metrics.observeInvalid()
			continue
		}
		// A board member may upload for their own board only.
		if err := uploadAllowed(ctx, e); err != nil {
			return nil, err
		}
		format := "json"
		if strings.EqualFold(path.Ext(f.Name), ".xlsx") {
			format = "xlsx"
		}
		items = append(items, ingest.Item{Export: e, Source: f.Name, Format: format, By: by})
		at = append(at, i)
	}
	if len(items) == 0 {
		return results, nil
	}
	receipts, err := s.write(ctx, items)
	if err != nil {
		s.dataChanged() // a failed group may have stored some reviews one by one
		return nil, errs.Wrap(errs.Internal, err, "store uploads")
	}
	for _, r := range receipts {
		if r.Outcome == ingest.Added || r.Outcome == ingest.Superseded {
			s.dataChanged()
			break
		}
	}
	if err := auditUploads(ctx, receipts); err != nil {
		return nil, err
	}
	for j, r := range receipts {
		r := r
		results[at[j]].Receipt = &r
		if r.Err != nil {
			results[at[j]].Message = errs.Message(r.Err)
		}
	}
	return results, nil
}

// uploadPage is the view-model of the upload page.
type uploadPage struct {
	Base
	Results     []fileResult
	Failed      []fileResult
	Stored      int
	Template    bool // a workbook template can be downloaded
	MaxFiles    int
	MaxFileSize int64
}

func (s *Server) uploadView(c *gin.Context) uploadPage {
	vm := uploadPage{Base: s.base(c, "Upload reviews"), Template: true,
		MaxFiles: s.opts.MaxUploadFiles, MaxFileSize: s.opts.MaxUploadBytes}
	vm.HasUpload = true
	vm.Picker.ShowPicker = false
	return vm
}

func (s *Server) handleUploadPage(c *gin.Context) error {
	vm := s.uploadView(c)
	return s.render(c, "upload", &vm)
}

// handleUploadForm is the page's plain form post, for browsers without
// scripts: the same checks, then the same page with a result per file.
func (s *Server) handleUploadForm(c *gin.Context) error {
	files, err := s.readUploads(c)
	if err != nil {
		return err
	}
	results, err := s.store(c.Request.Context(), files, viewerFrom(c).Name)
	if err != nil {
		return err
	}
	vm := s.uploadView(c)
	vm.Results = results
	for _, r := range results {
		if r.OK() {
			vm.Stored++
		} else {
			vm.Failed = append(vm.Failed, r)
		}
	}
	status := http.StatusOK
	if len(vm.Failed) > 0 {
		status = http.StatusUnprocessableEntity
		vm.Title = "There is a problem: upload reviews"
	}
	return s.renderWith(c, status, "upload", &vm)
}

// handleTemplate offers the blank review workbook for the default frame.
func (s *Server) handleTemplate(c *gin.Context) error {
	var buf bytes.Buffer
	if err := xlsx.Template(&buf, schemas.BuiltinFrames()[0], s.geo); err != nil {
		return fmt.Errorf("workbook template: %w", err)
	}
	c.Header("Content-Disposition", `attachment; filename="collate-review-template.xlsx"`)
	c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
	return nil
}

// UploadReceipts is the API's answer to a successful upload.
type UploadReceipts struct {
	Receipts []ingest.Receipt `json:"receipts"`
}

// handleAPIUpload stores one or many exports. Every file is checked first; if
// any is invalid nothing is stored and the answer is 422 with every problem,
// exactly as `collate validate` reports them.
func (s *Server) handleAPIUpload(c *gin.Context) error {
	if s.opts.Writer == nil {
		return errs.E(errs.Unavailable, "uploads are switched off on this server")
	}
	files, err := s.readUploads(c)
	if err != nil {
		return err
	}
	var problems ingest.Problems
	for _, f := range files {
		if _, ps := s.validate(f); len(ps) > 0 {
			problems = append(problems, ps...)
			s.opts.Metrics.observeInvalid()
		}
	}
	if len(problems) > 0 {
		return problems
	}
	results, err := s.store(c.Request.Context(), files, viewerFrom(c).Name)
	if err != nil {
		return err
	}
	out := UploadReceipts{Receipts: []ingest.Receipt{}}
	var refused []string
	for _, r := range results {
		if r.Receipt != nil {
			out.Receipts = append(out.Receipts, *r.Receipt)
			if r.Receipt.Outcome == ingest.Rejected {
				refused = append(refused, r.Message)
			}
		}
	}
	if len(refused) > 0 {
		return errs.E(errs.Conflict, "%s", strings.Join(refused, "; "))
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, out)
	return nil
}

// dataChanged tells analytics, and the result cache, that stored reviews
// have changed.
func (s *Server) dataChanged() {
	if a, ok := s.opts.Analytics.(interface{ Changed() }); ok {
		a.Changed()
	}
	if s.cache != nil {
		s.cache.invalidate()
	}
}
