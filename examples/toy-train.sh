#!/bin/sh
# A stand-in for a training script, to show the command objective: olc runs
#   toy-train.sh --lr {lr} --layers {layers}
# with OLC_PARAM_OPTIMIZER in the environment, reads one JSON line per epoch
# ({"step": k, "loss": …}) as intermediate values, and the last JSON line as
# the trial's metrics. The loss is a made-up function of the parameters.
set -eu
lr=""; layers=""
while [ $# -gt 0 ]; do
  case "$1" in
    --lr) lr="$2"; shift 2 ;;
    --layers) layers="$2"; shift 2 ;;
    *) echo "toy-train.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
opt="${OLC_PARAM_OPTIMIZER:-adam}"
echo "training with lr=$lr layers=$layers optimizer=$opt" >&2
awk -v lr="$lr" -v layers="$layers" -v opt="$opt" 'BEGIN {
  best = 0.3 * (log(lr) / log(10) + 2.5) ^ 2 + 0.05 * (layers - 4) ^ 2 + (opt == "sgd" ? 0.15 : 0)
  for (epoch = 1; epoch <= 5; epoch++) {
    loss = best + 2.0 / (epoch * (1 + 10 * lr))
    printf "{\"step\": %d, \"loss\": %.6f}\n", epoch, loss
  }
  printf "{\"loss\": %.6f, \"accuracy\": %.6f}\n", loss, 1 / (1 + loss)
}'
