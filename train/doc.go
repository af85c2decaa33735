// Package train turns the Longformer of package model into experiments:
// SQuAD-format data (read, validated, converted to features), synthetic
// long-context tasks (passkey retrieval, needles in a haystack, key-value
// retrieval, variable tracking) written as SQuAD-format JSON, the trainer
// (AdamW, warm-up and decay, clipping, accumulation, data parallelism,
// checkpoints that resume bit-exactly), evaluation with the official SQuAD
// metrics, and question answering over long documents.
package train
