package auth_test

import (
	"strings"
	"testing"

	"github.com/collate-project/collate/dashboard/auth"
	"github.com/collate-project/collate/ingest/errs"
)

func TestPasswordHashing(t *testing.T) {
	h, err := auth.HashPassword(pw, auth.DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("hash %q is not a PHC argon2id string with the default parameters", h)
	}
	if ok, err := auth.VerifyPassword(h, pw); !ok || err != nil {
		t.Errorf("right password: ok=%v err=%v", ok, err)
	}
	for _, wrong := range []string{"", "correct horse battery stapl", pw + " ", strings.ToUpper(pw)} {
		if ok, err := auth.VerifyPassword(h, wrong); ok || err != nil {
			t.Errorf("wrong password %q: ok=%v err=%v", wrong, ok, err)
		}
	}
	h2, _ := auth.HashPassword(pw, auth.DefaultArgon2)
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if auth.NeedsRehash(h, auth.DefaultArgon2) {
		t.Error("a hash with the default parameters needs a rehash")
	}
	if !auth.NeedsRehash(h, cheap) {
		t.Error("a hash with other parameters does not need a rehash")
	}
	for name, bad := range map[string]string{
		"bcrypt":            "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":           strings.Replace(h, "argon2id", "argon2i", 1),
		"huge memory":       strings.Replace(h, "m=65536", "m=99999999", 1),
		"truncated":         h[:len(h)-40],
		"empty":             "",
		"missing parameter": strings.Replace(h, ",p=2", "", 1),
	} {
		if ok, err := auth.VerifyPassword(bad, pw); ok || err == nil {
			t.Errorf("%s: ok=%v err=%v, want an error", name, ok, err)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	for _, tc := range []struct {
		name, user, password string
		ok                   bool
	}{
		{"pass phrase", "alice", pw, true},
		{"twelve characters", "alice", "abcdefghijkl", true},
		{"twelve runes, more bytes", "alice", "ééééééééééé1", true},
		{"too short", "alice", "abcdefghijk", false},
		{"empty", "alice", "", false},
		{"the user name", "alice.longname", "Alice.LongName", false},
		{"too long", "alice", strings.Repeat("x", auth.MaxPasswordLength+1), false},
		{"not UTF-8", "alice", "abcdefghijkl\xff", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := auth.CheckPassword(tc.user, tc.password)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckPassword = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && errs.KindOf(err) != errs.Invalid {
				t.Errorf("kind %v, want invalid", errs.KindOf(err))
			}
		})
	}
}
