package serve_test

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/olc-toolkit/olc/serve"
)

// TestPasswordHash: the PHC string holds OWASP's costs and a fresh salt,
// its key is argon2id's (recomputed here from the salt), and only the
// right password matches.
func TestPasswordHash(t *testing.T) {
	h1, err := serve.HashPassword("correct horse", serve.DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := serve.HashPassword("correct horse", serve.DefaultArgon2)
	if h1 == h2 {
		t.Error("two hashes of one password are equal: no per-user salt")
	}
	parts := strings.Split(h1, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=19456,t=2,p=1" {
		t.Fatalf("hash %q", h1)
	}
	salt, _ := base64.RawStdEncoding.DecodeString(parts[4])
	key, _ := base64.RawStdEncoding.DecodeString(parts[5])
	if want := argon2.IDKey([]byte("correct horse"), salt, 2, 19456, 1, 32); hex.EncodeToString(key) != hex.EncodeToString(want) {
		t.Error("the key is not argon2id(password, salt) with the stated costs")
	}
	for pw, want := range map[string]bool{"correct horse": true, "correct hors": false, "Correct horse": false, "": false} {
		if ok, err := serve.CheckPassword(pw, h1); err != nil || ok != want {
			t.Errorf("CheckPassword(%q) = %v, %v", pw, ok, err)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "plain"} {
		if _, err := serve.CheckPassword("x", bad); err == nil {
			t.Errorf("CheckPassword accepted the hash %q", bad)
		}
	}
}

// TestLoginTiming: an unknown username costs a login the same argon2id
// check as a wrong password (with OWASP's costs), so that timing does not
// tell which usernames exist. A login that skipped the hash would answer
// in microseconds, not tens of milliseconds: the bound is loose on
// purpose, this machine being shared.
func TestLoginTiming(t *testing.T) {
	ts := newServer(t, serve.Options{Argon2: serve.DefaultArgon2, LoginPerMinute: -1, AddressPerMinute: -1})
	ts.user("alice")
	median := func(user string) time.Duration {
		var d []time.Duration
		for i := 0; i < 5; i++ {
			t0 := time.Now()
			if r := ts.do("POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": "wrong-password"}); r.Status != 401 {
				t.Fatalf("%s: %d", user, r.Status)
			}
			d = append(d, time.Since(t0))
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[2]
	}
	known, unknown := median("alice"), median("nobody")
	if r := float64(unknown) / float64(known); r < 0.3 || r > 3 {
		t.Errorf("a wrong password takes %v, an unknown user %v (ratio %.2f)", known, unknown, r)
	}
}

// TestLoadSecret: OLC_JWT_SECRET wins when long enough; otherwise a
// secret is made once, mode 0600, and read back the same; a short or
// world-readable one is refused.
func TestLoadSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "olc.db.jwt-secret")
	if _, err := serve.LoadSecret("short", file); err == nil {
		t.Error("a short OLC_JWT_SECRET was accepted")
	}
	env := strings.Repeat("s", 32)
	if s, err := serve.LoadSecret(env, file); err != nil || string(s) != env {
		t.Errorf("env secret: %q, %v", s, err)
	}
	if _, err := os.Stat(file); err == nil {
		t.Error("a secret file was written although the environment gave one")
	}
	s1, err := serve.LoadSecret("", file)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, %v", st, err)
	}
	s2, err := serve.LoadSecret("", file)
	if err != nil || string(s1) != string(s2) || len(s1) < serve.MinSecretLen {
		t.Errorf("secret read back %q, made %q, %v", s2, s1, err)
	}
	os.Chmod(file, 0o644)
	if _, err := serve.LoadSecret("", file); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable secret: %v", err)
	}
	if _, err := serve.NewTokens([]byte("short"), time.Hour, nil); err == nil {
		t.Error("NewTokens accepted a short secret")
	}
}
