// Times Hugging Face's tokenizers (npm tokenizers 0.23.2, Rust) on the
// text BenchmarkRobertaEncode encodes: golden.json ×4 with GPT-2's whole
// vocabulary in RoBERTa's layout, offsets included, one thread. Run as
// golden.js is (NODE_PATH=/tmp/tok/node_modules node .../bench.js).
"use strict";
const fs = require("fs");
const path = require("path");
const tk = require("tokenizers");
process.env.RAYON_NUM_THREADS = "1";
const here = __dirname;
const gpt2 = path.join(here, "..", "gpt2");
(async () => {
  const encoder = JSON.parse(fs.readFileSync(path.join(gpt2, "encoder.json"), "utf8"));
  const v = { "<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3 };
  for (const [k] of Object.entries(encoder).filter(([k]) => k !== "<|endoftext|>").sort((x, y) => x[1] - y[1])) v[k] = Object.keys(v).length;
  v["<mask>"] = Object.keys(v).length;
  const tmp = fs.mkdtempSync("/tmp/bench-");
  fs.writeFileSync(path.join(tmp, "vocab.json"), JSON.stringify(v));
  fs.copyFileSync(path.join(gpt2, "vocab.bpe"), path.join(tmp, "merges.txt"));
  const model = await tk.BPE.fromFile(path.join(tmp, "vocab.json"), path.join(tmp, "merges.txt"), { continuingSubwordPrefix: "", endOfWordSuffix: "", fuseUnk: false });
  const t = new tk.Tokenizer(model);
  t.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
  t.setPostProcessor(tk.robertaProcessing(["</s>", 2], ["<s>", 0], true, false));
  t.addAddedTokens(["<s>", "<pad>", "</s>", "<unk>"].map((s) => new tk.AddedToken(s, true)));
  t.addAddedTokens([new tk.AddedToken("<mask>", true, { leftStrip: true })]);
  const text = fs.readFileSync(path.join(here, "golden.json"), "utf8").repeat(4);
  const bytes = Buffer.byteLength(text);
  await t.encode(text, null); // warm
  const times = [];
  for (let i = 0; i < 10; i++) {
    const t0 = process.hrtime.bigint();
    const e = await t.encode(text, null);
    e.getOffsets();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ bytes, median_s: times[5], mb_per_s: bytes / 1e6 / times[5] }));
  fs.rmSync(tmp, { recursive: true });
})();
