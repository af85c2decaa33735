#!/usr/bin/python3
"""Parity fixtures for olc's Longformer, written by the reference itself.

This script runs Hugging Face transformers' own modeling_longformer.py (the
judge) on small random models and writes what olc's tests compare against:

    model/testdata/parity/<name>/config.json         the model's config.json
    model/testdata/parity/<name>/model.safetensors   its weights
    model/testdata/parity/<name>/pytorch_model.bin   the same, torch.save'd
    model/testdata/parity/<name>/outputs.json        inputs and outputs

for <name> in qa-f32, qa-f64, mlm-f32 and mlm-f64: a
LongformerForQuestionAnswering and a LongformerForMaskedLM, each in float32
and float64 (and qa-f16, qa-bf16: weights rounded to float16 or bfloat16
and stored so, the reference computing in float32 on them), with per-layer windows [8, 4], random weights (LayerNorm gains
and biases included), and a batch of five sequences: lengths that are not
a multiple of the window, padding, global attention on a question, on no
token and on several, and a padding id among real tokens (position ids).

It is never run by `make test`. It needs PyTorch (Debian: `apt-get install
python3-torch python3-numpy`, for /usr/bin/python3) and the reference file,
which is not in this repository:

    /usr/bin/python3 model/testdata/parity/generate.py \\
        --reference /path/to/transformers/models/longformer/modeling_longformer.py

The file is used as written, with its package imports answered by small
stand-ins defined here (ACT2FN with exact GELU; PreTrainedModel as an
nn.Module with BERT's extended attention mask and the decoder tied to the
word embeddings, as init_weights ties them; ModelOutput; the
docstring decorators; LongformerConfig with the reference's defaults). The
one change allowed: for the float64 models the two
`softmax(..., dtype=torch.float32)` calls of the attention are made to
compute in float64 (the file's text is edited in memory, and the script
checks that exactly those two calls changed), so that float64 outputs
are float64 throughout. The fixtures committed were made from
transformers 4.19.0.dev0's file (the copy vendored by
github.com/YuanWind/transformers_wind at commit 6e4cba8, unmodified since
its import), on PyTorch 1.13.
"""

import argparse
import importlib
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np
import torch

STUBS = {
    "__init__.py": "",
    "models/__init__.py": "",
    "models/longformer/__init__.py": "",
    "activations.py": '''
import torch.nn.functional as F
from torch import nn


class GELUActivation(nn.Module):
    def forward(self, x):
        return F.gelu(x)  # exact (erf)


ACT2FN = {"gelu": GELUActivation()}
gelu = F.gelu
''',
    "modeling_utils.py": '''
import torch
from torch import nn


class PreTrainedModel(nn.Module):
    """nn.Module with what the Longformer file uses of transformers' base."""

    def __init__(self, config, *args, **kwargs):
        super().__init__()
        self.config = config

    def post_init(self):
        # init_weights: initialize, then tie the decoder to the word
        # embeddings (tie_word_embeddings is true by default).
        self.apply(self._init_weights)
        out = self.get_output_embeddings() if hasattr(self, "get_output_embeddings") else None
        if out is not None and getattr(self.config, "tie_word_embeddings", True):
            base = getattr(self, self.base_model_prefix, self)
            out.weight = base.get_input_embeddings().weight

    @property
    def dtype(self):
        return next(self.parameters()).dtype

    def get_extended_attention_mask(self, attention_mask, input_shape, device=None):
        # BERT's (transformers 4.19): 0 where attended, -10000 where not;
        # the Longformer keeps only the signs of the merged 0/1/2 mask.
        ext = attention_mask[:, None, None, :].to(dtype=self.dtype)
        return (1.0 - ext) * -10000.0


def apply_chunking_to_forward(forward_fn, chunk_size, chunk_dim, *input_tensors):
    assert chunk_size == 0, "the fixtures use no feed-forward chunking"
    return forward_fn(*input_tensors)


def find_pruneable_heads_and_indices(*args, **kwargs):
    raise NotImplementedError


def prune_linear_layer(*args, **kwargs):
    raise NotImplementedError
''',
    "utils.py": '''
import logging as _logging
from collections import OrderedDict
from dataclasses import fields


class ModelOutput(OrderedDict):
    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None:
                self[f.name] = v

    def __getitem__(self, k):
        if isinstance(k, str):
            return dict.__getitem__(self, k)
        return self.to_tuple()[k]

    def to_tuple(self):
        return tuple(self[k] for k in self.keys())


def _identity(*args, **kwargs):
    return lambda f: f


add_code_sample_docstrings = add_start_docstrings = add_start_docstrings_to_model_forward = _identity
replace_return_docstrings = _identity


class logging:
    get_logger = staticmethod(_logging.getLogger)
''',
    "models/longformer/configuration_longformer.py": '''
class LongformerConfig:
    """LongformerConfig's defaults (transformers 4.19 to 4.31), plus the
    PretrainedConfig attributes the model reads."""

    def __init__(self, attention_window=512, sep_token_id=2, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                 vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072, hidden_act="gelu", hidden_dropout_prob=0.1,
                 attention_probs_dropout_prob=0.1, max_position_embeddings=512, type_vocab_size=2,
                 initializer_range=0.02, layer_norm_eps=1e-12, **kwargs):
        self.attention_window = attention_window
        self.sep_token_id, self.pad_token_id, self.bos_token_id, self.eos_token_id = sep_token_id, pad_token_id, bos_token_id, eos_token_id
        self.vocab_size, self.hidden_size, self.num_hidden_layers = vocab_size, hidden_size, num_hidden_layers
        self.num_attention_heads, self.intermediate_size, self.hidden_act = num_attention_heads, intermediate_size, hidden_act
        self.hidden_dropout_prob, self.attention_probs_dropout_prob = hidden_dropout_prob, attention_probs_dropout_prob
        self.max_position_embeddings, self.type_vocab_size = max_position_embeddings, type_vocab_size
        self.initializer_range, self.layer_norm_eps = initializer_range, layer_norm_eps
        self.output_attentions, self.output_hidden_states, self.use_return_dict = False, False, True
        self.chunk_size_feed_forward, self.num_labels, self.problem_type = 0, 2, None
        for k, v in kwargs.items():
            setattr(self, k, v)
''',
}

SOFTMAX32 = "dtype=torch.float32"


def load_reference(path, float64):
    """Imports the reference file inside a stand-in transformers package."""
    root = tempfile.mkdtemp(prefix="olc-parity-")
    pkg = os.path.join(root, "transformers")
    for name, text in STUBS.items():
        os.makedirs(os.path.dirname(os.path.join(pkg, name)), exist_ok=True)
        with open(os.path.join(pkg, name), "w") as f:
            f.write(text)
    with open(path) as f:
        src = f.read()
    if float64:
        n = src.count(SOFTMAX32)
        if n != 2:
            sys.exit(f"{path}: expected the two softmax(..., {SOFTMAX32}) calls, found {n} occurrences")
        src = src.replace(SOFTMAX32, "dtype=torch.float64")
    with open(os.path.join(pkg, "models", "longformer", "modeling_longformer.py"), "w") as f:
        f.write(src)
    for mod in [m for m in sys.modules if m == "transformers" or m.startswith("transformers.")]:
        del sys.modules[mod]
    sys.path.insert(0, root)
    try:
        return importlib.import_module("transformers.models.longformer.modeling_longformer"), root
    finally:
        sys.path.remove(root)


# config.json of the fixtures: per-layer windows; layer_norm_eps and
# type_vocab_size are left out of the QA models, so that olc must take
# LongformerConfig's defaults (1e-12, 2) as the reference does.
BASE = dict(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
            attention_window=[8, 4], max_position_embeddings=40, hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0, pad_token_id=1, bos_token_id=0, eos_token_id=2, sep_token_id=2,
            hidden_act="gelu", model_type="longformer")


def batch():
    """Five sequences, padded to 13 tokens (not a multiple of the window)."""
    pad = 1
    seqs = [
        # a question (global) then a context; no padding
        ([0, 11, 12, 2, 2, 20, 21, 22, 23, 24, 25, 26, 2], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        # shorter, padded; global on <s> only
        ([0, 30, 31, 32, 33, 34, 35, 36, 2], [1, 0, 0, 0, 0, 0, 0, 0, 0]),
        # no global token at all
        ([0, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 2], [0] * 13),
        # several global tokens, padded
        ([0, 5, 6, 7, 8, 9, 10, 13, 14, 2, 2], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
        # a padding id among real tokens: its position is the padding one
        ([0, 15, pad, 16, 17, pad, 18, 19, 2], [1, 0, 0, 0, 0, 0, 0, 0, 0]),
    ]
    n = 13
    ids, att, glob = [], [], []
    for s, g in seqs:
        ids.append(s + [pad] * (n - len(s)))
        att.append([1] * len(s) + [0] * (n - len(s)))
        glob.append(g + [0] * (n - len(s)))
    return ids, att, glob


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g, dtype=torch.float64).to(p.dtype)
            if "LayerNorm.weight" in name or "layer_norm.weight" in name:
                p.copy_(1 + 0.2 * r)
            elif name.endswith("bias"):
                p.copy_(0.1 * r)
            else:
                p.copy_(0.2 * r)


def write_safetensors(path, tensors):
    """The safetensors format, written by hand (the package is not needed)."""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        t = t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()
        if tensors[name].dtype == torch.bfloat16:
            # numpy has no bfloat16: the top halves of the float32 bits.
            bits = tensors[name].detach().float().contiguous().numpy().view(np.uint32) >> 16
            dtype, b = "BF16", bits.astype("<u2").tobytes()
        else:
            dtype = {np.float32: "F32", np.float64: "F64", np.float16: "F16"}[t.dtype.type]
            b = t.astype(t.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make(ref, kind, dtype, out, seed, storage=None):
    """A model computing in dtype; with storage (float16 or bfloat16) its
    weights are rounded to that type and saved in it, and the reference
    computes in float32 on the rounded weights."""
    suffix = {torch.float64: "f64", torch.float16: "f16", torch.bfloat16: "bf16"}.get(storage or dtype, "f32")
    name = f"{kind}-{suffix}"
    cfg = dict(BASE)
    arch = "LongformerForQuestionAnswering" if kind == "qa" else "LongformerForMaskedLM"
    if kind == "mlm":
        cfg.update(layer_norm_eps=1e-5, type_vocab_size=1)
    config = ref.LongformerConfig(**cfg)
    model = (ref.LongformerForQuestionAnswering if kind == "qa" else ref.LongformerForMaskedLM)(config)
    model = model.to(dtype).eval()
    randomize(model, seed)
    if storage is not None:
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(storage).to(dtype))
    ids, att, glob = batch()
    with torch.no_grad():
        o = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(att),
                  global_attention_mask=torch.tensor(glob), output_hidden_states=True)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(dict(cfg, architectures=[arch], torch_dtype=str(storage or dtype).replace("torch.", "")), f, indent=2)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("position_ids")}
    if storage is not None:
        state = {k: v.to(storage) for k, v in state.items()}
    write_safetensors(os.path.join(d, "model.safetensors"), state)
    torch.save(state, os.path.join(d, "pytorch_model.bin"))
    outputs = []
    for i in range(len(ids)):
        r = {"last_hidden_state": o.hidden_states[-1][i].tolist()}
        if kind == "qa":
            r["start_logits"], r["end_logits"] = o.start_logits[i].tolist(), o.end_logits[i].tolist()
        else:
            r["logits"] = o.logits[i].tolist()
        outputs.append(r)
    inputs = [{"input_ids": ids[i], "attention_mask": att[i], "global_attention_mask": glob[i]} for i in range(len(ids))]
    with open(os.path.join(d, "outputs.json"), "w") as f:
        json.dump({"reference": "transformers modeling_longformer.py, PyTorch " + torch.__version__,
                   "inputs": inputs, "outputs": outputs}, f)
    print(f"wrote {d}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, help="transformers' modeling_longformer.py")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    torch.set_num_threads(1)
    for dtype in (torch.float32, torch.float64):
        ref, root = load_reference(args.reference, dtype == torch.float64)
        try:
            for kind, seed in (("qa", 1), ("mlm", 2)):
                make(ref, kind, dtype, args.out, seed)
            if dtype == torch.float32:
                # Half-precision storage, float32 arithmetic.
                make(ref, "qa", dtype, args.out, 3, storage=torch.float16)
                make(ref, "qa", dtype, args.out, 4, storage=torch.bfloat16)
        finally:
            shutil.rmtree(root)


if __name__ == "__main__":
    main()
