package ingest

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The JSON Schema library explains every way a document can fail, which is
// what a person fixing a file needs, but it allocates as it walks (numbers
// become big.Rat, each value is wrapped) and was the largest single cost of a
// bulk load. A valid export needs no explanation, so the Validator first runs
// a schemaCheck compiled from the same schema: when the check accepts, the
// document is valid; when it does not, the library validates it and reports
// the problems exactly as before. The check therefore only needs to be sure
// when it accepts, and says "not sure" (false) for anything unusual, such as
// an integer written as 1.0.
//
// It understands the keywords the review schema uses. compileSchemaCheck
// refuses any other keyword, and the Validator then always uses the library,
// so a change to the schema can make validation slower but never laxer.

// schemaCheck is one compiled schema object.
type schemaCheck struct {
	ref        string // "#/$defs/name", resolved through checker.defs
	types      []string
	properties map[string]*schemaCheck
	closed     bool // additionalProperties: false
	required   []string
	items      *schemaCheck
	minItems   int
	maxItems   int // -1 when unbounded
	unique     bool
	minLength  int
	maxLength  int // -1 when unbounded
	pattern    *regexp.Regexp
	enum       []any // strings, plain integers (as json.Number), booleans or nil
	hasEnum    bool
	minimum    *bound
	maximum    *bound
	notAll     []string // not: {required: notAll}
}

// checker is a compiled schema with its definitions.
type checker struct {
	root *schemaCheck
	defs map[string]*schemaCheck
}

// annotations are keywords that do not affect validity.
var annotations = map[string]bool{"$schema": true, "$id": true, "$comment": true, "title": true,
	"description": true, "examples": true, "default": true, "$defs": true}

// compileSchemaCheck compiles the schema document, or explains which part it
// does not understand.
func compileSchemaCheck(doc map[string]any) (*checker, error) {
	c := &checker{defs: map[string]*schemaCheck{}}
	if defs, ok := doc["$defs"]; ok {
		m, ok := defs.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$defs is not an object")
		}
		for name, d := range m {
			s, err := compileCheck(d, "#/$defs/"+name)
			if err != nil {
				return nil, err
			}
			c.defs["#/$defs/"+name] = s
		}
	}
	root, err := compileCheck(doc, "#")
	if err != nil {
		return nil, err
	}
	c.root = root
	// Every reference must resolve, so accepts never meets an unknown one.
	var walk func(s *schemaCheck) error
	seen := map[*schemaCheck]bool{}
	walk = func(s *schemaCheck) error {
		if s == nil || seen[s] {
			return nil
		}
		seen[s] = true
		if s.ref != "" && c.defs[s.ref] == nil {
			return fmt.Errorf("unresolved $ref %q", s.ref)
		}
		for _, p := range s.properties {
			if err := walk(p); err != nil {
				return err
			}
		}
		return walk(s.items)
	}
	for _, d := range c.defs {
		if err := walk(d); err != nil {
			return nil, err
		}
	}
	return c, walk(root)
}

func compileCheck(node any, at string) (*schemaCheck, error) {
	m, ok := node.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: schema is not an object", at)
	}
	s := &schemaCheck{maxItems: -1, maxLength: -1}
	for k, x := range m {
		if annotations[k] {
			continue
		}
		var err error
		switch k {
		case "$ref":
			ref, ok := x.(string)
			if !ok || !strings.HasPrefix(ref, "#/$defs/") {
				return nil, fmt.Errorf("%s: $ref %v is not a local definition", at, x)
			}
			s.ref = ref
		case "type":
			switch t := x.(type) {
			case string:
				s.types = []string{t}
			case []any:
				for _, e := range t {
					str, ok := e.(string)
					if !ok {
						return nil, fmt.Errorf("%s: type %v", at, x)
					}
					s.types = append(s.types, str)
				}
			default:
				return nil, fmt.Errorf("%s: type %v", at, x)
			}
		case "properties":
			props, ok := x.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: properties is not an object", at)
			}
			s.properties = map[string]*schemaCheck{}
			for name, p := range props {
				if s.properties[name], err = compileCheck(p, at+"/properties/"+name); err != nil {
					return nil, err
				}
			}
		case "additionalProperties":
			if b, ok := x.(bool); !ok || b {
				return nil, fmt.Errorf("%s: additionalProperties other than false", at)
			}
			s.closed = true
		case "required":
			if s.required, err = stringList(x); err != nil {
				return nil, fmt.Errorf("%s: required: %w", at, err)
			}
		case "items":
			if s.items, err = compileCheck(x, at+"/items"); err != nil {
				return nil, err
			}
		case "minItems":
			s.minItems, err = count(x)
		case "maxItems":
			s.maxItems, err = count(x)
		case "minLength":
			s.minLength, err = count(x)
		case "maxLength":
			s.maxLength, err = count(x)
		case "uniqueItems":
			b, ok := x.(bool)
			if !ok {
				return nil, fmt.Errorf("%s: uniqueItems %v", at, x)
			}
			s.unique = b
		case "pattern":
			p, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%s: pattern %v", at, x)
			}
			if s.pattern, err = regexp.Compile(p); err != nil {
				return nil, fmt.Errorf("%s: pattern: %w", at, err)
			}
		case "enum", "const":
			vals := []any{x}
			if k == "enum" {
				if vals, ok = x.([]any); !ok {
					return nil, fmt.Errorf("%s: enum is not a list", at)
				}
			}
			for _, v := range vals {
				switch v := v.(type) {
				case string, bool, nil:
				case json.Number:
					if !plainInteger(string(v)) {
						return nil, fmt.Errorf("%s: %s value %v is not a plain integer", at, k, v)
					}
				default:
					return nil, fmt.Errorf("%s: %s value %v", at, k, v)
				}
			}
			s.enum = append(s.enum, vals...)
			s.hasEnum = true
		case "minimum", "maximum":
			n, ok := x.(json.Number)
			if !ok {
				return nil, fmt.Errorf("%s: %s %v", at, k, x)
			}
			b, err := newBound(n)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", at, k, err)
			}
			if k == "minimum" {
				s.minimum = b
			} else {
				s.maximum = b
			}
		case "not":
			// Only the form the schema uses: not all of these fields at once.
			n, ok := x.(map[string]any)
			if !ok || len(n) != 1 {
				return nil, fmt.Errorf("%s: not other than {required: [...]}", at)
			}
			if s.notAll, err = stringList(n["required"]); err != nil || len(s.notAll) == 0 {
				return nil, fmt.Errorf("%s: not other than {required: [...]}", at)
			}
		default:
			return nil, fmt.Errorf("%s: keyword %q", at, k)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", at, k, err)
		}
	}
	return s, nil
}

func stringList(x any) ([]string, error) {
	xs, ok := x.([]any)
	if !ok {
		return nil, fmt.Errorf("%v is not a list", x)
	}
	out := make([]string, 0, len(xs))
	for _, e := range xs {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a string", e)
		}
		out = append(out, s)
	}
	return out, nil
}

func count(x any) (int, error) {
	n, ok := x.(json.Number)
	if !ok || !plainInteger(string(n)) || strings.HasPrefix(string(n), "-") || len(n) > 9 {
		return 0, fmt.Errorf("%v is not a small count", x)
	}
	var v int
	for _, c := range string(n) {
		v = v*10 + int(c-'0')
	}
	return v, nil
}

// plainInteger reports whether a JSON number is written as an integer with
// no fraction or exponent, and is not minus zero, so that two such numbers are
// equal exactly when their text is.
func plainInteger(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
		if s == "0" {
			return false
		}
	}
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// accepts reports whether the document is certainly valid against the
// schema; false means it may not be, and the library must decide.
func (c *checker) accepts(v any) bool {
	return c != nil && c.check(c.root, v)
}

func (c *checker) check(s *schemaCheck, v any) bool {
	if s.ref != "" && !c.check(c.defs[s.ref], v) {
		return false
	}
	if len(s.types) > 0 && !hasType(s.types, v) {
		return false
	}
	if s.hasEnum && !inEnum(s.enum, v) {
		return false
	}
	switch v := v.(type) {
	case map[string]any:
		for _, r := range s.required {
			if _, ok := v[r]; !ok {
				return false
			}
		}
		if len(s.notAll) > 0 {
			all := true
			for _, r := range s.notAll {
				if _, ok := v[r]; !ok {
					all = false
					break
				}
			}
			if all {
				return false
			}
		}
		for k, x := range v {
			p, ok := s.properties[k]
			if !ok {
				if s.closed {
					return false
				}
				continue
			}
			if !c.check(p, x) {
				return false
			}
		}
	case []any:
		if len(v) < s.minItems || s.maxItems >= 0 && len(v) > s.maxItems {
			return false
		}
		if s.unique && !allDistinct(v) {
			return false
		}
		if s.items != nil {
			for _, x := range v {
				if !c.check(s.items, x) {
					return false
				}
			}
		}
	case string:
		if s.minLength > 0 || s.maxLength >= 0 {
			n := utf8.RuneCountInString(v)
			if n < s.minLength || s.maxLength >= 0 && n > s.maxLength {
				return false
			}
		}
		if s.pattern != nil && !s.pattern.MatchString(v) {
			return false
		}
	case json.Number:
		if s.minimum != nil {
			if c, ok := s.minimum.cmp(v); !ok || c > 0 {
				return false
			}
		}
		if s.maximum != nil {
			if c, ok := s.maximum.cmp(v); !ok || c < 0 {
				return false
			}
		}
	}
	return true
}

// bound is a minimum or maximum, kept as an int64 too when it is a small
// integer, so the usual comparison (a small integer with an integer bound)
// allocates nothing.
type bound struct {
	r     *big.Rat
	i     int64
	isInt bool
}

func newBound(n json.Number) (*bound, error) {
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return nil, fmt.Errorf("%v is not a number", n)
	}
	b := &bound{r: r}
	if r.IsInt() && r.Num().IsInt64() {
		b.i, b.isInt = r.Num().Int64(), true
	}
	return b, nil
}

// cmp compares the bound with a number: -1, 0 or 1, and false when the
// number cannot be read.
func (b *bound) cmp(n json.Number) (int, bool) {
	if b.isInt && len(n) <= 18 && plainInteger(string(n)) {
		var v int64
		neg := n[0] == '-'
		for _, c := range string(n) {
			if c != '-' {
				v = v*10 + int64(c-'0')
			}
		}
		if neg {
			v = -v
		}
		switch {
		case b.i < v:
			return -1, true
		case b.i > v:
			return 1, true
		}
		return 0, true
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return 0, false
	}
	return b.r.Cmp(r), true
}

func hasType(types []string, v any) bool {
	for _, t := range types {
		switch v := v.(type) {
		case map[string]any:
			if t == "object" {
				return true
			}
		case []any:
			if t == "array" {
				return true
			}
		case string:
			if t == "string" {
				return true
			}
		case json.Number:
			// An integer written as 1.0 or 1e2 is an integer to JSON
			// Schema; the library decides those.
			if t == "number" || t == "integer" && plainInteger(string(v)) {
				return true
			}
		case bool:
			if t == "boolean" {
				return true
			}
		case nil:
			if t == "null" {
				return true
			}
		}
	}
	return false
}

func inEnum(enum []any, v any) bool {
	for _, e := range enum {
		switch e := e.(type) {
		case json.Number:
			// Both plain integers: equal exactly when written the same.
			if n, ok := v.(json.Number); ok && n == e && plainInteger(string(n)) {
				return true
			}
		case string:
			if s, ok := v.(string); ok && s == e {
				return true
			}
		case bool:
			if b, ok := v.(bool); ok && b == e {
				return true
			}
		case nil:
			if v == nil {
				return true
			}
		}
	}
	return false
}

// allDistinct reports whether the items are certainly distinct: strings, or
// plain integers, never both kinds mixed.
func allDistinct(xs []any) bool {
	if len(xs) < 2 {
		return true
	}
	switch xs[0].(type) {
	case string:
		seen := make(map[string]bool, len(xs))
		for _, x := range xs {
			s, ok := x.(string)
			if !ok || seen[s] {
				return false
			}
			seen[s] = true
		}
	case json.Number:
		seen := make(map[json.Number]bool, len(xs))
		for _, x := range xs {
			n, ok := x.(json.Number)
			if !ok || !plainInteger(string(n)) || seen[n] {
				return false
			}
			seen[n] = true
		}
	default:
		return false
	}
	return true
}
