// Package train turns the Longformer of package [model] into experiments:
// SQuAD-format data (read, validated, converted to features), synthetic
// long-context tasks (passkey retrieval, needles in a haystack, key-value
// retrieval, variable tracking) written as SQuAD-format JSON, the trainer
// (AdamW, warm-up and decay, clipping, accumulation, data parallelism,
// checkpoints that resume bit-exactly), evaluation with the official SQuAD
// metrics, and question answering over long documents.
//
// Importing the package registers the objective kind "train" with
// [experiments.RegisterObjective]: a study or ablation config with
// kind = "train" trains with [Objective].
package train
