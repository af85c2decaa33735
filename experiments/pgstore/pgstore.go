// Package pgstore is the PostgreSQL implementation of [experiments.Store],
// for studies shared by workers on many machines: a Slurm array, a
// Kubernetes Job, a handful of workstations. It uses pgx and its pool.
//
// Guarantees, each checked by the conformance suite and by tests with
// real olc processes:
//
//   - Trial numbers are unique and gap-free per study, claims (grid
//     points, retries) are taken once and a capped study never holds
//     more complete and running trials than its cap: CreateTrial is one
//     statement, one round trip, that takes the next number and the
//     held count from the study's row (locking it until the commit) and
//     inserts the trial, so creations in one study are serialized,
//     creations in different studies are not, and none scans the study's
//     trials.
//   - Heartbeats and staleness are judged by the database's clock: the
//     store is an [experiments.Clock].
//   - A lost connection, a restarting server or a serialization failure is
//     retried with exponential backoff for up to [Options.RetryFor]. Every
//     write is idempotent across a retry whose first attempt may have
//     committed (a commit whose answer was lost): a trial is created once
//     (each creation carries a random request key), and a finish or an
//     expiry that had committed is recognized as done, so a finished
//     trial's result is never lost or recorded twice.
//   - The schema is versioned; migrations run under an advisory lock, so
//     many workers starting at once migrate once.
//
// Timestamps are kept as nanoseconds since 1970 (BIGINT), like the SQLite
// store's, so that a heartbeat reads back exactly as written.
package pgstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/internal/storerow"
	"github.com/olc-toolkit/olc/optimize"
)

// IsURL reports whether s names a PostgreSQL store: postgres:// or
// postgresql://.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns a store URL without its password, for messages.
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://…"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Defaults of [Options].
const (
	DefaultRetryFor = 2 * time.Minute
	DefaultMaxConns = 4
)

// Options configure a store.
type Options struct {
	// RetryFor is how long an operation is retried while the server
	// cannot be reached or is restarting (default DefaultRetryFor);
	// negative means no retry.
	RetryFor time.Duration
	// OnRetry, when set, is called before each retry with the operation,
	// the attempt (1 for the first retry), the error and the wait.
	OnRetry func(op string, attempt int, err error, wait time.Duration)
	// ReadOnly opens the store for reading: no migration, and every
	// transaction read-only.
	ReadOnly bool
}

// Store is a PostgreSQL store. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	name   string
	opts   Options
	db     *sql.DB // for components' tables, over pool; made on demand
	dbOnce sync.Once
}

var (
	_ experiments.Store          = (*Store)(nil)
	_ experiments.Clock          = (*Store)(nil)
	_ experiments.SelectiveStore = (*Store)(nil)
)

// Open connects to the database at rawURL (a postgres:// URL or a
// key=value connection string; pool settings such as pool_max_conns may
// be in it), waiting for a server that is starting, and creates or
// upgrades olc's tables. The database should be olc's own, or olc's
// tables a schema of their own (search_path=… in the URL).
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	if opts.RetryFor == 0 {
		opts.RetryFor = DefaultRetryFor
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", Redact(rawURL), err)
	}
	if !strings.Contains(rawURL, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "olc"
	if opts.ReadOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", Redact(rawURL), err)
	}
	s := &Store{pool: pool, name: Redact(rawURL), opts: opts}
	if err := s.retry(ctx, "connect", func(ctx context.Context, _ int) error { return pool.Ping(ctx) }); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	if opts.ReadOnly {
		err = s.checkVersion(ctx)
	} else {
		err = s.migrate(ctx)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	return s, nil
}

// Name returns the store's URL without its password.
func (s *Store) Name() string { return s.name }

// Pool returns the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the store.
func (s *Store) Close() error {
	s.dbOnce.Do(func() {}) // no handle made from now on
	if s.db != nil {
		s.db.Close()
	}
	s.pool.Close()
	return nil
}

// Ping checks that the database can be read.
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.pool.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("read store %s: %w", s.name, err)
	}
	return nil
}

// migrations[i] upgrades the schema from version i to i+1.
var migrations = []string{
	`CREATE TABLE studies (
		id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		direction TEXT NOT NULL,
		metric TEXT NOT NULL,
		sampler TEXT NOT NULL,
		seed BIGINT NOT NULL,
		config TEXT NOT NULL,
		identity TEXT NOT NULL,
		created BIGINT NOT NULL,
		next_number INTEGER NOT NULL DEFAULT 0,
		held INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE trials (
		id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		study_id BIGINT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
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
		request TEXT UNIQUE,
		UNIQUE (study_id, number),
		UNIQUE (study_id, claim)
	);
	CREATE INDEX trials_state ON trials (study_id, state);
	CREATE TABLE intermediate (
		trial_id BIGINT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
		step INTEGER NOT NULL,
		metrics TEXT NOT NULL,
		PRIMARY KEY (trial_id, step)
	)`,
	`CREATE TABLE queue (
		id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		study_id BIGINT NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
		key TEXT NOT NULL,
		params TEXT NOT NULL,
		added BIGINT NOT NULL,
		UNIQUE (study_id, key)
	)`,
}

// migrationLock is the key of the advisory lock taken while migrating:
// "olc" in ASCII.
const migrationLock = 0x6f6c63

func (s *Store) migrate(ctx context.Context) error {
	return s.Extend(ctx, "", migrations)
}

func (s *Store) checkVersion(ctx context.Context) error {
	var version int
	err := s.retry(ctx, "read schema version", func(ctx context.Context, _ int) error {
		return s.pool.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&version)
	})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" {
		return errors.New("the database holds no olc store (a command that writes, such as 'olc optimize', creates one)")
	}
	if err != nil {
		return err
	}
	// Older versions read alike: each migration adds tables that only
	// writers use.
	if version < 1 || version > len(migrations) {
		return fmt.Errorf("it has schema version %d, this olc reads versions 1 to %d (a command that writes, such as 'olc optimize', upgrades it; a newer store needs a newer olc)", version, len(migrations))
	}
	return nil
}

// Extend brings the tables of a part of olc kept in this database (the
// server's users and documents, say) up to date: migrations[i] upgrades
// them from version i to i+1, each statement separated by ';', all in one
// transaction under an advisory lock, so that processes starting at once
// migrate once. The component's version is kept in component_versions;
// the empty component is olc's own schema, kept in schema_version. A
// database whose component is newer than migrations is refused.
func (s *Store) Extend(ctx context.Context, component string, migrations []string) error {
	if s.opts.ReadOnly {
		return fmt.Errorf("extend store %s with %s: the store is open read-only", s.name, component)
	}
	what := "schema"
	if component != "" {
		what = component + " tables"
	}
	err := s.retry(ctx, "migrate "+what, func(ctx context.Context, _ int) error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
				return err
			}
			get, set := `SELECT version FROM schema_version`, `UPDATE schema_version SET version = $1`
			create, start := `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`, `INSERT INTO schema_version (version) VALUES (0)`
			args := []any{}
			if component != "" {
				get, set = `SELECT version FROM component_versions WHERE name = $1`, `UPDATE component_versions SET version = $1 WHERE name = $2`
				create, start = `CREATE TABLE IF NOT EXISTS component_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL)`, `INSERT INTO component_versions (name, version) VALUES ($1, 0)`
				args = []any{component}
			}
			if _, err := tx.Exec(ctx, create); err != nil {
				return err
			}
			var version int
			err := tx.QueryRow(ctx, get, args...).Scan(&version)
			if errors.Is(err, pgx.ErrNoRows) {
				if _, err := tx.Exec(ctx, start, args...); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			if version > len(migrations) {
				return permanent(fmt.Errorf("its %s has version %d; this olc knows versions up to %d (upgrade olc)", what, version, len(migrations)))
			}
			for v := version; v < len(migrations); v++ {
				for _, stmt := range strings.Split(migrations[v], ";") {
					if strings.TrimSpace(stmt) == "" {
						continue
					}
					if _, err := tx.Exec(ctx, stmt); err != nil {
						return fmt.Errorf("migrate %s to version %d: %w", what, v+1, err)
					}
				}
			}
			if version < len(migrations) {
				_, err = tx.Exec(ctx, set, append([]any{len(migrations)}, args...)...)
			}
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("store %s: %w", s.name, err)
	}
	return nil
}

// DB returns the database as a database/sql handle over the store's pool,
// for components' own tables (see [Store.Extend]).
func (s *Store) DB() *sql.DB {
	s.dbOnce.Do(func() { s.db = stdlib.OpenDBFromPool(s.pool) })
	return s.db
}

// Write runs fn in a transaction of the database/sql handle (see DB),
// committing when fn returns nil: for components' own tables (see
// [Store.Extend]).
func (s *Store) Write(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.opts.ReadOnly {
		return fmt.Errorf("write to store %s: the store is open read-only", s.name)
	}
	return storerow.InTx(ctx, s.DB(), fn)
}

// Now implements [experiments.Clock]: the database server's time.
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	var micros int64
	err := s.retry(ctx, "read the clock", func(ctx context.Context, _ int) error {
		return s.pool.QueryRow(ctx, `SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint`).Scan(&micros)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("store %s: read the clock: %w", s.name, err)
	}
	return time.UnixMicro(micros).UTC(), nil
}

// permanentError marks an error that retrying cannot mend.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func permanent(err error) error { return permanentError{err} }

// transient reports whether err may pass by itself: the connection was
// lost or refused, the server is starting or shutting down, too many
// clients, a serialization failure or a deadlock. (olc takes its locks in
// one order and should see no deadlock; one would be retried.)
func transient(err error) bool {
	if err == nil || errors.As(err, new(permanentError)) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // admin or crash shutdown, cannot connect now
			pe.Code == "53300",                     // too many connections
			pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock
			return true
		}
		return false
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return pgconn.SafeToRetry(err) || errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "conn closed")
}

// retry runs fn until it succeeds, fails for good or RetryFor has passed
// since the first failure, waiting 50 ms, then twice as long each time up
// to 5 s. fn is told the attempt (0 first), so that a write can look for
// the effect of an attempt whose outcome it did not hear.
func (s *Store) retry(ctx context.Context, op string, fn func(ctx context.Context, attempt int) error) error {
	wait := 50 * time.Millisecond
	var first time.Time
	for attempt := 0; ; attempt++ {
		err := fn(ctx, attempt)
		if err == nil || !transient(err) || s.opts.RetryFor < 0 || ctx.Err() != nil {
			var pe permanentError
			if errors.As(err, &pe) {
				return pe.error
			}
			return err
		}
		if first.IsZero() {
			first = time.Now()
		}
		if time.Since(first) > s.opts.RetryFor {
			return fmt.Errorf("%s: gave up after %s of retries: %w", op, s.opts.RetryFor, err)
		}
		if s.opts.OnRetry != nil {
			s.opts.OnRetry(op, attempt+1, err, wait)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (while retrying after: %v)", op, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// CreateStudy implements experiments.Store.
func (s *Store) CreateStudy(ctx context.Context, st *experiments.Study) error {
	err := s.retry(ctx, "create study", func(ctx context.Context, attempt int) error {
		err := s.pool.QueryRow(ctx,
			`INSERT INTO studies (name, direction, metric, sampler, seed, config, identity, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			st.Name, string(st.Direction), st.Metric, st.Sampler, int64(st.Seed), st.Config, st.Identity, storerow.Nanos(st.Created)).Scan(&st.ID)
		if isUnique(err) && attempt > 0 {
			// Our earlier attempt may have committed.
			if got, gerr := s.Study(ctx, st.Name); gerr == nil && got.Identity == st.Identity && got.Created.Equal(st.Created) && got.Config == st.Config {
				st.ID = got.ID
				return nil
			}
		}
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
	var st *experiments.Study
	err := s.retry(ctx, "read study", func(ctx context.Context, _ int) error {
		var err error
		st, err = storerow.ScanStudy(s.pool.QueryRow(ctx, `SELECT `+storerow.StudyColumns+` FROM studies WHERE name = $1`, name))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("study %q: %w", name, experiments.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("study %q: %w", name, err)
	}
	return st, nil
}

// Studies implements experiments.Store.
func (s *Store) Studies(ctx context.Context) ([]experiments.Study, error) {
	var out []experiments.Study
	err := s.retry(ctx, "list studies", func(ctx context.Context, _ int) error {
		rows, err := s.pool.Query(ctx, `SELECT `+storerow.StudyColumns+` FROM studies ORDER BY name`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (experiments.Study, error) {
			st, err := storerow.ScanStudy(row)
			if err != nil {
				return experiments.Study{}, err
			}
			return *st, nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list studies: %w", err)
	}
	return out, nil
}

// RenameStudy implements experiments.Store.
func (s *Store) RenameStudy(ctx context.Context, name, newName string) error {
	err := s.retry(ctx, "rename study", func(ctx context.Context, attempt int) error {
		tag, err := s.pool.Exec(ctx, `UPDATE studies SET name = $1 WHERE name = $2`, newName, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			if attempt > 0 {
				// Our earlier attempt may have committed.
				var n int
				if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM studies WHERE name = $1`, newName).Scan(&n); err == nil && n == 1 {
					return nil
				}
			}
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
	err := s.retry(ctx, "delete study", func(ctx context.Context, attempt int) error {
		tag, err := s.pool.Exec(ctx, `DELETE FROM studies WHERE name = $1`, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 && attempt == 0 {
			// A later attempt finding nothing: the earlier one committed.
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
	err = s.retry(ctx, "enqueue", func(ctx context.Context, _ int) error {
		// A retry after a lost reply finds its own point by the key.
		err := s.pool.QueryRow(ctx, `INSERT INTO queue (study_id, key, params, added) VALUES ($1, $2, $3, $4)
			ON CONFLICT (study_id, key) DO NOTHING RETURNING id`, studyID, q.Key, string(params), added.UnixNano()).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
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
	var out []experiments.Queued
	err := s.retry(ctx, "read the queue", func(ctx context.Context, _ int) error {
		out = out[:0]
		rows, err := s.pool.Query(ctx, `SELECT id, key, params, added FROM queue WHERE study_id = $1 ORDER BY id`, studyID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var q experiments.Queued
			var params string
			var added int64
			if err := rows.Scan(&q.ID, &q.Key, &params, &added); err != nil {
				return permanent(err)
			}
			if err := json.Unmarshal([]byte(params), &q.Params); err != nil {
				return permanent(fmt.Errorf("point %d: %w", q.ID, err))
			}
			q.Added = time.Unix(0, added).UTC()
			out = append(out, q)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read the queue of study %d: %w", studyID, err)
	}
	return out, nil
}

// insertTrial creates a trial in one statement, one round trip: it
// takes the study's next number and counts the trial as held (complete,
// pruned or running) on the study's row, which locks it until the commit, so that
// creations in one study are serialized (creations in different studies
// are not) and none scans the study's trials; the update is refused when
// the study holds its cap already or another trial has the claim. The
// claim is checked again by the unique key (study_id, claim), which fails
// the statement, the update with it, when a trial with the claim was
// committed while this one waited for the lock.
const insertTrial = `WITH s AS (
		UPDATE studies SET next_number = next_number + 1, held = held + 1
		WHERE id = $1 AND ($10 <= 0 OR held < $10)
		  AND ($2::text IS NULL OR NOT EXISTS (SELECT 1 FROM trials WHERE study_id = $1 AND claim = $2))
		RETURNING next_number - 1 AS number)
	INSERT INTO trials (study_id, number, claim, state, params, attempt, retry_of, started, heartbeat, error, reason, log_path, owner, request)
	SELECT $1, s.number, $2, 'running', $3, $4, $5, $6, $7, '', '', '', $8, $9 FROM s
	RETURNING id, number`

// CreateTrial implements experiments.Store.
func (s *Store) CreateTrial(ctx context.Context, t *experiments.Trial) error {
	params, err := json.Marshal(t.Params)
	if err != nil {
		return fmt.Errorf("create trial: %w", err)
	}
	var claim *string
	if t.Claim != "" {
		claim = &t.Claim
	}
	key := make([]byte, 16)
	rand.Read(key)
	request := hex.EncodeToString(key)
	created := false
	err = s.retry(ctx, "create trial", func(ctx context.Context, attempt int) error {
		if attempt > 0 {
			// An earlier attempt may have committed without our hearing.
			err := s.pool.QueryRow(ctx, `SELECT id, number FROM trials WHERE request = $1`, request).Scan(&t.ID, &t.Number)
			if err == nil {
				created = true
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		err := s.pool.QueryRow(ctx, insertTrial, t.StudyID, claim, string(params), t.Attempt, t.RetryOf, storerow.Nanos(t.Started), storerow.Nanos(t.Heartbeat), t.Owner, request, t.Cap).Scan(&t.ID, &t.Number)
		if err == nil {
			created = true
			return nil
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		if isUnique(err) && claim != nil {
			return fmt.Errorf("create trial: claim %q: %w", t.Claim, experiments.ErrClaimed)
		}
		return fmt.Errorf("create trial: %w", err)
	}
	if !created {
		// Nothing inserted: say why.
		var exists, claimed bool
		if err := s.retry(ctx, "create trial", func(ctx context.Context, _ int) error {
			return s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM studies WHERE id = $1),
				EXISTS (SELECT 1 FROM trials WHERE study_id = $1 AND claim = $2)`, t.StudyID, claim).Scan(&exists, &claimed)
		}); err != nil {
			return fmt.Errorf("create trial: %w", err)
		}
		switch {
		case !exists:
			return fmt.Errorf("create trial: study %d: %w", t.StudyID, experiments.ErrNotFound)
		case claimed:
			return fmt.Errorf("create trial: claim %q: %w", t.Claim, experiments.ErrClaimed)
		default:
			return fmt.Errorf("create trial: %d trials complete or running: %w", t.Cap, experiments.ErrStudyFull)
		}
	}
	t.State = optimize.Running
	return nil
}

// Heartbeat implements experiments.Store.
func (s *Store) Heartbeat(ctx context.Context, at time.Time, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.retry(ctx, "heartbeat", func(ctx context.Context, _ int) error {
		_, err := s.pool.Exec(ctx, `UPDATE trials SET heartbeat = $1 WHERE id = ANY($2) AND state = 'running'`, storerow.Nanos(at), ids)
		return err
	})
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// finishTrial ends a running trial and adds its intermediate values in
// one statement; a trial that failed no longer counts as held by its
// study (complete and pruned trials count towards its target).
const finishTrial = `WITH u AS (
		UPDATE trials SET state = $2, metrics = $3, value = $4, finished = $5, error = $6, reason = $7, log_path = $8
		WHERE id = $1 AND state = 'running' RETURNING id, study_id),
	i AS (INSERT INTO intermediate (trial_id, step, metrics)
		SELECT u.id, s.step, s.metrics FROM u, unnest($9::integer[], $10::text[]) AS s(step, metrics)),
	h AS (UPDATE studies SET held = held - 1 WHERE id IN (SELECT study_id FROM u) AND $2 NOT IN ('complete', 'pruned'))
	SELECT COUNT(*) FROM u`

// expireTrial marks a running trial failed, provided its heartbeat is the
// one given.
const expireTrial = `WITH u AS (
		UPDATE trials SET state = 'failed', reason = $1, error = $2, finished = $3
		WHERE id = $4 AND state = 'running' AND heartbeat = $5 RETURNING study_id),
	h AS (UPDATE studies SET held = held - 1 WHERE id IN (SELECT study_id FROM u))
	SELECT COUNT(*) FROM u`

// FinishTrial implements experiments.Store.
func (s *Store) FinishTrial(ctx context.Context, t *experiments.Trial) error {
	metrics, err := storerow.Metrics(t.Metrics)
	if err != nil {
		return fmt.Errorf("finish trial %d: %w", t.Number, err)
	}
	var value *float64
	if !math.IsNaN(t.Value) && !math.IsInf(t.Value, 0) {
		value = &t.Value
	}
	steps := make([]int32, len(t.Intermediate))
	ims := make([]string, len(t.Intermediate))
	for i, iv := range t.Intermediate {
		m, err := storerow.Metrics(iv.Metrics)
		if err != nil {
			return fmt.Errorf("finish trial %d: %w", t.Number, err)
		}
		steps[i], ims[i] = int32(iv.Step), "{}"
		if m != nil {
			ims[i] = *m
		}
	}
	err = s.retry(ctx, "finish trial", func(ctx context.Context, attempt int) error {
		var n int
		if err := s.pool.QueryRow(ctx, finishTrial, t.ID, string(t.State), metrics, value, storerow.Nanos(t.Finished), t.Error, string(t.Reason), t.LogPath, steps, ims).Scan(&n); err != nil {
			return err
		}
		if n == 0 && !(attempt > 0 && s.ended(ctx, t.ID, string(t.State), storerow.Nanos(t.Finished))) {
			return experiments.ErrNotRunning
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish trial %d: %w", t.Number, err)
	}
	return nil
}

// ended reports whether a trial is in the final state an earlier attempt
// of ours, whose answer was lost, would have given it.
func (s *Store) ended(ctx context.Context, id int64, state string, finished int64) bool {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM trials WHERE id = $1 AND state = $2 AND finished = $3`, id, state, finished).Scan(&n)
	return err == nil && n == 1
}

// ExpireTrial implements experiments.Store.
func (s *Store) ExpireTrial(ctx context.Context, id int64, heartbeat, at time.Time, msg string) error {
	err := s.retry(ctx, "expire trial", func(ctx context.Context, attempt int) error {
		var n int
		if err := s.pool.QueryRow(ctx, expireTrial, string(experiments.ReasonLost), msg, storerow.Nanos(at), id, storerow.Nanos(heartbeat)).Scan(&n); err != nil {
			return err
		}
		if n == 0 && !(attempt > 0 && s.ended(ctx, id, string(optimize.Failed), storerow.Nanos(at))) {
			return experiments.ErrNotRunning
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("expire trial %d: %w", id, err)
	}
	return nil
}

// trialsQuery reads trials with their intermediate values in one
// statement, so both come from one snapshot; where selects the trials
// ($1 is the study).
func trialsQuery(where string) string {
	return `SELECT t.id, t.number, t.claim, t.state, t.params, t.metrics, t.value, t.attempt, t.retry_of,
		t.started, t.finished, t.heartbeat, t.error, t.reason, t.log_path, t.owner, i.steps, i.metrics
	FROM trials t LEFT JOIN LATERAL (
		SELECT array_agg(step ORDER BY step) AS steps, array_agg(metrics ORDER BY step) AS metrics
		FROM intermediate WHERE trial_id = t.id) i ON true
	WHERE t.study_id = $1 AND (` + where + `) ORDER BY t.number`
}

var (
	listTrials      = trialsQuery(`t.number >= $2`)
	listTrialsSince = trialsQuery(`t.number >= $2 OR t.number = ANY($3)`)
)

// Trials implements experiments.Store.
func (s *Store) Trials(ctx context.Context, studyID int64, from int) ([]experiments.Trial, error) {
	return s.trials(ctx, studyID, listTrials, from)
}

// TrialsSince implements experiments.SelectiveStore.
func (s *Store) TrialsSince(ctx context.Context, studyID int64, from int, also []int) ([]experiments.Trial, error) {
	nums := make([]int32, len(also))
	for i, n := range also {
		nums[i] = int32(n)
	}
	return s.trials(ctx, studyID, listTrialsSince, from, nums)
}

func (s *Store) trials(ctx context.Context, studyID int64, query string, args ...any) ([]experiments.Trial, error) {
	var out []experiments.Trial
	err := s.retry(ctx, "list trials", func(ctx context.Context, _ int) error {
		out = out[:0]
		rows, err := s.pool.Query(ctx, query, append([]any{studyID}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTrial(rows)
			if err != nil {
				return permanent(err)
			}
			t.StudyID = studyID
			out = append(out, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list trials: %w", err)
	}
	return out, nil
}

func scanTrial(rows pgx.Rows) (experiments.Trial, error) {
	var t experiments.Trial
	var claim, metrics *string
	var value *float64
	var finished *int64
	var state, params, reason string
	var started, heartbeat int64
	var steps []int32
	var ims []string
	if err := rows.Scan(&t.ID, &t.Number, &claim, &state, &params, &metrics, &value, &t.Attempt, &t.RetryOf,
		&started, &finished, &heartbeat, &t.Error, &reason, &t.LogPath, &t.Owner, &steps, &ims); err != nil {
		return t, err
	}
	if claim != nil {
		t.Claim = *claim
	}
	t.State = optimize.State(state)
	t.Reason = experiments.Reason(reason)
	t.Started, t.Heartbeat = storerow.FromNanos(started), storerow.FromNanos(heartbeat)
	if finished != nil {
		t.Finished = storerow.FromNanos(*finished)
	}
	t.Value = math.NaN()
	if value != nil {
		t.Value = *value
	}
	if err := json.Unmarshal([]byte(params), &t.Params); err != nil {
		return t, fmt.Errorf("trial %d: params: %w", t.Number, err)
	}
	if metrics != nil {
		if err := json.Unmarshal([]byte(*metrics), &t.Metrics); err != nil {
			return t, fmt.Errorf("trial %d: metrics: %w", t.Number, err)
		}
	}
	for i, step := range steps {
		iv := experiments.Intermediate{Step: int(step)}
		if err := json.Unmarshal([]byte(ims[i]), &iv.Metrics); err != nil {
			return t, fmt.Errorf("trial %d: intermediate value at step %d: %w", t.Number, step, err)
		}
		t.Intermediate = append(t.Intermediate, iv)
	}
	return t, nil
}
