package experiments

import (
	"context"
	"errors"
	"time"
)

// Store keeps studies and their trials. Every method commits before it
// returns, and a trial's state only moves from running to a final state, so
// a store that crashes between calls is never left inconsistent.
//
// Implementations must be safe for concurrent use, also by several
// processes sharing one store: CreateTrial assigns numbers and checks
// claims atomically, and FinishTrial and ExpireTrial change a trial only if
// it is still running. The conformance suite in package storetest checks
// all of this.
type Store interface {
	// CreateStudy stores s and sets s.ID. It returns ErrStudyExists when a
	// study of that name exists.
	CreateStudy(ctx context.Context, s *Study) error
	// Study returns the study called name, or ErrNotFound.
	Study(ctx context.Context, name string) (*Study, error)
	// Studies returns every study, by name.
	Studies(ctx context.Context) ([]Study, error)
	// RenameStudy renames a study. It returns ErrNotFound when there is no
	// study called name and ErrStudyExists when newName is taken.
	RenameStudy(ctx context.Context, name, newName string) error
	// DeleteStudy deletes a study with its trials and their intermediate
	// values, in one transaction. It returns ErrNotFound when there is no
	// study called name.
	DeleteStudy(ctx context.Context, name string) error

	// CreateTrial stores t as a running trial of study t.StudyID with the
	// next free number, and sets t.ID and t.Number. It returns ErrClaimed
	// when t.Claim is not empty and another trial of the study has it, and
	// ErrStudyFull when t.Cap is positive and the study already holds Cap
	// trials complete, pruned or running, both checked atomically with the
	// insert.
	CreateTrial(ctx context.Context, t *Trial) error
	// Heartbeat sets the heartbeat of those of the trials that are still
	// running.
	Heartbeat(ctx context.Context, at time.Time, trialIDs ...int64) error
	// FinishTrial records the end of a running trial: t.State (complete,
	// failed or pruned), t.Metrics, t.Value, t.Intermediate, t.Finished,
	// t.Error, t.Reason and t.LogPath. It returns ErrNotRunning when the
	// trial is no longer running.
	FinishTrial(ctx context.Context, t *Trial) error
	// ExpireTrial marks a running trial whose process died as failed with
	// ReasonLost and the message msg, provided its heartbeat is still the
	// one given (so a live process that heartbeats in between keeps its
	// trial). It returns ErrNotRunning otherwise.
	ExpireTrial(ctx context.Context, trialID int64, heartbeat, at time.Time, msg string) error
	// Trials returns the trials of a study numbered from on, in number
	// order, with their intermediate values.
	Trials(ctx context.Context, studyID int64, from int) ([]Trial, error)

	// Enqueue adds a point to a study's queue of points to run before the
	// sampler's (see Queued), unless the queue holds one with the same key
	// already; added says which. It sets q.ID and q.Added when added.
	Enqueue(ctx context.Context, studyID int64, q *Queued) (added bool, err error)
	// Queue returns a study's queued points in the order they were added,
	// run or not (a trial claims a point by its Claim).
	Queue(ctx context.Context, studyID int64) ([]Queued, error)

	// Close releases the store.
	Close() error
}

// Clock is implemented by stores that keep time of their own, such as a
// database server shared by many machines. A [Runner] on such a store
// judges heartbeats and staleness by the store's clock, not its
// machine's: it measures the difference once at the start and again each
// minute, so workers whose clocks disagree still agree on which trials are
// lost.
type Clock interface {
	// Now returns the store's current time.
	Now(ctx context.Context) (time.Time, error)
}

// SelectiveStore is implemented by stores that can read a chosen set of a
// study's trials. A Runner keeping its view of a shared study current
// reads only the new trials and the other processes' running ones, not
// everything since the oldest of those.
type SelectiveStore interface {
	// TrialsSince returns the trials of a study numbered from on and those
	// numbered in also, in number order, with their intermediate values.
	TrialsSince(ctx context.Context, studyID int64, from int, also []int) ([]Trial, error)
}

// Errors returned by stores.
var (
	ErrNotFound    = errors.New("not found")
	ErrStudyExists = errors.New("a study of that name exists")
	ErrClaimed     = errors.New("another trial holds that claim")
	ErrNotRunning  = errors.New("the trial is no longer running")
	// ErrStudyFull: the study holds as many complete, pruned and running
	// trials as the new trial's Cap (its target); see Store.CreateTrial.
	ErrStudyFull = errors.New("the study has as many complete, pruned and running trials as its target")
)
