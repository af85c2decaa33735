package experiments

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/olc-toolkit/olc/optimize"
)

// Defaults of the Runner's settings.
const (
	DefaultMaxFailures       = 10
	DefaultHeartbeatInterval = 5 * time.Second
	// DefaultStaleAfter is the silence after which a running trial counts
	// as lost.
	DefaultStaleAfter = 6 * DefaultHeartbeatInterval
)

// Runner runs a study's trials until Trials of them are complete.
//
// Each of Parallel workers takes the next job (a retry of a failed trial,
// or else the sampler's proposal from the history, running trials
// included), records the trial as running in the store, runs the
// objective and records the outcome, each step committed before the next.
// A trial whose objective fails (ReasonError) is retried up to MaxRetries
// times; the run gives up after MaxFailures such failures in a row.
//
// Run resumes a study: complete trials count towards the target; trials
// left running by a process that died (same host and the process gone, or
// no heartbeat for StaleAfter) are marked failed (ReasonLost) and run again,
// as are trials interrupted by a cancelled context (ReasonInterrupted).
//
// The exported fields configure the runner; set them before Run, and do not
// call Run on one Runner from two goroutines at once.
type Runner struct {
	Store     Store
	Study     *Study
	Space     *optimize.Space
	Sampler   optimize.Sampler
	Objective Objective

	// Trials is the number of trials wanted: complete ones, and pruned
	// ones (stopped early on purpose) too.
	Trials int
	// Parallel is the number of trials run at once (default 1).
	Parallel int
	// MaxRetries is how many times a trial that failed is run again.
	MaxRetries int
	// MaxFailures is how many failures in a row end the run (default
	// DefaultMaxFailures); negative means no limit.
	MaxFailures int
	// RunsDir, when set, holds the trials' folders: RunsDir/<study>/<n>.
	RunsDir string
	// HeartbeatInterval is how often running trials are heartbeated
	// (default DefaultHeartbeatInterval); StaleAfter is the silence after
	// which a running trial of another process counts as lost (default six
	// intervals).
	HeartbeatInterval time.Duration
	StaleAfter        time.Duration
	// OnEvent, when set, is called after every trial event, from one
	// goroutine at a time. It must return quickly.
	OnEvent func(Event)
	// WarmStart are complete trials of other studies over the same space
	// and objective, for a sampler with a model (see
	// optimize.History.Prior).
	WarmStart []optimize.Observation
	// Pruner, when set, judges each intermediate value a trial reports of
	// PruneMetric (default the study's metric) against the other trials'
	// (complete and pruned ones, and this run's running ones); a trial it
	// stops ends pruned. The objective must report through
	// TrialRun.Report.
	Pruner      optimize.Pruner
	PruneMetric string
	// PruneDirection is PruneMetric's direction (default the study's).
	PruneDirection optimize.Direction
	// Metrics and Directions are the study's objectives when it has
	// several (see ObjectivesOf); a trial completes only with every one
	// of them finite. Nil: the study's one metric.
	Metrics    []string
	Directions []optimize.Direction

	// State of a run, guarded by mu. A worker holds mu from the proposal
	// of a trial to its creation in the store (next): the sampler must see
	// every trial this process has started, the one just proposed by
	// another worker included, or two workers would propose the same point
	// (Bayes takes running trials as fantasies). A proposal can take
	// seconds, so the heartbeat does not take mu: it reads beating.
	mu        sync.Mutex
	cond      *sync.Cond
	trials    []*Trial
	hist      optimize.History
	counts    Counts
	ours      map[int64]*Trial // running trials of this run, by ID
	retryQ    []int
	best      *Trial
	streak    int
	lastError string
	exhausted bool
	gaveUp    bool
	fatal     error
	started   int
	stopped   int
	owner     string
	// retried holds the numbers of the trials a later trial runs again.
	retried map[int]bool
	// staleAfter and pollEvery: when other processes' trials count as
	// lost, and how often the store is read while only they run.
	staleAfter, pollEvery time.Duration

	// beating holds the IDs of ours, for the heartbeat; guarded by
	// beatMu, which is taken under mu, never the other way round.
	beatMu  sync.Mutex
	beating map[int64]bool
	// rng spreads the proposals of processes sharing a study (see
	// optimize.History.Skip); guarded by mu.
	rng *rand.Rand
	// lastBy holds the number of the latest trial of each other process
	// that added trials since the run started.
	lastBy map[string]int
	// lowForeign: no trial numbered below it is another process's and
	// running (see refresh).
	lowForeign int
	// skew is the store's clock minus this machine's, in nanoseconds,
	// when the store is a Clock (see now).
	skew atomic.Int64
	// queue holds the study's enqueued points, read from the store at
	// queueRead and again after queueEvery (points may be enqueued while
	// the study runs); guarded by mu.
	queue     []Queued
	queueRead time.Time
	// metrics are the study's metrics, the first its Metric.
	metrics []string
	// live holds the curves of this run's running trials as they report,
	// and curves those of finished trials, by number; guarded by mu.
	live, curves map[int]*optimize.Curve
}

// queueEvery is how often a run reads the study's queue again.
const queueEvery = 5 * time.Second

// maxSkip bounds optimize.History.Skip; racingWindow is how many of the
// latest trials tell which other processes are adding trials.
const (
	maxSkip      = 256
	racingWindow = 64
)

// EventKind says what happened to a trial.
type EventKind int

// The events.
const (
	TrialStarted EventKind = iota + 1
	TrialFinished
	TrialExpired
)

// Event reports a trial's change.
type Event struct {
	Kind  EventKind
	Trial Trial
	// Counts and Best describe the whole study after the event.
	Counts Counts
	Best   *Trial
	// Target is the number of complete trials wanted.
	Target int
}

// Summary describes a study after a run.
type Summary struct {
	// Counts are the study's trials by state.
	Counts
	// Target is the number of complete trials wanted.
	Target int
	// Started is the number of trials this run started; Resumed the
	// number of complete trials the study had before it; Expired the
	// number of trials of dead processes it marked failed; Interrupted the
	// number of trials it stopped when its context was cancelled.
	Started, Resumed, Expired, Interrupted int
	// Exhausted is set when the sampler had no point left (a finished grid).
	Exhausted bool
	// Best is the best complete trial, or nil.
	Best *Trial
}

// ErrInterrupted is returned by Run when its context was cancelled; the
// trials it interrupted are marked failed with ReasonInterrupted and run
// again when the study resumes.
var ErrInterrupted = errors.New("interrupted")

// FailuresError is returned by Run when it gave up after too many failed
// trials in a row.
type FailuresError struct {
	N    int
	Last string
}

func (e *FailuresError) Error() string {
	return fmt.Sprintf("gave up after %d failed trials in a row; the last one failed with: %s", e.N, e.Last)
}

// Run runs the study until Trials trials are complete, the sampler is
// exhausted, the run gives up or ctx is cancelled. It returns the summary
// in every case but a failure to read the store.
func (r *Runner) Run(ctx context.Context) (*Summary, error) {
	if r.Store == nil || r.Study == nil || r.Space == nil || r.Sampler == nil || r.Objective == nil {
		return nil, errors.New("runner: Store, Study, Space, Sampler and Objective must be set")
	}
	if r.Trials <= 0 {
		return nil, fmt.Errorf("runner: the number of trials must be positive, not %d", r.Trials)
	}
	parallel := max(r.Parallel, 1)
	interval := r.HeartbeatInterval
	if interval <= 0 {
		interval = DefaultHeartbeatInterval
	}
	staleAfter := r.StaleAfter
	if staleAfter <= 0 {
		staleAfter = 6 * interval
	}
	r.owner = Host() + ":" + strconv.Itoa(os.Getpid())
	r.cond = sync.NewCond(&r.mu)
	r.ours = map[int64]*Trial{}
	r.beating = map[int64]bool{}
	r.retryQ, r.best, r.streak, r.exhausted, r.gaveUp, r.fatal, r.started, r.stopped = nil, nil, 0, false, false, nil, 0, 0
	r.retried = map[int]bool{}
	r.live, r.curves = map[int]*optimize.Curve{}, map[int]*optimize.Curve{}
	r.metrics = []string{r.Study.Metric}
	if len(r.Metrics) > 1 {
		r.metrics = r.Metrics
	}
	r.lastBy, r.lowForeign = map[string]int{}, 0
	r.rng = rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	r.staleAfter, r.pollEvery = staleAfter, min(interval, time.Second)

	if err := r.measureSkew(ctx); err != nil {
		return nil, fmt.Errorf("read the store's clock: %w", err)
	}
	expired, err := r.load(ctx, staleAfter)
	if err != nil {
		return nil, err
	}
	// Racers are processes that add trials while this run goes on, not
	// those whose trials it resumes: a resumed study proposes as an
	// uninterrupted one would.
	clear(r.lastBy)
	resumed := r.counts.Complete

	stopBeat := make(chan struct{})
	beatDone := make(chan struct{})
	go r.heartbeat(context.WithoutCancel(ctx), interval, stopBeat, beatDone)
	wake := context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx)
		}()
	}
	wg.Wait()
	wake()
	close(stopBeat)
	<-beatDone

	r.mu.Lock()
	defer r.mu.Unlock()
	// Other processes may have finished trials since: the summary is the
	// study's.
	if err := r.refresh(context.WithoutCancel(ctx)); err != nil && r.fatal == nil && ctx.Err() == nil {
		r.fatal = fmt.Errorf("read study %q: %w", r.Study.Name, err)
	}
	sum := &Summary{Counts: r.counts, Target: r.Trials, Started: r.started, Resumed: resumed, Expired: expired, Interrupted: r.stopped, Exhausted: r.exhausted}
	if r.best != nil {
		b := *r.best
		sum.Best = &b
	}
	switch {
	case r.fatal != nil:
		return sum, r.fatal
	case ctx.Err() != nil:
		return sum, fmt.Errorf("%w: %w", ErrInterrupted, ctx.Err())
	case r.gaveUp:
		return sum, &FailuresError{N: r.streak, Last: r.lastError}
	}
	return sum, nil
}

// load reads the study's trials, expires those of dead processes and
// queues the failed trials to run again.
func (r *Runner) load(ctx context.Context, staleAfter time.Duration) (int, error) {
	trials, err := r.Store.Trials(ctx, r.Study.ID, 0)
	if err != nil {
		return 0, fmt.Errorf("load study %q: %w", r.Study.Name, err)
	}
	expired := map[int]bool{}
	now := r.now()
	for i := range trials {
		t := &trials[i]
		if t.State != optimize.Running {
			continue
		}
		why := LostReason(t, now, staleAfter)
		if why == "" {
			continue
		}
		err := r.Store.ExpireTrial(ctx, t.ID, t.Heartbeat, now, why)
		if errors.Is(err, ErrNotRunning) {
			continue // it finished or heartbeated meanwhile
		}
		if err != nil {
			return 0, fmt.Errorf("load study %q: %w", r.Study.Name, err)
		}
		expired[t.Number] = true
	}
	if len(expired) > 0 {
		if trials, err = r.Store.Trials(ctx, r.Study.ID, 0); err != nil {
			return 0, fmt.Errorf("load study %q: %w", r.Study.Name, err)
		}
	}
	r.trials, r.hist, r.counts = nil, optimize.History{Direction: r.Study.Direction, Prior: r.WarmStart}, Counts{}
	if len(r.metrics) > 1 {
		r.hist.Objectives = r.Directions
	}
	if r.queue, err = r.Store.Queue(ctx, r.Study.ID); err != nil {
		return 0, fmt.Errorf("load study %q: %w", r.Study.Name, err)
	}
	r.queueRead = time.Now()
	for i := range trials {
		r.append(&trials[i])
	}
	for _, t := range r.trials {
		r.queueRetry(t)
	}
	for n := range expired {
		r.emit(TrialExpired, r.trials[n])
	}
	return len(expired), nil
}

// LostReason says why a running trial's process is taken to be dead, or ""
// when it may be alive: the process that ran it, on this host, is gone, or
// it has not heartbeated for staleAfter (DefaultStaleAfter when ≤ 0). A
// trial of this very process is never lost. A trial given by Ask is lost
// once its lease has passed.
func LostReason(t *Trial, now time.Time, staleAfter time.Duration) string {
	if t.State != optimize.Running {
		return ""
	}
	if lease, ok := askLease(t.Owner); ok {
		// Given by Ask: nothing heartbeats it; it has its lease.
		if age := now.Sub(t.Heartbeat); age > lease {
			return fmt.Sprintf("lost: asked %s ago and not told within its lease of %s", age.Round(time.Second), lease)
		}
		return ""
	}
	if staleAfter <= 0 {
		staleAfter = DefaultStaleAfter
	}
	host := Host()
	if h, pid, ok := strings.Cut(t.Owner, ":"); ok && h == host {
		if n, err := strconv.Atoi(pid); err == nil && n != os.Getpid() && !processAlive(n) {
			return fmt.Sprintf("lost: process %d on %s, which ran the trial, is gone", n, host)
		}
	}
	if age := now.Sub(t.Heartbeat); age > staleAfter {
		return fmt.Sprintf("lost: no heartbeat from %s for %s", t.Owner, age.Round(time.Second))
	}
	return ""
}

// HostEnv names the variable that sets the host name a worker records in
// its trials' owner (see Host).
const HostEnv = "OLC_HOST"

// Host returns the name this process records as its host in the trials it
// runs: $OLC_HOST when set, else the machine's host name. Workers whose
// host names are the same but whose process IDs are not comparable
// (containers sharing a host name) must set OLC_HOST apart; a trial of
// another host is judged lost by its heartbeat alone.
func Host() string {
	if h := os.Getenv(HostEnv); h != "" {
		return h
	}
	h, _ := os.Hostname()
	return h
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// shouldRetry reports whether a failed trial runs again: interrupted and
// lost trials always do; trials whose objective failed do while their
// chain of attempts has failed no more than MaxRetries times.
func (r *Runner) shouldRetry(t *Trial) bool {
	if t.Reason.Requeue() {
		return true
	}
	failures := 0
	for n := t.Number; n >= 0 && n < len(r.trials); n = r.trials[n].RetryOf {
		u := r.trials[n]
		if u.State == optimize.Failed && u.Reason == ReasonError {
			failures++
		}
		if u.RetryOf >= n {
			break // malformed chain
		}
	}
	return failures <= r.MaxRetries
}

// append adds a trial loaded from or created in the store; r.mu is held or
// the run has not started.
func (r *Runner) append(t *Trial) {
	if t.RetryOf >= 0 {
		r.retried[t.RetryOf] = true
	}
	r.trials = append(r.trials, t)
	r.hist.Trials = append(r.hist.Trials, t.observation(r.metrics))
	if t.Owner != r.owner {
		r.lastBy[t.Owner] = t.Number
	}
	r.counts.Add(t.State, 1)
	r.noteBest(t)
}

// racers returns the number of other processes that created one of the
// study's latest trials; r.mu is held.
func (r *Runner) racers() int {
	n := 0
	for _, last := range r.lastBy {
		if last >= len(r.trials)-racingWindow {
			n++
		}
	}
	return n
}

func (r *Runner) noteBest(t *Trial) {
	if t.State == optimize.Complete && !math.IsNaN(t.Value) && (r.best == nil || r.Study.Direction.Better(t.Value, r.best.Value)) {
		r.best = t
	}
}

// queueRetry queues a failed trial to run again when it should be and no
// trial runs it again yet; r.mu is held or the run has not started.
func (r *Runner) queueRetry(t *Trial) {
	if t.State == optimize.Failed && !r.retried[t.Number] && !slices.Contains(r.retryQ, t.Number) && r.shouldRetry(t) {
		r.retryQ = append(r.retryQ, t.Number)
	}
}

// refresh brings this run's view of the study up to date with the store:
// the trials other processes added, and what became of those they were
// running (complete; failed, then queued to run again; or lost: their
// process died or fell silent for staleAfter, expired here and queued).
// Without it, processes sharing a study would each count only their own
// trials and overshoot its target. r.mu is held.
func (r *Runner) refresh(ctx context.Context) error {
	// Trials leave the running state for good: every trial below
	// lowForeign is finished or this run's own.
	for r.lowForeign < len(r.trials) {
		if t := r.trials[r.lowForeign]; t.State == optimize.Running && r.ours[t.ID] == nil {
			break
		}
		r.lowForeign++
	}
	var fresh []Trial
	var err error
	if sel, ok := r.Store.(SelectiveStore); ok {
		var also []int
		for _, t := range r.trials[r.lowForeign:] {
			if t.State == optimize.Running && r.ours[t.ID] == nil {
				also = append(also, t.Number)
			}
		}
		fresh, err = sel.TrialsSince(ctx, r.Study.ID, len(r.trials), also)
	} else {
		fresh, err = r.Store.Trials(ctx, r.Study.ID, r.lowForeign)
	}
	if err != nil {
		return err
	}
	now := r.now()
	for i := range fresh {
		u := &fresh[i]
		if u.Number >= len(r.trials) {
			r.append(u)
		} else if t := r.trials[u.Number]; r.ours[t.ID] == nil {
			if t.State != u.State {
				r.replace(t, u)
			} else {
				t.Heartbeat = u.Heartbeat // alive: judged by its latest sign of life
			}
		}
		t := r.trials[u.Number]
		if r.ours[t.ID] != nil || t.State != optimize.Running {
			continue
		}
		why := LostReason(t, now, r.staleAfter)
		if why == "" {
			continue
		}
		err := r.Store.ExpireTrial(ctx, t.ID, t.Heartbeat, now, why)
		if errors.Is(err, ErrNotRunning) {
			continue // it finished or heartbeated meanwhile: the next read tells
		}
		if err != nil {
			return err
		}
		lost := *t
		lost.State, lost.Reason, lost.Error, lost.Finished = optimize.Failed, ReasonLost, why, now
		r.replace(t, &lost)
		r.emit(TrialExpired, t)
	}
	return nil
}

// replace sets a trial of another process to what the store now says.
func (r *Runner) replace(t, u *Trial) {
	r.counts.Add(t.State, -1)
	r.counts.Add(u.State, 1)
	*t = *u
	r.hist.Trials[t.Number] = t.observation(r.metrics)
	r.noteBest(t)
	r.queueRetry(t)
}

// poll waits a while for other processes' trials, then reads the store;
// it returns false when ctx ends first. r.mu is held, and released while
// waiting.
func (r *Runner) poll(ctx context.Context) bool {
	r.mu.Unlock()
	select {
	case <-ctx.Done():
	case <-time.After(r.pollEvery):
	}
	r.mu.Lock()
	if ctx.Err() != nil {
		return false
	}
	if err := r.refresh(ctx); err != nil {
		r.fatal = fmt.Errorf("read study %q: %w", r.Study.Name, err)
		r.cond.Broadcast()
		return false
	}
	return true
}

func (r *Runner) emit(kind EventKind, t *Trial) {
	if r.OnEvent == nil {
		return
	}
	ev := Event{Kind: kind, Trial: *t, Counts: r.counts, Target: r.Trials}
	if r.best != nil {
		b := *r.best
		ev.Best = &b
	}
	r.OnEvent(ev)
}

func (r *Runner) work(ctx context.Context) {
	for {
		t := r.next(ctx)
		if t == nil {
			return
		}
		run := TrialRun{Study: r.Study.Name, Number: t.Number, Attempt: t.Attempt, Params: t.Params.Clone(), Metric: r.Study.Metric}
		if r.RunsDir != "" {
			run.Dir = filepath.Join(r.RunsDir, r.Study.Name, strconv.Itoa(t.Number))
		}
		var pruned string
		if r.Pruner != nil {
			run.Report = func(step int, m map[string]float64) bool {
				d, ok := r.report(t.Number, step, m)
				if d.Prune {
					pruned = fmt.Sprintf("pruned at step %d by the %s pruner: %s", step, r.Pruner.Name(), d.Reason)
				}
				return ok && d.Prune
			}
		}
		out, err := r.Objective.Run(ctx, run)
		if errors.Is(err, ErrPruned) && pruned != "" {
			err = &prunedError{pruned}
		}
		r.finish(ctx, t, out, err)
	}
}

// next returns the next trial to run, already recorded as running, or nil
// when the run is over for this worker.
func (r *Runner) next(ctx context.Context) *Trial {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if ctx.Err() != nil || r.fatal != nil || r.gaveUp || r.counts.Complete+r.counts.Pruned >= r.Trials {
			return nil
		}
		// What other processes sharing the study did since (a no-op read
		// when none does).
		if err := r.refresh(ctx); err != nil {
			if ctx.Err() == nil {
				r.fatal = fmt.Errorf("read study %q: %w", r.Study.Name, err)
				r.cond.Broadcast()
			}
			return nil
		}
		if r.counts.Complete+r.counts.Pruned >= r.Trials {
			return nil
		}
		if r.counts.Complete+r.counts.Pruned+r.counts.Running >= r.Trials || (r.exhausted && len(r.retryQ) == 0) {
			// Wait: a running trial may fail and need a replacement.
			switch {
			case len(r.ours) > 0:
				r.cond.Wait()
			case r.counts.Running > 0:
				// Only other processes' trials run: read the store
				// now and then.
				if !r.poll(ctx) {
					return nil
				}
			default:
				return nil
			}
			continue
		}
		t := &Trial{StudyID: r.Study.ID, Attempt: 1, RetryOf: -1, Cap: r.Trials}
		if len(r.retryQ) > 0 {
			orig := r.trials[r.retryQ[0]]
			r.retryQ = r.retryQ[1:]
			if r.retried[orig.Number] {
				continue // another process runs it again already
			}
			t.Params, t.Attempt, t.RetryOf = orig.Params.Clone(), orig.Attempt+1, orig.Number
			t.Claim = "retry:" + strconv.Itoa(orig.Number)
		} else if q := r.nextQueued(ctx); q != nil {
			t.Params, t.Claim = q.Params.Clone(), q.Claim()
		} else {
			// Other processes that added trials lately are likely
			// proposing too, for the same keys: ask for one of the next
			// few free proposals at random, so that they rarely collide.
			r.hist.Skip = 0
			if others := r.racers(); others > 0 {
				r.hist.Skip = r.rng.IntN(min(8*others, maxSkip) + 1)
			}
			prop, err := r.Sampler.Propose(ctx, &r.hist)
			if errors.Is(err, optimize.ErrExhausted) {
				r.exhausted = true
				continue
			}
			if err != nil {
				if ctx.Err() == nil {
					r.fatal = fmt.Errorf("sampler %s: %w", r.Sampler.Name(), err)
				}
				r.cond.Broadcast()
				return nil
			}
			t.Params, t.Claim = prop.Params, prop.Key
		}
		now := r.now()
		t.State, t.Started, t.Heartbeat, t.Owner, t.Value = optimize.Running, now, now, r.owner, math.NaN()
		err := r.Store.CreateTrial(ctx, t)
		if errors.Is(err, ErrClaimed) || errors.Is(err, ErrStudyFull) {
			// Another process took it, or filled the study up to its
			// target: the next turn reads what they did.
			if errors.Is(err, ErrClaimed) && t.RetryOf >= 0 {
				r.retried[t.RetryOf] = true
			}
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				r.fatal = fmt.Errorf("record new trial of study %q: %w", r.Study.Name, err)
				r.cond.Broadcast()
			}
			return nil
		}
		if t.Number != len(r.trials) {
			// Other processes added trials; read them, this one included.
			if err := r.refresh(ctx); err != nil {
				r.fatal = fmt.Errorf("read study %q: %w", r.Study.Name, err)
				r.cond.Broadcast()
				return nil
			}
			t = r.trials[t.Number]
			if t.State != optimize.Running {
				// Another process took it for lost (this one was starved
				// past the staleness window) before it could run it: it
				// is failed in this view already, and runs again as a
				// retry.
				r.queueRetry(t)
				continue
			}
		} else {
			r.append(t)
		}
		r.ours[t.ID] = t
		r.setBeating(t.ID, true)
		r.started++
		r.emit(TrialStarted, t)
		return t
	}
}

// ErrPruned is returned by an objective that stopped a trial because
// TrialRun.Report asked it to.
var ErrPruned = errors.New("pruned")

// prunedError carries the pruner's reason to finish.
type prunedError struct{ msg string }

func (e *prunedError) Error() string { return e.msg }

// report records trial n's intermediate metrics at step and asks the
// pruner about it; ok is false when the metrics lack the pruner's
// metric.
func (r *Runner) report(n, step int, m map[string]float64) (d optimize.Decision, ok bool) {
	metric := r.PruneMetric
	if metric == "" {
		metric = r.Study.Metric
	}
	v, ok := m[metric]
	if !ok {
		return optimize.Decision{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.live[n]
	if c == nil {
		c = &optimize.Curve{Number: n, State: optimize.Running}
		r.live[n] = c
	}
	if k := len(c.Steps); k > 0 && step <= c.Steps[k-1] {
		return optimize.Decision{}, false // steps must grow
	}
	c.Steps, c.Values = append(c.Steps, step), append(c.Values, v)
	others := make([]optimize.Curve, 0, len(r.trials))
	for _, t := range r.trials {
		if t.Number == n {
			continue
		}
		if lc := r.live[t.Number]; lc != nil && t.State == optimize.Running {
			others = append(others, *lc)
			continue
		}
		if t.State != optimize.Complete && t.State != optimize.Pruned {
			continue
		}
		fc := r.curves[t.Number]
		if fc == nil || fc.State != t.State {
			fc = CurveOf(t, metric)
			r.curves[t.Number] = fc
		}
		others = append(others, *fc)
	}
	dir := r.PruneDirection
	if dir == "" {
		dir = r.Study.Direction
	}
	return r.Pruner.Prune(dir, c, others), true
}

// CurveOf returns a trial's learning curve in one metric: its
// intermediate values by step ascending (a step reported twice keeps the
// last value).
func CurveOf(t *Trial, metric string) *optimize.Curve {
	c := &optimize.Curve{Number: t.Number, State: t.State}
	inter := slices.Clone(t.Intermediate)
	slices.SortStableFunc(inter, func(a, b Intermediate) int { return a.Step - b.Step })
	for _, in := range inter {
		v, ok := in.Metrics[metric]
		if !ok {
			continue
		}
		if k := len(c.Steps); k > 0 && c.Steps[k-1] == in.Step {
			c.Values[k-1] = v
			continue
		}
		c.Steps, c.Values = append(c.Steps, in.Step), append(c.Values, v)
	}
	return c
}

// nextQueued returns the first enqueued point no trial runs yet, reading
// the queue again when it is older than queueEvery; r.mu is held. A
// failed reading keeps the last one.
func (r *Runner) nextQueued(ctx context.Context) *Queued {
	if time.Since(r.queueRead) > queueEvery {
		if q, err := r.Store.Queue(ctx, r.Study.ID); err == nil {
			r.queue, r.queueRead = q, time.Now()
		}
	}
	return nextQueued(r.queue, r.trials)
}

// finish records a trial's outcome.
func (r *Runner) finish(ctx context.Context, t *Trial, out Outcome, runErr error) {
	fin := *t
	fin.Finished = r.now()
	fin.Metrics, fin.Intermediate, fin.LogPath, fin.Value = out.Metrics, out.Intermediate, out.LogPath, math.NaN()
	fin.State, fin.Reason, fin.Error = optimize.Failed, ReasonError, ""
	var pe *prunedError
	switch {
	case runErr != nil && ctx.Err() != nil:
		fin.Reason, fin.Error = ReasonInterrupted, "interrupted"
	case errors.As(runErr, &pe):
		fin.State, fin.Reason, fin.Error = optimize.Pruned, "", pe.msg
	case runErr != nil:
		fin.Error = runErr.Error()
	default:
		for _, m := range r.metrics {
			v, ok := out.Metrics[m]
			switch {
			case !ok:
				fin.Error = fmt.Sprintf("no metric %q in what the objective reported (%s)", m, metricNames(out.Metrics))
			case math.IsNaN(v) || math.IsInf(v, 0):
				fin.Error = fmt.Sprintf("metric %q is %v, not a finite number", m, v)
			}
			if fin.Error != "" {
				break
			}
		}
		if fin.Error == "" {
			fin.State, fin.Reason, fin.Value = optimize.Complete, "", out.Metrics[r.Study.Metric]
		}
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	err := r.Store.FinishTrial(wctx, &fin)
	cancel()

	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.ours, t.ID)
	delete(r.live, t.Number)
	r.setBeating(t.ID, false)
	switch {
	case errors.Is(err, ErrNotRunning):
		// Another process took the trial for lost; the store says failed.
		fin.State, fin.Reason, fin.Value = optimize.Failed, ReasonLost, math.NaN()
	case err != nil:
		r.fatal = fmt.Errorf("record the end of trial %d: %w", t.Number, err)
	}
	r.counts.Add(optimize.Running, -1)
	r.counts.Add(fin.State, 1)
	*t = fin
	r.hist.Trials[t.Number] = t.observation(r.metrics)
	r.noteBest(t)
	if t.Reason == ReasonInterrupted {
		r.stopped++
	}
	if t.State == optimize.Failed && t.Reason == ReasonError {
		r.streak++
		r.lastError = t.ErrorSummary()
		if r.shouldRetry(t) {
			r.retryQ = append(r.retryQ, t.Number)
		}
		if limit := r.maxFailures(); limit > 0 && r.streak >= limit {
			r.gaveUp = true
		}
	} else if t.State == optimize.Complete || t.State == optimize.Pruned {
		r.streak = 0
	}
	r.emit(TrialFinished, t)
	r.cond.Broadcast()
}

func (r *Runner) maxFailures() int {
	if r.MaxFailures == 0 {
		return DefaultMaxFailures
	}
	return r.MaxFailures
}

// setBeating adds a running trial of this run to the heartbeat's list, or
// takes it off.
func (r *Runner) setBeating(id int64, on bool) {
	r.beatMu.Lock()
	defer r.beatMu.Unlock()
	if on {
		r.beating[id] = true
	} else {
		delete(r.beating, id)
	}
}

// heartbeat refreshes the heartbeat of this run's running trials until
// stop is closed.
func (r *Runner) heartbeat(ctx context.Context, interval time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	measured := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if time.Since(measured) >= time.Minute {
			// A failed reading keeps the last one.
			if r.measureSkew(ctx) == nil {
				measured = time.Now()
			}
		}
		r.beatMu.Lock()
		ids := slices.Collect(maps.Keys(r.beating))
		r.beatMu.Unlock()
		if len(ids) > 0 {
			// A failed heartbeat is retried at the next tick; a trial
			// whose heartbeats keep failing may be taken for lost, and its
			// result then discarded, but the store stays consistent.
			r.Store.Heartbeat(ctx, r.now(), ids...)
		}
	}
}

// now returns the time by the store's clock when the store keeps one (see
// Clock), else by this machine's.
func (r *Runner) now() time.Time {
	return time.Now().Add(time.Duration(r.skew.Load())).UTC()
}

// measureSkew measures the store's clock against this machine's, taking
// the store's reading to be from halfway through the round trip.
func (r *Runner) measureSkew(ctx context.Context) error {
	clock, ok := r.Store.(Clock)
	if !ok {
		return nil
	}
	before := time.Now()
	theirs, err := clock.Now(ctx)
	if err != nil {
		return err
	}
	after := time.Now()
	mid := before.Add(after.Sub(before) / 2)
	r.skew.Store(int64(theirs.Sub(mid)))
	return nil
}

func metricNames(m map[string]float64) string {
	if len(m) == 0 {
		return "no metrics"
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return "reported: " + strings.Join(names, ", ")
}
