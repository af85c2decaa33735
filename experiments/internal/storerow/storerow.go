// Package storerow holds what the SQL stores (sqlitestore, pgstore) share
// in how a study or a trial is laid out in a row: timestamps as
// nanoseconds, metrics as JSON without non-finite values, and a study's
// columns and their scan.
package storerow

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

// Nanos is a timestamp as stored: nanoseconds since 1970, so that a
// heartbeat reads back exactly as written.
func Nanos(t time.Time) int64 { return t.UnixNano() }

// FromNanos is the stored timestamp n as a UTC time.
func FromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// Metrics encodes metrics as JSON, leaving out non-finite values, which
// JSON cannot hold; nil metrics are NULL (a nil pointer).
func Metrics(m map[string]float64) (*string, error) {
	if m == nil {
		return nil, nil
	}
	clean := make(map[string]float64, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			clean[k] = v
		}
	}
	b, err := json.Marshal(clean)
	s := string(b)
	return &s, err
}

// StudyColumns are the columns a study is read from, in ScanStudy's order.
const StudyColumns = `id, name, direction, metric, sampler, seed, config, identity, created`

// ScanStudy reads a study from a row of StudyColumns (a database/sql or a
// pgx row).
func ScanStudy(row interface{ Scan(...any) error }) (*experiments.Study, error) {
	var st experiments.Study
	var dir string
	var seed, created int64
	if err := row.Scan(&st.ID, &st.Name, &dir, &st.Metric, &st.Sampler, &seed, &st.Config, &st.Identity, &created); err != nil {
		return nil, err
	}
	st.Direction = optimize.Direction(dir)
	st.Seed = uint64(seed)
	st.Created = FromNanos(created)
	return &st, nil
}

// InTx runs fn in a transaction of db, committing when fn returns nil and
// rolling back otherwise.
func InTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
