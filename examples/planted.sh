#!/bin/sh
# A synthetic model for the ablation demo: accuracy 0.8, 0.10 lower without
# the component "attention" (the flag a), the component "dropout" (b)
# worth nothing, plus noise shared by every variant of a seed (one seed's
# model is luckier than another's) and a little noise of each run.
# Usage: planted.sh A B SEED  (A: true|false, B: 1|0)
a=$1; b=$2; seed=$3
awk -v a="$a" -v b="$b" -v seed="$seed" 'BEGIN {
  srand(seed); shared = 0.2 * (rand() + rand() + rand() - 1.5)
  srand(seed * 7 + (a == "true") * 3 + b + 11); own = 0.01 * (rand() - 0.5)
  acc = 0.8 + shared + own - (a == "true" ? 0 : 0.10)
  printf "{\"acc\": %.6f, \"loss\": %.6f}\n", acc, 1 - acc
}'
