#!/usr/bin/python3
"""Forward time of olc against the reference, in one run, same threads.

Builds a random longformer-base-sized LongformerModel (hidden 768, 12
layers, 12 heads, window 512, float32) with the reference's own code
(loaded as generate.py loads it), saves it as safetensors, and times the
forward pass on one sequence of --tokens tokens (one global token):

  - the reference on PyTorch, torch.set_num_threads(--threads);
  - each olc binary given (`olc model run`), with the same thread count
    (GOMAXPROCS and OPENBLAS_NUM_THREADS), its time being that of the
    sequence minus that of a one-token sequence (loading the checkpoint).

Each is timed --repeats times; the medians and their ratios are printed.
Not run by `make test`:

    /usr/bin/python3 model/testdata/parity/bench_forward.py \\
        --reference /path/to/modeling_longformer.py --olc bin/olc --olc /tmp/olc-openblas
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--olc", action="append", required=True, help="an olc binary (repeatable)")
    ap.add_argument("--tokens", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ref, root = generate.load_reference(args.reference, False)
    cfg = dict(vocab_size=50265, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
               intermediate_size=3072, attention_window=512, max_position_embeddings=args.tokens + 2,
               type_vocab_size=1, layer_norm_eps=1e-5, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
               pad_token_id=1, bos_token_id=0, eos_token_id=2, sep_token_id=2, hidden_act="gelu",
               model_type="longformer")
    # BERT's initialization (normal(0, 0.02)), as the reference's
    # post_init gives it: a well-conditioned random model, whose outputs
    # two correct implementations agree on to float32's precision.
    torch.manual_seed(7)
    model = ref.LongformerModel(ref.LongformerConfig(**cfg), add_pooling_layer=False).eval()
    g = torch.Generator().manual_seed(3)
    ids = [0] + torch.randint(3, 50265, (args.tokens - 2,), generator=g).tolist() + [2]
    glob = [1] + [0] * (args.tokens - 1)

    times = {}
    x, gm = torch.tensor([ids]), torch.tensor([glob])
    with torch.no_grad():
        model(input_ids=x, global_attention_mask=gm)  # warm-up
        ts = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            ref_out = model(input_ids=x, global_attention_mask=gm).last_hidden_state[0]
            ts.append(time.perf_counter() - t0)
    times["reference (PyTorch %s)" % torch.__version__] = statistics.median(ts)

    with tempfile.TemporaryDirectory() as d:
        mdir = os.path.join(d, "model")
        os.makedirs(mdir)
        with open(os.path.join(mdir, "config.json"), "w") as f:
            json.dump(dict(cfg, architectures=["LongformerModel"]), f)
        generate.write_safetensors(os.path.join(mdir, "model.safetensors"),
                                   {k: v for k, v in model.state_dict().items() if not k.endswith("position_ids")})
        for name, seq in (("long", (ids, glob)), ("one", ([0], [1]))):
            with open(os.path.join(d, name + ".json"), "w") as f:
                json.dump({"inputs": [{"input_ids": seq[0], "global_attention_mask": seq[1]}]}, f)
        env = dict(os.environ, GOMAXPROCS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
        for binary in args.olc:
            version = subprocess.run([binary, "version"], capture_output=True, text=True, env=env).stdout
            blas = [line for line in version.splitlines() if line.startswith("blas:")][0]

            def run(inp, out=False):
                t0 = time.perf_counter()
                r = subprocess.run([binary, "model", "run", "--model", mdir, "--input", inp] + (["--json"] if out else []),
                                   capture_output=True, text=True, env=env)
                if r.returncode != 0:
                    sys.exit(r.stderr)
                return time.perf_counter() - t0, r.stdout

            _, js = run(os.path.join(d, "long.json"), out=True)
            got = torch.tensor(json.loads(js)["outputs"][0]["last_hidden_state"])
            err = (got - ref_out.double()).abs().max().item()
            long = statistics.median(run(os.path.join(d, "long.json"))[0] for _ in range(args.repeats))
            one = statistics.median(run(os.path.join(d, "one.json"))[0] for _ in range(args.repeats))
            times["olc %s (max abs difference %.2g)" % (blas, err)] = long - one
    base = list(times.values())[0]
    print("forward of %d tokens, hidden 768, 12 layers, window 512, %d threads, median of %d:" % (
        args.tokens, args.threads, args.repeats))
    for k, v in times.items():
        print("  %-60s %7.2f s   %.2f× the reference's time" % (k, v, v / base))


if __name__ == "__main__":
    main()
