// Package cmdutil holds what olc's commands share: I/O streams, the mapping
// of errors to exit codes, and opening the store.
package cmdutil

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/term"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/pgstore"
	"github.com/olc-toolkit/olc/experiments/sqlitestore"
)

// IOStreams are a command's input and outputs. Commands write results to
// Out and progress, notes and errors to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// StderrTTY reports whether ErrOut is a terminal (progress bars).
	StderrTTY bool
	// ProgressInterval is how often long work prints a progress line when
	// ErrOut is not a terminal (DefaultProgressInterval when 0).
	ProgressInterval time.Duration
}

// System returns the process's streams. OLC_PROGRESS_INTERVAL (a
// duration such as "30s") sets how often long work prints a progress line
// when stderr is not a terminal.
func System() *IOStreams {
	ios := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, StderrTTY: term.IsTerminal(int(os.Stderr.Fd()))}
	if d, err := time.ParseDuration(os.Getenv("OLC_PROGRESS_INTERVAL")); err == nil && d > 0 {
		ios.ProgressInterval = d
	}
	return ios
}

// Test returns streams writing to buffers.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, out, errOut
}

// UsageError is bad usage: a wrong flag, a missing argument, a store path
// that cannot be used. It exits with code 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
	// ExitInterrupted is 128 + SIGINT, the shells' code for a command
	// stopped by Ctrl-C (a SIGTERM makes it 143).
	ExitInterrupted = 130
)

// SignalError is the cause of a command's cancellation by a signal.
type SignalError struct{ Signal syscall.Signal }

func (e SignalError) Error() string { return "interrupted by " + e.Signal.String() }

// CodeError is an error with its own exit code, for commands that other
// programs (olc itself) run and read by their exit code.
type CodeError struct {
	Code int
	Err  error
}

func (e *CodeError) Error() string { return e.Err.Error() }

// Unwrap returns the error.
func (e *CodeError) Unwrap() error { return e.Err }

// ExitCode maps an error to olc's exit code: 0 for nil, a *CodeError's
// code, 130 for an interrupted command, 2 for bad usage or a bad config,
// 1 for everything else.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var code *CodeError
	if errors.As(err, &code) {
		return code.Code
	}
	if errors.Is(err, experiments.ErrInterrupted) || errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var ue *UsageError
	var ce *experiments.ConfigError
	var ch *experiments.ChangedError
	var bad *sqlitestore.CorruptError
	switch {
	case errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &ch), errors.As(err, &bad), errors.Is(err, sqlitestore.ErrUnwritable):
		return ExitUsage
	}
	return ExitError
}

// DefaultStore is the store used when neither --store nor OLC_STORE is
// given.
var DefaultStore = filepath.Join(".olc", "olc.db")

// StoreEnv names the variable that gives the store when --store is not
// given: a SQLite file or a postgres:// URL, the same for every worker.
const StoreEnv = "OLC_STORE"

// Store is an experiment store opened by a command: a SQLite file or a
// PostgreSQL database.
type Store interface {
	experiments.Store
	// Ping checks that the store can still be read.
	Ping(ctx context.Context) error
}

// StoreName returns the store for messages: the file, or the URL
// without its password.
func StoreName(path string) string {
	if pgstore.IsURL(path) {
		return pgstore.Redact(path)
	}
	return path
}

// OpenStore opens (creating if needed) the store at path: a SQLite file,
// or a postgres:// URL. While a PostgreSQL server cannot be reached, each
// retry is reported on errOut (when not nil).
func OpenStore(ctx context.Context, path string, errOut io.Writer) (Store, error) {
	if pgstore.IsURL(path) {
		return openPostgres(ctx, path, errOut, false)
	}
	s, err := sqlitestore.Open(ctx, path)
	if err != nil {
		if errors.Is(err, sqlitestore.ErrUnwritable) {
			return nil, &UsageError{Err: fmt.Errorf("%w (choose another --store)", err)}
		}
		return nil, err
	}
	return s, nil
}

// StoreRetryEnv names the variable that sets how long a PostgreSQL store
// that cannot be reached is waited for (a duration such as "10m"; "0":
// not at all; default pgstore.DefaultRetryFor).
const StoreRetryEnv = "OLC_STORE_RETRY"

func openPostgres(ctx context.Context, path string, errOut io.Writer, readOnly bool) (Store, error) {
	opts := pgstore.Options{ReadOnly: readOnly}
	if v := os.Getenv(StoreRetryEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, Usagef("%s=%q: give how long to wait for the store, a duration such as 10m (0: not at all)", StoreRetryEnv, v)
		}
		opts.RetryFor = d
		if d == 0 {
			opts.RetryFor = -1
		}
	}
	if errOut != nil {
		name := pgstore.Redact(path)
		opts.OnRetry = func(op string, attempt int, err error, wait time.Duration) {
			if attempt == 1 || wait >= 5*time.Second {
				fmt.Fprintf(errOut, "olc: store %s: %s: %v; trying again in %s\n", name, op, err, wait.Round(time.Millisecond))
			}
		}
	}
	s, err := pgstore.Open(ctx, path, opts)
	if err != nil {
		var pe *pgconn.PgError
		if strings.Contains(err.Error(), "cannot parse") || (errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000" || pe.Code == "3D000")) {
			// A malformed URL, a wrong password or user, no such database.
			return nil, &UsageError{Err: fmt.Errorf("--store: %w", err)}
		}
		return nil, err
	}
	return s, nil
}

// OpenExistingStore opens a store that must exist already, read-only, for
// commands that only read: it creates, migrates and writes nothing.
func OpenExistingStore(ctx context.Context, path string) (Store, error) {
	if pgstore.IsURL(path) {
		return openPostgres(ctx, path, nil, true)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, Usagef("no store at %s (run 'olc optimize --config …' first, or pass --store)", path)
	}
	return sqlitestore.OpenReadOnly(ctx, path)
}

// WorkDir returns the folder that holds a store's runs/ and plots/: the
// store file's folder, or .olc in the working folder for a PostgreSQL
// store.
func WorkDir(store string) string {
	if pgstore.IsURL(store) {
		return filepath.Dir(DefaultStore)
	}
	return filepath.Dir(store)
}

// PrintJSON writes v as indented JSON.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// LoadStudy opens the store and reads a study with its trials.
func LoadStudy(ctx context.Context, storePath, name string) (*experiments.Study, []experiments.Trial, error) {
	study, trials, _, err := LoadStudyAt(ctx, storePath, name)
	return study, trials, err
}

// LoadStudyAt is LoadStudy that also returns the time of the reading by
// the store's clock (see experiments.Clock), or by this machine's when the
// store keeps none: the time to judge the trials' heartbeats by.
func LoadStudyAt(ctx context.Context, storePath, name string) (*experiments.Study, []experiments.Trial, time.Time, error) {
	store, err := OpenExistingStore(ctx, storePath)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	defer store.Close()
	study, err := store.Study(ctx, name)
	if errors.Is(err, experiments.ErrNotFound) {
		all, _ := store.Studies(ctx)
		names := make([]string, len(all))
		for i, s := range all {
			names[i] = s.Name
		}
		if len(names) == 0 {
			return nil, nil, time.Time{}, Usagef("no study %q in %s: the store holds no study yet", name, StoreName(storePath))
		}
		return nil, nil, time.Time{}, Usagef("no study %q in %s; its studies: %s", name, StoreName(storePath), strings.Join(names, ", "))
	}
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	trials, err := store.Trials(ctx, study.ID, 0)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	now := time.Now()
	if clock, ok := store.(experiments.Clock); ok {
		if now, err = clock.Now(ctx); err != nil {
			return nil, nil, time.Time{}, err
		}
	}
	return study, trials, now, nil
}
