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

	"golang.org/x/term"

	"github.com/olc-toolkit/olc/experiments"
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

// DefaultStore is the store used when --store is not given.
var DefaultStore = filepath.Join(".olc", "olc.db")

// OpenStore opens (creating if needed) the store at path.
func OpenStore(ctx context.Context, path string) (*sqlitestore.Store, error) {
	if strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://") {
		return nil, Usagef("--store %s: PostgreSQL stores are not available in this version of olc; give a file path", path)
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

// OpenExistingStore opens a store that must exist already, read-only, for
// commands that only read: it creates, migrates and writes nothing.
func OpenExistingStore(ctx context.Context, path string) (*sqlitestore.Store, error) {
	if strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://") {
		return nil, Usagef("--store %s: PostgreSQL stores are not available in this version of olc; give a file path", path)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, Usagef("no store at %s (run 'olc optimize --config …' first, or pass --store)", path)
	}
	return sqlitestore.OpenReadOnly(ctx, path)
}

// WorkDir returns the folder that holds a store's runs/ and plots/: the
// store file's folder.
func WorkDir(store string) string { return filepath.Dir(store) }

// PrintJSON writes v as indented JSON.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// LoadStudy opens the store and reads a study with its trials.
func LoadStudy(ctx context.Context, storePath, name string) (*experiments.Study, []experiments.Trial, error) {
	store, err := OpenExistingStore(ctx, storePath)
	if err != nil {
		return nil, nil, err
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
			return nil, nil, Usagef("no study %q in %s: the store holds no study yet", name, storePath)
		}
		return nil, nil, Usagef("no study %q in %s; its studies: %s", name, storePath, strings.Join(names, ", "))
	}
	if err != nil {
		return nil, nil, err
	}
	trials, err := store.Trials(ctx, study.ID, 0)
	if err != nil {
		return nil, nil, err
	}
	return study, trials, nil
}
