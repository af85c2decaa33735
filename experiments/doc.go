// Package experiments is the record of everything olc runs and the runner
// that runs it.
//
// A [Study] is a named experiment: its config snapshot, direction, metric and
// sampler. A [Trial] is one evaluation of the objective at one point: its
// parameters, state (running, complete, failed, pruned), metrics,
// intermediate values, timings, heartbeat, error text and log path. Both
// live in a [Store]; every state change is committed before the runner moves
// on, so a study can always be resumed from what the store holds.
//
// The [Runner] executes trials with k parallel workers: it asks an
// [optimize.Sampler] for points, runs the [Objective] (a builtin test
// function, a shell command, a kind registered with [RegisterObjective]
// such as the train package's "train", or any Go function), heartbeats running trials, retries
// failed ones, and stops cleanly when its context is cancelled. Running a
// study again resumes it: finished trials are kept, trials left running by
// a dead process are marked failed and run again.
//
// [Config] reads a study's TOML file with errors that name the file, the
// line, the key and what is allowed. [Optimize] is the entry point for
// library users who optimize a Go function in-process.
package experiments
