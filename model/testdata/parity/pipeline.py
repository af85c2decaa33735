#!/usr/bin/python3
"""The question-answering pipeline fixture: qa-pipeline/.

A small random LongformerForQuestionAnswering (the reference's own
modeling_longformer.py, loaded as generate.py loads it) with the RoBERTa
tokenizer of model/testdata/roberta, run as transformers'
question-answering pipeline runs a fast tokenizer's model:

- windows: max_seq_len = min(model_max_length, 384) = 128 tokens (the
  tokenizer_config.json written here says model_max_length 128) and
  doc_stride = min(max_seq_len // 2, 128) = 64; <s> question </s></s>
  context-window </s>, the windows of the context cut as the tokenizers
  library's truncation "only_second" with a stride cuts them (windows of
  max_seq_len - len(question) - 4 tokens starting every that many minus
  the stride);
- the model called on input_ids and attention_mask alone, so that it puts
  global attention on the question itself;
- each window's logits decoded by the pipeline's own select_starts_ends
  and decode_spans (top_k 1, max_answer_len 15, no impossible answer),
  read from the file given by --pipeline (a copy of those two functions
  from transformers' pipelines/question_answering.py, not in this
  repository), the answer's characters found through the tokenizer's
  words (align_to_words), and the best-scoring window's answer kept.

The tokens come from qa-pipeline/tokens.json, written by pipeline.js with
Hugging Face's tokenizers. Never run by `make test`:

    /usr/bin/python3 model/testdata/parity/pipeline.py \\
        --reference /path/to/modeling_longformer.py --pipeline /path/to/qa_pipeline_ref.py
"""

import argparse
import importlib.util
import json
import os
import shutil

import numpy as np
import torch

import generate

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SEQ_LEN, DOC_STRIDE = 128, 64


def windows(q, c):
    budget = MAX_SEQ_LEN - len(q["ids"]) - 4
    out, lo = [], 0
    while True:
        hi = min(len(c["ids"]), lo + budget)
        out.append((lo, hi))
        if hi == len(c["ids"]):
            return out
        lo += budget - DOC_STRIDE


def word_chars(c, lo, hi, word):
    """word_to_chars(word, sequence_index=1) of a window holding context
    tokens lo:hi: the characters of the word's tokens in that window."""
    offs = [c["offsets"][i] for i in range(lo, hi) if c["words"][i] == word]
    return offs[0][0], offs[-1][1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, help="transformers' modeling_longformer.py")
    ap.add_argument("--pipeline", required=True, help="select_starts_ends and decode_spans of transformers' QA pipeline")
    args = ap.parse_args()
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("qa_pipeline_ref", args.pipeline)
    pipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pipe)
    tokens = json.load(open(os.path.join(HERE, "qa-pipeline", "tokens.json")))
    vocab = json.load(open(os.path.join(HERE, "..", "roberta", "vocab.json")))
    ref, root = generate.load_reference(args.reference, False)
    try:
        cfg = dict(generate.BASE, vocab_size=len(vocab), max_position_embeddings=MAX_SEQ_LEN + 2, attention_window=[16, 8])
        model = ref.LongformerForQuestionAnswering(ref.LongformerConfig(**cfg)).eval()
        generate.randomize(model, 5)
        cases = []
        for case in tokens["cases"]:
            q, c = case["q"], case["c"]
            answers, wins = [], []
            for lo, hi in windows(q, c):
                ids = [0] + q["ids"] + [2, 2] + c["ids"][lo:hi] + [2]
                with torch.no_grad():
                    o = model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long))
                # p_mask: 1 but on the context, and on <s>.
                ctx0 = len(q["ids"]) + 3
                p_mask = [0 if (ctx0 <= i < len(ids) - 1) or t == 0 else 1 for i, t in enumerate(ids)]
                starts, ends, scores, _ = pipe.select_starts_ends(
                    o.start_logits, o.end_logits, p_mask, np.ones((1, len(ids)), dtype=np.int64), 1000000, 1, False, 15)
                for s, e, score in zip(starts, ends, scores):
                    s, e = int(s), int(e)
                    ws, we = c["words"][lo + s - ctx0], c["words"][lo + e - ctx0]
                    start, end = word_chars(c, lo, hi, ws)[0], word_chars(c, lo, hi, we)[1]
                    answers.append({"score": float(score), "start": start, "end": end,
                                    "answer": case["context"][start:end], "window": len(wins), "tokens": [s, e]})
                wins.append({"input_ids": ids, "start_logits": o.start_logits[0].tolist(), "end_logits": o.end_logits[0].tolist()})
            answers = sorted(answers, key=lambda a: a["score"], reverse=True)[:1]
            cases.append({"question": case["question"], "context": case["context"], "windows": wins, "answer": answers[0]})
            print(case["question"], "->", answers[0], f"({len(wins)} windows)")
        d = os.path.join(HERE, "qa-pipeline")
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(dict(cfg, architectures=["LongformerForQuestionAnswering"], torch_dtype="float32"), f, indent=2)
        state = {k: v for k, v in model.state_dict().items() if not k.endswith("position_ids")}
        generate.write_safetensors(os.path.join(d, "model.safetensors"), state)
        shutil.copy(os.path.join(HERE, "..", "roberta", "tokenizer.json"), d)
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump({"model_max_length": MAX_SEQ_LEN, "tokenizer_class": "LongformerTokenizer"}, f, indent=2)
        with open(os.path.join(d, "outputs.json"), "w") as f:
            json.dump({"reference": "transformers modeling_longformer.py and the question-answering pipeline's decoding, PyTorch " + torch.__version__,
                       "max_seq_len": MAX_SEQ_LEN, "doc_stride": DOC_STRIDE, "max_answer_len": 15, "cases": cases}, f)
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
