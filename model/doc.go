// Package model is a Longformer (Beltagy, Peters and Cohan 2020,
// "Longformer: The Long-Document Transformer") in Go: configuration,
// checkpoints in the safetensors format with the Hugging Face parameter
// names, tokenizers, and layers with forward and backward passes whose
// attention costs O(n·w) time and memory for n tokens and window w.
//
// The semantics are the released Longformer's (transformers'
// models/longformer): a non-global query attends, with the local
// projections, to the non-padding keys within w/2 positions and to every
// global key (once); a global query attends to every non-padding key with
// separate global projections; padding queries get zero output.
package model
