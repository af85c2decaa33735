package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/sqlitestore"
	"github.com/olc-toolkit/olc/experiments/storetest"
	"github.com/olc-toolkit/olc/optimize"
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

// TestVersion1StoreUpgrades: a store written before the queue existed
// (schema version 1) is read as it is by read-only commands, and upgraded
// with its data by the first writer.
func TestVersion1StoreUpgrades(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "olc.db")
	s := open(t, path)
	st := &experiments.Study{Name: "old", Direction: "minimize", Metric: "value", Sampler: "grid"}
	if err := s.CreateStudy(ctx, st); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TABLE queue; UPDATE schema_version SET version = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := sqlitestore.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("read-only open of a version 1 store: %v", err)
	}
	if _, err := ro.Study(ctx, "old"); err != nil {
		t.Errorf("read-only: %v", err)
	}
	ro.Close()
	s = open(t, path)
	if _, err := s.Study(ctx, "old"); err != nil {
		t.Errorf("after the upgrade: %v", err)
	}
	if added, err := s.Enqueue(ctx, st.ID, &experiments.Queued{Key: "k", Params: optimize.Params{"x": 1.0}}); err != nil || !added {
		t.Errorf("Enqueue after the upgrade = %v, %v", added, err)
	}
}

// TestExtend: a component's tables are created once, upgraded by the
// migrations added later, versioned apart from the record's own schema; a
// component newer than this code is refused; a read-only store takes no
// extension; the experiment record still opens read-only beside them.
func TestExtend(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "olc.db")
	s := open(t, path)
	v1 := []string{`CREATE TABLE c_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`}
	for range 2 { // twice: the second is a no-op
		if err := s.Extend(ctx, "c", v1); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO c_items (name) VALUES ('a')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	v2 := append(v1, `ALTER TABLE c_items ADD COLUMN size INTEGER NOT NULL DEFAULT 7; CREATE INDEX c_items_name ON c_items (name)`)
	if err := s.Extend(ctx, "c", v2); err != nil {
		t.Fatal(err)
	}
	var name string
	var size, version int
	if err := s.DB().QueryRow(`SELECT name, size FROM c_items`).Scan(&name, &size); err != nil || name != "a" || size != 7 {
		t.Errorf("after the upgrade: %q %d %v", name, size, err)
	}
	if err := s.DB().QueryRow(`SELECT version FROM component_versions WHERE name = 'c'`).Scan(&version); err != nil || version != 2 {
		t.Errorf("version %d, %v", version, err)
	}
	if err := s.Extend(ctx, "c", v1); err == nil || !strings.Contains(err.Error(), "upgrade olc") {
		t.Errorf("an older olc extended a newer component: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Error(err)
	}
	s.Close()
	ro, err := sqlitestore.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("the record beside a component: %v", err)
	}
	defer ro.Close()
	if err := ro.Extend(ctx, "c", v2); err == nil {
		t.Error("a read-only store was extended")
	}
	if err := ro.Write(ctx, func(*sql.Tx) error { return nil }); err == nil {
		t.Error("a read-only store took a write")
	}
}

// Another process holding the database's write lock longer than the busy
// timeout delays a write; it never fails it with "database is locked".
func TestLockedDatabaseIsWaitedFor(t *testing.T) {
	defer sqlitestore.SetBusyTimeout(50 * time.Millisecond)()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "olc.db")
	s := open(t, path)
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	const hold = 600 * time.Millisecond
	go func() {
		time.Sleep(hold)
		conn.ExecContext(ctx, "COMMIT")
	}()
	start := time.Now()
	st := &experiments.Study{Name: "s", Direction: optimize.Minimize, Metric: "loss", Sampler: "random", Created: time.Now()}
	if err := s.CreateStudy(ctx, st); err != nil {
		t.Fatalf("CreateStudy while another process held the lock: %v", err)
	}
	if waited := time.Since(start); waited < hold-50*time.Millisecond {
		t.Errorf("CreateStudy returned after %v, before the lock was released (%v)", waited, hold)
	}
	if _, err := s.Trials(ctx, st.ID, 0); err != nil {
		t.Errorf("Trials: %v", err)
	}
}
