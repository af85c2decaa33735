package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/sqlitestore"
	"github.com/olc-toolkit/olc/experiments/storetest"
)

func open(t *testing.T, path string) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) experiments.Store {
			return open(t, filepath.Join(t.TempDir(), "sub", "olc.db"))
		},
		Reopen: func(t *testing.T, s experiments.Store) experiments.Store {
			return open(t, s.(*sqlitestore.Store).Path())
		},
	})
}

func TestConformanceInMemory(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) experiments.Store { return open(t, ":memory:") },
	})
}

func TestUnwritablePath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A folder that is a file cannot hold the store.
	_, err := sqlitestore.Open(context.Background(), filepath.Join(file, "olc.db"))
	if !errors.Is(err, sqlitestore.ErrUnwritable) {
		t.Errorf("Open under a file = %v, want ErrUnwritable", err)
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		if _, err := sqlitestore.Open(context.Background(), filepath.Join(ro, "olc.db")); !errors.Is(err, sqlitestore.ErrUnwritable) {
			t.Errorf("Open in a read-only folder = %v, want ErrUnwritable", err)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "olc.db")
	s := open(t, path)
	st := &experiments.Study{Name: "keep", Direction: "minimize", Metric: "value", Sampler: "grid"}
	if err := s.CreateStudy(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := open(t, path)
	if _, err := s2.Study(context.Background(), "keep"); err != nil {
		t.Fatalf("study lost across reopen: %v", err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "olc.db")
	open(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlitestore.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "schema version 99") || !strings.Contains(err.Error(), "upgrade olc") {
		t.Errorf("Open of a newer store = %v", err)
	}
}
