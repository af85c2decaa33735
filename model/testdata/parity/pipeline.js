// Tokens for the question-answering pipeline fixture (pipeline.py): the
// questions and contexts of qa-pipeline/, encoded by Hugging Face's
// tokenizers (npm tokenizers 0.23.2) with the tokenizer of
// model/testdata/roberta, each sequence alone and without special tokens
// (pipeline.py cuts the windows, as the library's truncation with a
// stride does). Never run by `make test`:
//
//	NODE_PATH=/tmp/tok/node_modules node model/testdata/parity/pipeline.js
"use strict";
const fs = require("fs");
const path = require("path");
const tk = require("tokenizers");

const words = ("the Longformer reads long documents with a sliding window of local attention and a few global tokens; " +
  "it was introduced in 2020 by Beltagy, Peters and Cohan at the Allen Institute. Its café-sized windows (512 tokens) " +
  "scale linearly, naïvely 🎉 speaking, while full attention grows with the square of the length. Questions go first, " +
  "contexts second, and answers are spans of the context; the pipeline scores each span by the product of its start " +
  "and end probabilities, window by window, and keeps the best. Zürich, Kraków and São Paulo are cities. ").split(" ").filter((w) => w);
function context(n, seed) {
  let s = "", x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += (i ? (x % 13 === 0 ? ".\n" : " ") : "") + words[x % words.length];
  }
  return s;
}
const cases = [
  ["Who introduced the Longformer?", context(60, 1)],
  ["How does attention scale with the length?", context(300, 2)],
  [" Where is Zürich? ", context(260, 3)],
  ["What does the pipeline keep?", "The pipeline keeps the best span. 🎉 Nothing else."],
];
(async () => {
  const t = tk.Tokenizer.fromFile(path.join(__dirname, "..", "roberta", "tokenizer.json"));
  const enc = async (s) => {
    const e = await t.encode(s, null, { addSpecialTokens: false });
    return { ids: e.getIds(), offsets: e.getOffsets(), words: e.getWordIds() };
  };
  const out = [];
  for (const [q, c] of cases) out.push({ question: q, context: c, q: await enc(q), c: await enc(c) });
  fs.mkdirSync(path.join(__dirname, "qa-pipeline"), { recursive: true });
  fs.writeFileSync(path.join(__dirname, "qa-pipeline", "tokens.json"), JSON.stringify({ library: "tokenizers (npm) 0.23.2", cases: out }));
})();
