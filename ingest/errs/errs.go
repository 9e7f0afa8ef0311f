// Package errs is Collate's closed set of error kinds. Ingest, analytics and
// the dashboard return them; the dashboard maps each kind to one HTTP status in
// one table. It must stay a leaf: it imports nothing of Collate's.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error for callers; it never carries detail.
type Kind int

// The kinds. Internal is the zero value so that an unclassified error is never
// mistaken for a user's mistake.
const (
	Internal Kind = iota
	NotFound
	Invalid
	Conflict
	Forbidden
	Unauthenticated
	Unavailable
)

func (k Kind) String() string {
	switch k {
	case NotFound:
		return "not_found"
	case Invalid:
		return "invalid"
	case Conflict:
		return "conflict"
	case Forbidden:
		return "forbidden"
	case Unauthenticated:
		return "unauthenticated"
	case Unavailable:
		return "unavailable"
	}
	return "internal"
}

// Error is an error with a kind and a message safe to show to users.
type Error struct {
	Kind    Kind
	Message string // safe for users
	Err     error  // detail for logs
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, errs.ErrNotFound) match any error of the same kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Err == nil && t.Kind == e.Kind
}

// Sentinels for errors.Is.
var (
	ErrNotFound        = &Error{Kind: NotFound}
	ErrInvalid         = &Error{Kind: Invalid}
	ErrConflict        = &Error{Kind: Conflict}
	ErrForbidden       = &Error{Kind: Forbidden}
	ErrUnauthenticated = &Error{Kind: Unauthenticated}
	ErrUnavailable     = &Error{Kind: Unavailable}
)

// E builds an error of a kind with a user-safe message.
func E(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap gives err a kind and a user-safe message, keeping err for logs.
func Wrap(k Kind, err error, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), Err: err}
}

// KindOf finds the kind of the first classified error in err's chain.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Message returns the user-safe message of err, or a generic one for internal errors.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		return e.Message
	}
	return "something went wrong on our side; the details are in the server log"
}
