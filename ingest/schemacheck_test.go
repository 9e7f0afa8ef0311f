package ingest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/collate-project/collate/schemas"
)

// TestSchemaCheckCompiles keeps the quick schema check in use: it must
// understand the shipped schema and accept every valid example and demo
// export, or every bulk load silently pays for the library again.
func TestSchemaCheckCompiles(t *testing.T) {
	v := mustValidator(t)
	if v.fast == nil {
		_, err := compileSchemaCheck(v.raw)
		t.Fatalf("the quick check does not understand review.schema.json: %v", err)
	}
	for name, data := range validDocuments(t) {
		inst := (&builder{data: data, intern: v.intern}).value()
		if err := v.schema.Validate(inst); err != nil {
			t.Fatalf("%s: not valid: %v", name, err)
		}
		if !v.fast.accepts(inst) {
			t.Errorf("%s: valid, but the quick check does not accept it", name)
		}
	}
}

// TestSchemaCheckNeverLaxer mutates valid exports at every place, in every
// way the schema constrains, and checks that whatever the quick check
// accepts the JSON Schema library accepts too.
func TestSchemaCheckNeverLaxer(t *testing.T) {
	v := mustValidator(t)
	docs := validDocuments(t)
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	tried, refused := 0, 0
	for _, name := range names {
		inst := (&builder{data: docs[name]}).value()
		for _, m := range mutations(inst) {
			tried++
			libErr := v.schema.Validate(m.doc)
			if libErr != nil {
				refused++
			}
			if v.fast.accepts(m.doc) && libErr != nil {
				t.Errorf("%s: %s: the quick check accepts what the schema refuses: %v", name, m.what, libErr)
			}
		}
	}
	if refused < tried/4 {
		t.Fatalf("only %d of %d mutations were invalid: the mutations test too little", refused, tried)
	}
}

// validDocuments returns the shipped examples, which between them use every
// part of the format. (Demo exports are checked in the ingest_test package:
// the demo generator imports this one.)
func validDocuments(t *testing.T) map[string][]byte {
	t.Helper()
	docs := schemas.Examples()
	if len(docs) == 0 {
		t.Fatal("no examples")
	}
	return docs
}

type mutation struct {
	what string
	doc  any
}

// mutations returns copies of doc, each changed at one place: a value
// replaced by another type, an empty or over-long string, boundary and
// non-plain numbers; an object given an unknown field or missing one; a list
// given a repeated item or grown past its limit.
func mutations(doc any) []mutation {
	long := strings.Repeat("é", 4001)
	replacements := []any{"", "x", long, "-not a code", json.Number("0"), json.Number("-1"), json.Number("-0"),
		json.Number("1.0"), json.Number("1.5"), json.Number("1e2"), json.Number("1000"), json.Number("100.0000000000000001"),
		json.Number("2101"), json.Number("1989"), true, nil, map[string]any{}, []any{}}
	var out []mutation
	add := func(what string, path []any, v any) {
		out = append(out, mutation{what, setAt(deepCopy(doc), path, v)})
	}
	var walk func(path []any, here any)
	walk = func(path []any, here any) {
		where := fmt.Sprint(path...)
		for _, r := range replacements {
			add(fmt.Sprintf("%s = %.20v", where, r), path, r)
		}
		switch h := here.(type) {
		case map[string]any:
			c := deepCopy(h).(map[string]any)
			c["zz_unknown"] = "x"
			add(where+" + unknown field", path, c)
			for k, x := range h {
				c := deepCopy(h).(map[string]any)
				delete(c, k)
				add(where+" - "+k, path, c)
				walk(append(append([]any{}, path...), "/"+k), x)
			}
		case []any:
			if len(h) > 0 {
				add(where+" repeated item", path, append(deepCopy(h).([]any), deepCopy(h[0])))
				var grown []any
				for len(grown) < 1001 {
					grown = append(grown, deepCopy(h).([]any)...)
				}
				add(where+" grown", path, grown[:1001])
			}
			for i, x := range h {
				walk(append(append([]any{}, path...), i), x)
			}
		}
	}
	walk(nil, doc)
	return out
}

// setAt sets the value at path ("/key" steps and list indexes) in doc, which
// it changes, and returns doc.
func setAt(doc any, path []any, v any) any {
	if len(path) == 0 {
		return v
	}
	switch step := path[0].(type) {
	case string:
		m := doc.(map[string]any)
		k := step[1:]
		m[k] = setAt(m[k], path[1:], v)
	case int:
		a := doc.([]any)
		a[step] = setAt(a[step], path[1:], v)
	}
	return doc
}

func deepCopy(x any) any {
	switch x := x.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = deepCopy(v)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, v := range x {
			a[i] = deepCopy(v)
		}
		return a
	}
	return x
}
