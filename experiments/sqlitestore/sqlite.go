// Package sqlitestore is the SQLite implementation of [experiments.Store], on
// the pure-Go modernc.org/sqlite driver: no cgo, one file, WAL journaling.
//
// Every state change is one transaction. Writers within a process are
// serialized by a mutex; writers in other processes wait on SQLite's busy
// timeout. Trial numbers are assigned inside the inserting transaction, and
// claims are a UNIQUE(study_id, claim) constraint, so concurrent processes
// never share a number or a claim. The SQL is kept portable (integers,
// text, double precision; no SQLite-only functions in the queries) so
// that a PostgreSQL backend can share it.
package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/internal/storerow"
	"github.com/olc-toolkit/olc/optimize"
)

// Store is a SQLite store. It is safe for concurrent use.
type Store struct {
	db       *sql.DB
	path     string
	readOnly bool
	writeMu  sync.Mutex
}

var (
	_ experiments.Store          = (*Store)(nil)
	_ experiments.SelectiveStore = (*Store)(nil)
)

// ErrUnwritable is wrapped by Open when the store's file or folder cannot
// be created or written.
var ErrUnwritable = errors.New("cannot be written")

// CorruptError is returned when the store's file is damaged or is not an
// olc store. Nothing is written to such a file.
type CorruptError struct {
	Path string
	// Problem says what is wrong, in SQLite's words or olc's.
	Problem string
	// NotStore is set when the file is not a damaged store but something
	// else: empty, another kind of file, another program's database.
	NotStore bool
}

func (e *CorruptError) Error() string {
	if e.NotStore {
		return fmt.Sprintf("%s is not an olc store (%s); olc leaves it as it is: give the path of a store, or a new file name to start one", e.Path, e.Problem)
	}
	return fmt.Sprintf("the store %s is damaged (%s); olc will not write to it. "+
		"Recover what it holds with the sqlite3 shell (sqlite3 %s .recover | sqlite3 recovered.db, then --store recovered.db), "+
		"or start a new store and rerun from your last 'olc optimize export'", e.Path, e.Problem, e.Path)
}

// isCorrupt reports whether err is SQLite's word for a damaged file or
// one that is not a database.
func isCorrupt(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return true
		}
	}
	return false
}

// corrupt returns a *CorruptError for SQLite's errors that say the file is
// damaged, and err otherwise.
func (s *Store) corrupt(err error) error {
	if err != nil && isCorrupt(err) {
		return &CorruptError{Path: s.path, Problem: sqliteMessage(err)}
	}
	return err
}

// fail wraps a failed operation's error: a *CorruptError when SQLite found
// the file damaged, else the error with what was being done.
func (s *Store) fail(op string, err error) error {
	if isCorrupt(err) {
		return &CorruptError{Path: s.path, Problem: sqliteMessage(err)}
	}
	return fmt.Errorf("%s: %w", op, err)
}

func sqliteMessage(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, " ("); i > 0 && strings.HasSuffix(msg, ")") {
		msg = msg[:i] // SQLite's numeric code
	}
	return msg
}

// busyTimeout is how long SQLite waits for another process's lock
// before it answers "database is locked" (which retryBusy then retries);
// a variable so that a test can shorten it.
var busyTimeout = 20 * time.Second

func dsnOptions() string {
	return fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)", busyTimeout.Milliseconds())
}

// Open opens the store at path, creating the file, its folder and its
// schema as needed. An existing file is checked first (PRAGMA
// quick_check): a damaged one, or one that is not an olc store, is
// refused with a *CorruptError and left untouched. The path ":memory:"
// opens a private in-memory store.
func Open(ctx context.Context, path string) (*Store, error) {
	memory := path == ":memory:"
	dsn := "file::memory:"
	if !memory {
		if _, err := os.Stat(path); err == nil {
			if err := check(ctx, path, true); err != nil {
				return nil, err
			}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("open store %s: %w: %v", path, ErrUnwritable, unwrapPathError(err))
		}
		if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644); err != nil {
			return nil, fmt.Errorf("open store %s: %w: %v", path, ErrUnwritable, unwrapPathError(err))
		} else {
			f.Close()
		}
		dsn = "file:" + path
	}
	dsn += "?" + dsnOptions() + "&_txlock=immediate"
	if !memory {
		dsn += "&_pragma=journal_mode(WAL)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if memory {
		// Each connection to :memory: is its own database.
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(4)
	}
	s := &Store{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		var ce *CorruptError
		switch {
		case errors.As(err, &ce):
			return nil, err
		case isReadOnly(err):
			return nil, fmt.Errorf("open store %s: %w: %v", path, ErrUnwritable, err)
		}
		return nil, s.fail("open store "+path, err)
	}
	return s, nil
}

// OpenReadOnly opens the existing store at path for reading: it creates,
// migrates and writes nothing (SQLite may add the -wal and -shm files of
// its write-ahead log beside the store, as for any reader). A missing file is an error wrapping
// fs.ErrNotExist; an empty or damaged file, or one that is not an olc
// store, a *CorruptError.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := check(ctx, path, false); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&"+dsnOptions())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	s := &Store{db: db, path: path, readOnly: true}
	var version int
	if err := db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version); err != nil {
		db.Close()
		return nil, s.fail("open store "+path, err)
	}
	// Older versions read alike: each migration adds tables that only
	// writers use.
	if version < 1 || version > len(migrations) {
		db.Close()
		return nil, fmt.Errorf("open store %s: it has schema version %d, this olc reads versions 1 to %d (a command that writes, such as 'olc optimize', upgrades it; a newer store needs a newer olc)", path, version, len(migrations))
	}
	return s, nil
}

// check looks at an existing file without writing to it: it must be an
// olc store that passes SQLite's quick check. A writer (fresh) may also
// start a store in an empty file or an empty SQLite database.
func check(ctx context.Context, path string, fresh bool) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	if st.IsDir() {
		return &CorruptError{Path: path, Problem: "it is a folder", NotStore: true}
	}
	// A new store's first transactions may sit in its write-ahead log,
	// the database file still empty, when its writer was killed.
	wal, err := os.Stat(path + "-wal")
	inWAL := err == nil && wal.Size() > 0
	if st.Size() == 0 && !inWAL {
		if fresh {
			return nil
		}
		return &CorruptError{Path: path, Problem: "the file is empty", NotStore: true}
	}
	if st.Size() > 0 {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("open store %s: %w: %v", path, ErrUnwritable, unwrapPathError(err))
		}
		head := make([]byte, 16)
		n, _ := f.Read(head)
		f.Close()
		if n < 16 || string(head) != "SQLite format 3\x00" {
			return &CorruptError{Path: path, Problem: "it is not a SQLite database", NotStore: true}
		}
	}
	// Without a log to read, the file is opened as immutable, so that
	// SQLite creates no -wal and -shm files beside a file that may not be
	// a store at all.
	mode := "immutable=1"
	if inWAL {
		mode = "mode=ro"
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+mode+"&"+dsnOptions())
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	rows, err := db.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		if isCorrupt(err) {
			return &CorruptError{Path: path, Problem: sqliteMessage(err)}
		}
		return fmt.Errorf("check store %s: %w", path, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return &CorruptError{Path: path, Problem: sqliteMessage(err)}
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return &CorruptError{Path: path, Problem: sqliteMessage(err)}
	}
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], fmt.Sprintf("and %d more problems", len(problems)-3))
		}
		return &CorruptError{Path: path, Problem: "quick_check: " + strings.Join(problems, "; ")}
	}
	var ours, others int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE name = 'schema_version'), COUNT(*) FILTER (WHERE name <> 'schema_version') FROM sqlite_master WHERE type = 'table'`).Scan(&ours, &others); err != nil {
		return &CorruptError{Path: path, Problem: sqliteMessage(err)}
	}
	switch {
	case ours == 0 && others > 0:
		return &CorruptError{Path: path, Problem: "a SQLite database of another program", NotStore: true}
	case ours == 0 && !fresh:
		return &CorruptError{Path: path, Problem: "a SQLite database without olc's tables", NotStore: true}
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func isReadOnly(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM:
			return true
		}
	}
	return false
}

// Path returns the store's file.
func (s *Store) Path() string { return s.path }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// schemaVersion is the version this code writes; migrations[i] upgrades a
// store from version i to i+1.
var migrations = []string{
	`CREATE TABLE studies (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		direction TEXT NOT NULL,
		metric TEXT NOT NULL,
		sampler TEXT NOT NULL,
		seed BIGINT NOT NULL,
		config TEXT NOT NULL,
		identity TEXT NOT NULL,
		created BIGINT NOT NULL
	);
	CREATE TABLE trials (
		id INTEGER PRIMARY KEY,
		study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
		number INTEGER NOT NULL,
		claim TEXT,
		state TEXT NOT NULL,
		params TEXT NOT NULL,
		metrics TEXT,
		value DOUBLE PRECISION,
		attempt INTEGER NOT NULL,
		retry_of INTEGER NOT NULL,
		started BIGINT NOT NULL,
		finished BIGINT,
		heartbeat BIGINT NOT NULL,
		error TEXT NOT NULL,
		reason TEXT NOT NULL,
		log_path TEXT NOT NULL,
		owner TEXT NOT NULL,
		UNIQUE (study_id, number),
		UNIQUE (study_id, claim)
	);
	CREATE INDEX trials_state ON trials (study_id, state);
	CREATE TABLE intermediate (
		trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
		step INTEGER NOT NULL,
		metrics TEXT NOT NULL,
		PRIMARY KEY (trial_id, step)
	);`,
	`CREATE TABLE queue (
		id INTEGER PRIMARY KEY,
		study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
		key TEXT NOT NULL,
		params TEXT NOT NULL,
		added BIGINT NOT NULL,
		UNIQUE (study_id, key)
	);`,
}

func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var version int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if version > len(migrations) {
			return fmt.Errorf("the store has schema version %d; this olc knows versions up to %d (upgrade olc)", version, len(migrations))
		}
		for v := version; v < len(migrations); v++ {
			for _, stmt := range strings.Split(migrations[v], ";") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
				}
			}
		}
		if version < len(migrations) {
			_, err = tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(migrations))
		}
		return err
	})
}

// write runs fn in a write transaction, committing when it returns nil.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.corrupt(retryBusy(ctx, func() error { return storerow.InTx(ctx, s.db, fn) }))
}

// busyRetryFor is how long an operation that found the database locked
// by other processes, past the busy timeout, is tried again.
const busyRetryFor = 5 * time.Minute

// isBusy reports whether err is SQLite's "database is locked" (or
// "table is locked"): another process holds the lock past the busy timeout.
func isBusy(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// retryBusy runs fn again while it finds the database locked: BEGIN
// IMMEDIATE and the busy timeout make that rare (many processes writing at
// once for longer than the timeout), and it is never the user's problem.
// It waits 10 ms, then twice as long each time up to a second, for up to
// busyRetryFor.
func retryBusy(ctx context.Context, fn func() error) error {
	wait := 10 * time.Millisecond
	start := time.Now()
	for {
		err := fn()
		if !isBusy(err) || time.Since(start) > busyRetryFor {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (while the database was locked by another process: %v)", ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func isForeignKey(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// CreateStudy implements experiments.Store.
func (s *Store) CreateStudy(ctx context.Context, st *experiments.Study) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO studies (name, direction, metric, sampler, seed, config, identity, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			st.Name, string(st.Direction), st.Metric, st.Sampler, int64(st.Seed), st.Config, st.Identity, storerow.Nanos(st.Created))
		if err != nil {
			return err
		}
		st.ID, err = res.LastInsertId()
		return err
	})
	if isUnique(err) {
		return fmt.Errorf("create study %q: %w", st.Name, experiments.ErrStudyExists)
	}
	if err != nil {
		return fmt.Errorf("create study %q: %w", st.Name, err)
	}
	return nil
}

// Study implements experiments.Store.
func (s *Store) Study(ctx context.Context, name string) (*experiments.Study, error) {
	st, err := storerow.ScanStudy(s.db.QueryRowContext(ctx, `SELECT `+storerow.StudyColumns+` FROM studies WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("study %q: %w", name, experiments.ErrNotFound)
	}
	if err != nil {
		return nil, s.fail(fmt.Sprintf("study %q", name), err)
	}
	return st, nil
}

// Studies implements experiments.Store.
func (s *Store) Studies(ctx context.Context) ([]experiments.Study, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+storerow.StudyColumns+` FROM studies ORDER BY name`)
	if err != nil {
		return nil, s.fail("list studies", err)
	}
	defer rows.Close()
	var out []experiments.Study
	for rows.Next() {
		st, err := storerow.ScanStudy(rows)
		if err != nil {
			return nil, s.fail("list studies", err)
		}
		out = append(out, *st)
	}
	return out, rows.Err()
}

// RenameStudy implements experiments.Store.
func (s *Store) RenameStudy(ctx context.Context, name, newName string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE studies SET name = ? WHERE name = ?`, newName, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return experiments.ErrNotFound
		}
		return nil
	})
	if isUnique(err) {
		err = experiments.ErrStudyExists
	}
	if err != nil {
		return fmt.Errorf("rename study %q to %q: %w", name, newName, err)
	}
	return nil
}

// DeleteStudy implements experiments.Store. The trials and their
// intermediate values go with the study (the schema's cascades).
func (s *Store) DeleteStudy(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM studies WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return experiments.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete study %q: %w", name, err)
	}
	return nil
}

// Enqueue implements experiments.Store.
func (s *Store) Enqueue(ctx context.Context, studyID int64, q *experiments.Queued) (bool, error) {
	params, err := json.Marshal(q.Params)
	if err != nil {
		return false, fmt.Errorf("enqueue: %w", err)
	}
	added := time.Now().UTC()
	var id int64
	err = s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO queue (study_id, key, params, added) VALUES (?, ?, ?, ?)
			ON CONFLICT (study_id, key) DO NOTHING RETURNING id`, studyID, q.Key, string(params), added.UnixNano()).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			id = 0
			return nil
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("enqueue in study %d: %w", studyID, err)
	}
	if id == 0 {
		return false, nil
	}
	q.ID, q.Added = id, added
	return true, nil
}

// Queue implements experiments.Store.
func (s *Store) Queue(ctx context.Context, studyID int64) ([]experiments.Queued, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, key, params, added FROM queue WHERE study_id = ? ORDER BY id`, studyID)
	if err != nil {
		return nil, s.fail("read the queue", err)
	}
	defer rows.Close()
	var out []experiments.Queued
	for rows.Next() {
		var q experiments.Queued
		var params string
		var added int64
		if err := rows.Scan(&q.ID, &q.Key, &params, &added); err != nil {
			return nil, s.fail("read the queue", err)
		}
		if err := json.Unmarshal([]byte(params), &q.Params); err != nil {
			return nil, fmt.Errorf("read the queue: point %d: %w", q.ID, err)
		}
		q.Added = time.Unix(0, added).UTC()
		out = append(out, q)
	}
	return out, rows.Err()
}

// CreateTrial implements experiments.Store.
func (s *Store) CreateTrial(ctx context.Context, t *experiments.Trial) error {
	params, err := json.Marshal(t.Params)
	if err != nil {
		return fmt.Errorf("create trial: %w", err)
	}
	var claim any
	if t.Claim != "" {
		claim = t.Claim
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		// The next number from the (study_id, number) index; the held
		// trials counted on the (study_id, state) index, only when capped.
		var next int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), -1) + 1 FROM trials WHERE study_id = ?`, t.StudyID).Scan(&next); err != nil {
			return err
		}
		if t.Cap > 0 {
			var held int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM trials WHERE study_id = ? AND state IN (?, ?, ?)`,
				t.StudyID, string(optimize.Complete), string(optimize.Pruned), string(optimize.Running)).Scan(&held); err != nil {
				return err
			}
			if held >= t.Cap {
				return experiments.ErrStudyFull
			}
		}
		res, err := tx.ExecContext(ctx,
			`INSERT INTO trials (study_id, number, claim, state, params, attempt, retry_of, started, heartbeat, error, reason, log_path, owner)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '', ?)`,
			t.StudyID, next, claim, string(optimize.Running), string(params), t.Attempt, t.RetryOf, storerow.Nanos(t.Started), storerow.Nanos(t.Heartbeat), t.Owner)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		t.ID, t.Number = id, next
		return nil
	})
	switch {
	case errors.Is(err, experiments.ErrStudyFull):
		return fmt.Errorf("create trial: %d trials complete, pruned or running: %w", t.Cap, err)
	case isUnique(err):
		return fmt.Errorf("create trial: claim %q: %w", t.Claim, experiments.ErrClaimed)
	case isForeignKey(err):
		return fmt.Errorf("create trial: study %d: %w", t.StudyID, experiments.ErrNotFound)
	case err != nil:
		return fmt.Errorf("create trial: %w", err)
	}
	t.State = optimize.Running
	return nil
}

// Heartbeat implements experiments.Store.
func (s *Store) Heartbeat(ctx context.Context, at time.Time, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE trials SET heartbeat = ? WHERE id = ? AND state = 'running'`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range ids {
			if _, err := stmt.ExecContext(ctx, storerow.Nanos(at), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// FinishTrial implements experiments.Store.
func (s *Store) FinishTrial(ctx context.Context, t *experiments.Trial) error {
	metrics, err := storerow.Metrics(t.Metrics)
	if err != nil {
		return fmt.Errorf("finish trial %d: %w", t.Number, err)
	}
	var value any
	if !math.IsNaN(t.Value) && !math.IsInf(t.Value, 0) {
		value = t.Value
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE trials SET state = ?, metrics = ?, value = ?, finished = ?, error = ?, reason = ?, log_path = ?
			 WHERE id = ? AND state = 'running'`,
			string(t.State), metrics, value, storerow.Nanos(t.Finished), t.Error, string(t.Reason), t.LogPath, t.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return experiments.ErrNotRunning
		}
		for _, iv := range t.Intermediate {
			m, err := storerow.Metrics(iv.Metrics)
			if err != nil {
				return err
			}
			text := "{}"
			if m != nil {
				text = *m
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO intermediate (trial_id, step, metrics) VALUES (?, ?, ?)`, t.ID, iv.Step, text); err != nil {
				return fmt.Errorf("intermediate value at step %d: %w", iv.Step, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish trial %d: %w", t.Number, err)
	}
	return nil
}

// ExpireTrial implements experiments.Store.
func (s *Store) ExpireTrial(ctx context.Context, id int64, heartbeat, at time.Time, msg string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE trials SET state = 'failed', reason = ?, error = ?, finished = ? WHERE id = ? AND state = 'running' AND heartbeat = ?`,
			string(experiments.ReasonLost), msg, storerow.Nanos(at), id, storerow.Nanos(heartbeat))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return experiments.ErrNotRunning
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("expire trial %d: %w", id, err)
	}
	return nil
}

// Trials implements experiments.Store.
func (s *Store) Trials(ctx context.Context, studyID int64, from int) ([]experiments.Trial, error) {
	return s.TrialsSince(ctx, studyID, from, nil)
}

// TrialsSince implements experiments.SelectiveStore.
func (s *Store) TrialsSince(ctx context.Context, studyID int64, from int, also []int) ([]experiments.Trial, error) {
	var out []experiments.Trial
	err := retryBusy(ctx, func() error {
		var err error
		out, err = s.trials(ctx, studyID, from, also)
		return err
	})
	return out, err
}

func (s *Store) trials(ctx context.Context, studyID int64, from int, also []int) ([]experiments.Trial, error) {
	// The trials' numbers: from on, or one of also (integers, written
	// into the statement).
	which := "number >= ?"
	if len(also) > 0 {
		nums := make([]string, len(also))
		for i, n := range also {
			nums[i] = strconv.Itoa(n)
		}
		which = "(number >= ? OR number IN (" + strings.Join(nums, ",") + "))"
	}
	// One read transaction, so the trials and their intermediate values
	// come from the same snapshot.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.fail("list trials", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx,
		`SELECT id, number, claim, state, params, metrics, value, attempt, retry_of, started, finished, heartbeat, error, reason, log_path, owner
		 FROM trials WHERE study_id = ? AND `+which+` ORDER BY number`, studyID, from)
	if err != nil {
		return nil, s.fail("list trials", err)
	}
	var out []experiments.Trial
	byID := map[int64]int{}
	for rows.Next() {
		var t experiments.Trial
		var claim, metrics sql.NullString
		var value sql.NullFloat64
		var finished sql.NullInt64
		var state, params, reason string
		var started, heartbeat int64
		if err := rows.Scan(&t.ID, &t.Number, &claim, &state, &params, &metrics, &value, &t.Attempt, &t.RetryOf,
			&started, &finished, &heartbeat, &t.Error, &reason, &t.LogPath, &t.Owner); err != nil {
			rows.Close()
			return nil, s.fail("list trials", err)
		}
		t.StudyID = studyID
		t.Claim = claim.String
		t.State = optimize.State(state)
		t.Reason = experiments.Reason(reason)
		t.Started, t.Heartbeat = storerow.FromNanos(started), storerow.FromNanos(heartbeat)
		if finished.Valid {
			t.Finished = storerow.FromNanos(finished.Int64)
		}
		t.Value = math.NaN()
		if value.Valid {
			t.Value = value.Float64
		}
		if err := json.Unmarshal([]byte(params), &t.Params); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list trials: trial %d: params: %w", t.Number, err)
		}
		if metrics.Valid {
			if err := json.Unmarshal([]byte(metrics.String), &t.Metrics); err != nil {
				rows.Close()
				return nil, fmt.Errorf("list trials: trial %d: metrics: %w", t.Number, err)
			}
		}
		byID[t.ID] = len(out)
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.fail("list trials", err)
	}
	irows, err := tx.QueryContext(ctx,
		`SELECT i.trial_id, i.step, i.metrics FROM intermediate i JOIN trials t ON t.id = i.trial_id
		 WHERE t.study_id = ? AND `+strings.ReplaceAll(which, "number", "t.number")+` ORDER BY t.number, i.step`, studyID, from)
	if err != nil {
		return nil, s.fail("list intermediate values", err)
	}
	defer irows.Close()
	for irows.Next() {
		var id int64
		var iv experiments.Intermediate
		var m string
		if err := irows.Scan(&id, &iv.Step, &m); err != nil {
			return nil, s.fail("list intermediate values", err)
		}
		if err := json.Unmarshal([]byte(m), &iv.Metrics); err != nil {
			return nil, s.fail("list intermediate values", err)
		}
		if i, ok := byID[id]; ok {
			out[i].Intermediate = append(out[i].Intermediate, iv)
		}
	}
	return out, irows.Err()
}

// Extend brings the tables of another part of olc kept in this store's
// file (the server's users and documents, say) up to date: migrations[i]
// upgrades the component's tables from version i to i+1, each statement
// separated by ';', all in one transaction. The component's version is kept
// in the table component_versions, apart from the experiment record's own.
// A file whose component is newer than migrations is refused.
func (s *Store) Extend(ctx context.Context, component string, migrations []string) error {
	if s.readOnly {
		return fmt.Errorf("extend store %s with %s: the store is open read-only", s.path, component)
	}
	err := s.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS component_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var version int
		err := tx.QueryRowContext(ctx, `SELECT version FROM component_versions WHERE name = ?`, component).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO component_versions (name, version) VALUES (?, 0)`, component); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if version > len(migrations) {
			return fmt.Errorf("its %s tables have schema version %d; this olc knows versions up to %d (upgrade olc)", component, version, len(migrations))
		}
		for v := version; v < len(migrations); v++ {
			for _, stmt := range strings.Split(migrations[v], ";") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migrate %s tables to version %d: %w", component, v+1, err)
				}
			}
		}
		if version < len(migrations) {
			_, err = tx.ExecContext(ctx, `UPDATE component_versions SET version = ? WHERE name = ?`, len(migrations), component)
		}
		return err
	})
	if err != nil {
		return s.fail("extend store "+s.path+" with "+component, err)
	}
	return nil
}

// DB returns the database, for the reads of a component's own tables
// (see [Store.Extend]). Writes go through [Store.Write].
func (s *Store) DB() *sql.DB { return s.db }

// Write runs fn in a write transaction, committing when fn returns nil,
// serialized with the store's own writes. It is for a component's own
// tables (see [Store.Extend]); a damaged file gives a *CorruptError.
func (s *Store) Write(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("write to store %s: the store is open read-only", s.path)
	}
	return s.write(ctx, fn)
}

// Ping checks that the store's file can still be read.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&n); err != nil {
		return s.fail("read store "+s.path, err)
	}
	return nil
}
