package sqlitestore_test

import (
	"bytes"
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
	"github.com/olc-toolkit/olc/optimize"
)

// filled returns the path of a closed store holding a study of n trials.
func filled(t *testing.T, n int) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "olc.db")
	s, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st := &experiments.Study{Name: "s", Direction: optimize.Minimize, Metric: "loss", Sampler: "random", Identity: "{}", Created: time.Now()}
	if err := s.CreateStudy(ctx, st); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		tr := &experiments.Trial{StudyID: st.ID, Params: optimize.Params{"x": float64(i), "note": strings.Repeat("p", 200)}, Attempt: 1, RetryOf: -1, Started: time.Now(), Heartbeat: time.Now(), Owner: "h:1"}
		if err := s.CreateTrial(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// snapshot reads the store's files, to check that nothing was written.
func snapshot(t *testing.T, path string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if b, err := os.ReadFile(p); err == nil {
			out[p] = b
		}
	}
	return out
}

func unchanged(t *testing.T, before map[string][]byte, path string) {
	t.Helper()
	after := snapshot(t, path)
	if len(after) != len(before) {
		t.Errorf("the store's files changed: %d before, %d after", len(before), len(after))
	}
	for p, b := range before {
		if !bytes.Equal(after[p], b) {
			t.Errorf("%s was written", p)
		}
	}
}

func TestDamagedStoreIsRefusedUntouched(t *testing.T) {
	ctx := context.Background()
	path := filled(t, 300)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 5*4096 {
		t.Fatalf("the store has %d bytes, want several pages", len(b))
	}
	// Garbage over the b-tree header of the third page.
	for i := 2 * 4096; i < 2*4096+64; i++ {
		b[i] = 0xA5
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, path)
	for name, open := range map[string]func(context.Context, string) (*sqlitestore.Store, error){
		"Open": sqlitestore.Open, "OpenReadOnly": sqlitestore.OpenReadOnly,
	} {
		s, err := open(ctx, path)
		if err == nil {
			s.Close()
		}
		var ce *sqlitestore.CorruptError
		if !errors.As(err, &ce) || ce.NotStore {
			t.Fatalf("%s of a damaged store: %v, want a CorruptError", name, err)
		}
		for _, want := range []string{path, "is damaged", ".recover", "will not write to it"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q lacks %q", name, err, want)
			}
		}
		unchanged(t, before, path)
	}
}

func TestNotAStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", "file:"+other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (x TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cases := []struct {
		name, content string
		writable      bool // Open may start a store in it
		want          string
	}{
		{"empty", "", true, "the file is empty"},
		{"text", "trial,loss\n1,0.5\n", false, "not a SQLite database"},
		{"other program", "", false, "a SQLite database of another program"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.db")
			if c.name == "other program" {
				b, _ := os.ReadFile(other)
				os.WriteFile(path, b, 0o644)
			} else {
				os.WriteFile(path, []byte(c.content), 0o644)
			}
			before := snapshot(t, path)
			_, err := sqlitestore.OpenReadOnly(ctx, path)
			var ce *sqlitestore.CorruptError
			if !errors.As(err, &ce) || !ce.NotStore || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("OpenReadOnly: %v, want not a store: %s", err, c.want)
			}
			unchanged(t, before, path)
			s, err := sqlitestore.Open(ctx, path)
			if c.writable {
				if err != nil {
					t.Fatalf("Open of an empty file: %v", err)
				}
				s.Close()
				return
			}
			if !errors.As(err, &ce) || !ce.NotStore {
				t.Errorf("Open: %v, want not a store", err)
			}
			unchanged(t, before, path)
		})
	}
}

func TestReadOnlyWritesNothing(t *testing.T) {
	ctx := context.Background()
	path := filled(t, 5)
	before := snapshot(t, path)
	s, err := sqlitestore.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Study(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	trials, err := s.Trials(ctx, st.ID, 0)
	if err != nil || len(trials) != 5 {
		t.Fatalf("trials: %d, %v", len(trials), err)
	}
	if err := s.CreateStudy(ctx, &experiments.Study{Name: "t", Identity: "{}"}); err == nil {
		t.Error("a read-only store took a new study")
	}
	s.Close()
	after := snapshot(t, path)
	if !bytes.Equal(after[path], before[path]) {
		t.Error("reading changed the store's file")
	}
}
