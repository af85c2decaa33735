#!/bin/sh
# make demo: a showcase of olc on the embedded defaults (a SQLite
# store under .olc/demo, builtin functions and a shipped example script).
set -eu
OLC=${OLC:-bin/olc}
STORE=.olc/demo/olc.db
rm -rf .olc/demo

step() { printf '\n==> %s\n' "$*"; }

step "Bayesian optimization on Branin, 60 trials, 2 at a time (the known minimum is 0.397887)"
"$OLC" optimize --config examples/branin-bayes.toml --store "$STORE"

step "random search (scrambled Halton) on Branin, the same budget"
"$OLC" optimize --config examples/branin-random.toml --store "$STORE"

step "their best-so-far curves side by side"
"$OLC" optimize plot --study branin-bayes,branin-random --store "$STORE" --out .olc/demo/plots/bayes-vs-random.png

step "the Bayesian study's convergence and its value against each parameter"
"$OLC" optimize plot --study branin-bayes --store "$STORE"

step "grid search over a command objective (examples/toy-train.sh), 30 points, 4 at a time"
"$OLC" optimize --config examples/toy-grid.toml --store "$STORE"

step "an ablation over 8 seeds on a synthetic objective with planted effects (examples/ablation-planted.toml): removing attention costs 0.10, removing dropout nothing"
"$OLC" ablate --config examples/ablation-planted.toml --store "$STORE" --plot .olc/demo/plots/ablation-planted.png

step "the studies in the store"
"$OLC" optimize status --store "$STORE"

step "the grid study as CSV (first rows)"
"$OLC" optimize export --study toy-grid --format csv --store "$STORE" | head -4 | cut -c1-120

printf '\nlogs of each command trial: .olc/demo/runs/toy-grid/<trial>/\n'

step "scaling laws: 250 runs generated from Hoffmann et al.'s Chinchilla law (2% log noise)"
"$OLC" scaling generate --law chinchilla --noise 0.02 --seed 1 --out .olc/demo/runs.csv

step "fit L(N, D) = E + A/N^alpha + B/D^beta: Hoffmann's 4,500 starts, 1,000 bootstrap resamples, compute-optimal N and D"
"$OLC" scaling fit --data .olc/demo/runs.csv --law chinchilla --compute 1e21,5.76e23 \
  --plot .olc/demo/plots/chinchilla.png --out .olc/demo/chinchilla.json

step "predict the loss of a 70B model trained on 1.4T tokens (Chinchilla itself), with its interval"
"$OLC" scaling predict --fit .olc/demo/chinchilla.json --at N=7e10,D=1.4e12

step "train a tiny Longformer (2 layers, hidden 64, window 32) from scratch on passkey retrieval, about two minutes"
"$OLC" train --config examples/passkey-demo.toml --store "$STORE"

step "held-out passkeys: exact match by context length and needle depth, and its heat map"
"$OLC" data generate --task passkey --length 256,384,512 --depth 0,0.25,0.5,0.75,1 --n 4 --seed 99 --out .olc/demo/passkey-test.json
"$OLC" eval --model .olc/demo/runs/passkey-demo/model --data .olc/demo/passkey-test.json --plot .olc/demo/plots/passkey-heatmap.png

step "question answering over a 6,000-byte document, window by window (512 tokens at a time, the lengths the model was trained on)"
{
  i=0
  while [ $i -lt 45 ]; do printf 'The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. '; i=$((i+1)); done
  printf 'The pass key is 68231. Remember it. 68231 is the pass key. '
  i=0
  while [ $i -lt 20 ]; do printf 'The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. '; i=$((i+1)); done
} > .olc/demo/long.txt
"$OLC" qa --model .olc/demo/runs/passkey-demo/model --doc .olc/demo/long.txt --question "What is the pass key?" --context-length 512

step "olc serve: the REST API on a free loopback port with the model just trained; one question through it, then SIGTERM"
LOG=.olc/demo/serve.log
: >"$LOG"
"$OLC" serve --addr 127.0.0.1:0 --store "$STORE" --model .olc/demo/runs/passkey-demo/model 2>"$LOG" &
PID=$!
BASE=
i=0
while [ -z "$BASE" ] && [ $i -lt 100 ]; do
  BASE=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$LOG")
  i=$((i+1)); sleep 0.1
done
[ -n "$BASE" ] || { cat "$LOG"; kill "$PID"; exit 1; }
echo "server at $BASE"
curl -sS -X POST "$BASE/api/v1/auth/register" -H 'Content-Type: application/json' \
  -d '{"username":"demo","email":"demo@example.org","password":"demo-password","full_name":"make demo"}'
TOKEN=$(curl -sS -X POST "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"demo","password":"demo-password"}' | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
UP=$(curl -sS -X POST "$BASE/api/v1/documents/upload" -H "Authorization: Bearer $TOKEN" -F file=@.olc/demo/long.txt)
echo "$UP"
DOC=$(echo "$UP" | sed -n 's/.*"doc_id":"\([^"]*\)".*/\1/p')
curl -sS -X POST "$BASE/api/v1/qa/ask" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"question\":\"What is the pass key?\",\"doc_id\":\"$DOC\",\"context_length\":512}"
kill -TERM "$PID"
wait "$PID"
echo "the server's access log ($LOG), last lines:"
tail -3 "$LOG"
