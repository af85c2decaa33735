// Package pgtest gives tests a PostgreSQL database of their own on the
// server named by OLC_TEST_POSTGRES, which scripts/test-postgres.sh starts
// (.ci/run runs the tests under it).
//
// Without OLC_TEST_POSTGRES a test that needs the server is skipped with a
// message saying how to run it, except under CI (CI=true), where it fails:
// CI must run every PostgreSQL test.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env names the variable holding the test server's URL; CtlEnv the one
// holding a command that takes "stop" or "start" to stop or restart it.
const (
	Env    = "OLC_TEST_POSTGRES"
	CtlEnv = "OLC_TEST_POSTGRES_CTL"
)

// ServerURL returns the test server's URL, skipping the test (failing it
// under CI) when there is none.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI runs the PostgreSQL tests under scripts/test-postgres.sh run", Env)
		}
		t.Skipf("no PostgreSQL server: run the tests under scripts/test-postgres.sh run (or set %s)", Env)
	}
	return u
}

// URL returns the URL of a new, empty schema on the test server, which
// holds the test's tables and is dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	base := ServerURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + strings.ToLower(hex.EncodeToString(b))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", Env, err)
	}
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return // the server was stopped by the test
		}
		defer conn.Close(context.Background())
		conn.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// CanCtl skips the test (fails it under CI) when the test server cannot
// be stopped and started again: OLC_TEST_POSTGRES_CTL is not set, as when
// OLC_TEST_POSTGRES names a server of one's own. Call it before starting
// anything that Ctl then interrupts.
func CanCtl(t testing.TB) {
	t.Helper()
	if os.Getenv(CtlEnv) != "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set: CI runs the PostgreSQL tests under scripts/test-postgres.sh run", CtlEnv)
	}
	t.Skipf("the test server cannot be restarted: run the tests under scripts/test-postgres.sh run (or set %s)", CtlEnv)
}

// Ctl stops ("stop") or starts ("start") the test server again, keeping
// its data; see CanCtl.
func Ctl(t testing.TB, what string) {
	t.Helper()
	CanCtl(t)
	cmd := os.Getenv(CtlEnv)
	f := strings.Fields(cmd)
	out, err := exec.Command(f[0], append(f[1:], what)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", cmd, what, err, out)
	}
}
