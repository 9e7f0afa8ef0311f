package dashboard

import (
	"strings"
	"testing"
)

// asBrowserReads is how a browser reads a Location header or link target
// (the WHATWG URL parser): tabs and newlines anywhere are dropped, leading
// and trailing controls and spaces are trimmed, and a backslash is a slash.
func asBrowserReads(s string) string {
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	return strings.ReplaceAll(s, `\`, "/")
}

// FuzzSafeNext fuzzes ?next=, the page to return to after signing in. It
// must stay on this site as a browser reads it: a path from the root, never
// a scheme-relative //host, whatever bytes it is given.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"", "/", "/factors/FL.WORK.03?collection=ENG-NE", "//evil.example", `/\evil.example`,
		"https://evil.example/", "/\t/evil.example", "/\n/evil.example", " /x", "javascript:alert(1)", "/%2F/evil.example",
		"/reviews?q=%0d%0aSet-Cookie:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/" && got != next {
			t.Fatalf("safeNext(%q) = %q: it must keep the path or fall back to /", next, got)
		}
		b := asBrowserReads(got)
		if !strings.HasPrefix(b, "/") || strings.HasPrefix(b, "//") {
			t.Fatalf("safeNext(%q) = %q, which a browser reads as %q: off this site", next, got, b)
		}
	})
}
