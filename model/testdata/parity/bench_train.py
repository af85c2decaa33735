#!/usr/bin/python3
"""A training step of olc against the reference, in one run, same threads.

Builds the config of `olc bench model` (hidden 256, 4 heads, window 256,
2 layers, intermediate 1024, 260-token vocabulary, no dropout, no global
token) with the reference's own code (loaded as generate.py loads it) and
times, on one sequence of --tokens tokens:

  - the reference on PyTorch, torch.set_num_threads(--threads): the
    forward pass under no_grad, and a training step (forward, the QA
    head's start/end cross-entropy, loss.backward());
  - each olc binary given, by `olc bench model --json` (its forward and
    forward+backward rows and their peak heap) with GOMAXPROCS and
    OPENBLAS_NUM_THREADS set to the same thread count, in each of
    --precisions its `olc version` says it can run (bf16 needs the AMX
    tile unit).

Medians of --repeats rounds, each of which runs every contender in turn
(after PyTorch's warm-up). Not run by
`make test`:

    /usr/bin/python3 model/testdata/parity/bench_train.py --tokens 4096,16384 \\
        --reference /path/to/modeling_longformer.py --olc bin/olc --olc /tmp/olc-openblas
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--olc", action="append", required=True, help="an olc binary (repeatable)")
    ap.add_argument("--tokens", default="4096", help="sequence lengths, comma-separated")
    ap.add_argument("--precisions", default="float32,bf16", help="olc's --precision values to run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ref, _ = generate.load_reference(args.reference, False)
    for tokens in [int(t) for t in args.tokens.split(",")]:
        bench(ref, args, tokens)


def bench(ref, args, tokens):
    cfg = ref.LongformerConfig(vocab_size=260, hidden_size=256, num_hidden_layers=2, num_attention_heads=4,
                               intermediate_size=1024, attention_window=256, max_position_embeddings=tokens + 2,
                               type_vocab_size=1, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                               pad_token_id=1)
    torch.manual_seed(7)
    model = ref.LongformerForQuestionAnswering(cfg)
    ids = torch.randint(3, 260, (1, tokens))
    glob = torch.zeros_like(ids)

    def forward():
        with torch.no_grad():
            model.eval()
            model(input_ids=ids, global_attention_mask=glob)

    def step():
        model.train()
        model.zero_grad()
        out = model(input_ids=ids, global_attention_mask=glob, start_positions=torch.tensor([1]),
                    end_positions=torch.tensor([2]))
        out.loss.backward()

    forward(), step()  # warm-up
    env = dict(os.environ, GOMAXPROCS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    contenders = []
    for binary in args.olc:
        version = subprocess.run([binary, "version"], capture_output=True, text=True, env=env).stdout
        for p in args.precisions.split(","):
            if p == "bf16" and "bf16: AMX" not in version:
                continue
            contenders.append((binary, p))
    runs, heap = {}, {}
    # Rounds that take every contender in turn, so that the machine's
    # drift falls on all of them alike; medians over the rounds.
    for _ in range(args.repeats):
        row = []
        for fn in (forward, step):
            t0 = time.perf_counter()
            fn()
            row.append(time.perf_counter() - t0)
        runs.setdefault("reference (PyTorch %s)" % torch.__version__, []).append(row)
        for binary, p in contenders:
            r = subprocess.run([binary, "bench", "model", "--lengths", str(tokens), "--roofline=false",
                                "--precision", p, "--json"], capture_output=True, text=True, env=env)
            if r.returncode != 0:
                sys.exit(r.stderr)
            b = json.loads(r.stdout)
            rows = {row["pass"]: row for row in b["rows"]}
            blas = "OpenBLAS" if "OpenBLAS" in b["blas"] else ("AVX-512 Go" if "AVX-512" in b["simd"] else "scalar Go")
            name = "olc %s, %s" % (blas, p)
            runs.setdefault(name, []).append([rows["forward"]["seconds"], rows["forward+backward"]["seconds"]])
            heap[name] = [rows["forward"]["peak_heap_bytes"], rows["forward+backward"]["peak_heap_bytes"]]
    times = {k: [statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)] for k, v in runs.items()}
    base = list(times.values())[0]
    print("%d tokens, hidden 256, 4 heads, window 256, 2 layers, %d threads, median of %d rounds:" % (
        tokens, args.threads, args.repeats))
    print("  %-34s %8s %8s %6s %8s %8s %10s %10s" % ("", "fwd (s)", "step (s)", "ratio", "fwd vs", "step vs",
                                                  "fwd MiB", "step MiB"))
    for k, (f, s) in times.items():
        h = heap.get(k)
        mib = ("%10.0f %10.0f" % (h[0] / 2**20, h[1] / 2**20)) if h else "%10s %10s" % ("—", "—")
        print("  %-34s %8.3f %8.3f %6.2f %7.2f× %7.2f× %s" % (k, f, s, s / f, base[0] / f, base[1] / s, mib))


if __name__ == "__main__":
    main()
