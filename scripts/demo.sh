#!/bin/sh
# make demo: a showcase of olc optimize on the embedded defaults (a SQLite
# store under .olc/demo, builtin functions and a shipped example script).
set -eu
OLC=${OLC:-bin/olc}
STORE=.olc/demo/olc.db
rm -rf .olc/demo

step() { printf '\n==> %s\n' "$*"; }

step "random search (scrambled Halton) on Branin, 200 trials, 2 at a time"
"$OLC" optimize --config examples/demo.toml --store "$STORE"

step "its best trial (the known minimum is 0.397887)"
"$OLC" optimize best --study demo --store "$STORE"

step "its convergence plot"
"$OLC" optimize plot --study demo --store "$STORE"

step "grid search over a command objective (examples/toy-train.sh), 30 points, 4 at a time"
"$OLC" optimize --config examples/toy-grid.toml --store "$STORE"

step "the studies in the store"
"$OLC" optimize status --store "$STORE"

step "the grid study as CSV (first rows)"
"$OLC" optimize export --study toy-grid --format csv --store "$STORE" | head -4 | cut -c1-120

printf '\nlogs of each command trial: .olc/demo/runs/toy-grid/<trial>/\n'
