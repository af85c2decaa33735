// Golden encodings for olc's RoBERTa tokenizer, written by Hugging Face's
// own tokenizers library (the Rust crate behind transformers'
// RobertaTokenizerFast, through its Node.js binding).
//
// It is never run by `make test`. To run it, outside the repository:
//
//	mkdir /tmp/tok && cd /tmp/tok && npm install tokenizers@0.23.2
//	NODE_PATH=/tmp/tok/node_modules node model/testdata/roberta/golden.js
//
// (from the repository root). It writes, next to itself:
//
//	vocab.json, merges.txt  a RoBERTa-layout vocabulary: <s> <pad> </s>
//	                        <unk>, then the 256 byte symbols and the
//	                        results of GPT-2's first 3,000 merges
//	                        (model/testdata/gpt2/vocab.bpe), then <mask>
//	tokenizer.json          the same tokenizer as the library saves it:
//	                        ByteLevel pre-tokenizer, BPE, RobertaProcessing
//	                        with trimmed offsets, the special tokens as
//	                        added tokens (<mask> with lstrip), as
//	                        transformers' RobertaConverter builds it
//	golden.json             ids, character offsets and word ids of texts
//	                        alone and in pairs, with add_prefix_space off
//	                        and on, and the windows that truncation with a
//	                        stride makes of long pairs (as the
//	                        question-answering pipeline asks for them); and
//	                        the ids of the same texts under the full GPT-2
//	                        vocabulary in RoBERTa's layout ("full", which
//	                        the test rebuilds from model/testdata/gpt2)
"use strict";
const fs = require("fs");
const path = require("path");
const tk = require("tokenizers");

const here = __dirname;
const gpt2 = path.join(here, "..", "gpt2");
const NMERGES = 3000;

// bytes_to_unicode, as GPT-2 defines it.
function byteSymbols() {
  const bs = [];
  for (let c = 33; c <= 126; c++) bs.push(c);
  for (let c = 0xa1; c <= 0xac; c++) bs.push(c);
  for (let c = 0xae; c <= 0xff; c++) bs.push(c);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  const out = new Array(256);
  bs.forEach((b, i) => { out[b] = String.fromCodePoint(cs[i]); });
  return out;
}

function roberta(vocab) {
  const v = { "<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3 };
  for (const t of vocab) if (!(t in v)) v[t] = Object.keys(v).length;
  v["<mask>"] = Object.keys(v).length;
  return v;
}

async function build(vocabFile, mergesFile, addPrefixSpace) {
  const model = await tk.BPE.fromFile(vocabFile, mergesFile, { continuingSubwordPrefix: "", endOfWordSuffix: "", fuseUnk: false });
  const t = new tk.Tokenizer(model);
  t.setPreTokenizer(tk.byteLevelPreTokenizer(addPrefixSpace, true));
  t.setPostProcessor(tk.robertaProcessing(["</s>", 2], ["<s>", 0], true, addPrefixSpace));
  t.addAddedTokens(["<s>", "<pad>", "</s>", "<unk>"].map((s) => new tk.AddedToken(s, true)));
  t.addAddedTokens([new tk.AddedToken("<mask>", true, { leftStrip: true })]);
  return t;
}

function enc(e) {
  return { ids: e.getIds(), offsets: e.getOffsets(), words: e.getWordIds().map((w) => (w === undefined ? null : w)), sequences: e.getSequenceIds().map((w) => (w === undefined ? null : w)) };
}

const texts = [
  "Hello world",
  " Hello  world ",
  "The Longformer's attention scales linearly: it's what we'd use, isn't it? They'll see, I'm sure, you've read it.",
  "def f(x):\n    return x ** 2  # square\n\tif x != 0:\r\n\t\tprint(f\"{x=}\")\n",
  "naïve café, Straße, ÆØÅ, Ελληνικά, русский текст, 日本語のテキスト, 한국어, עברית, العربية",
  "emoji: 🎉🎉 👩‍👩‍👧 🇫🇷 ❤️ 1️⃣, math: ∑ x² ≤ √2 · π ≈ 3.14159",
  "spaces:   three, tabs:\t\t two, newlines:\n\n\nthree, mixed: \t \n end   ",
  "a \ufeffb \u0085c  \u0085\u0085d x\u0085 y\ufeff\ufeff z \u00a0\u00a0w \u001c\u001d \u001cq \u2028\u2029 \u180e|\u200b|",
  "odd spaces:\u00a0nbsp\u2003em\u3000ideographic\u0085nel\ufeffbom\u001cfs\u2028ls end",
  "numbers 12345 3.14 1,000,000 -42 ⅔ ٣ 2nd 10th 1990s",
  "A sentence with a <mask> token, and <mask>at the start of a word,   <mask> after spaces.",
  "<mask> first, then <s> and </s> and <pad> and <unk> written out, and <maskless> not.",
  "'s 't 're 've 'm 'll 'd 'S 'T ' s '' '''",
  "x".repeat(40) + " " + "ab".repeat(25) + " supercalifragilisticexpialidocious antidisestablishmentarianism",
  "",
  " ",
  "\n",
  "trailing space ",
  "Ünïcödé ÂÇÇËNTS ähm öh üh ß",
];

const pairs = [
  ["Who wrote it?", "It was written by Iz Beltagy, Matthew E. Peters and Arman Cohan in 2020."],
  [" Where? ", "In the <mask> of the text, near the end."],
  ["Combien?", "Ça coûte 3 € — trois euros. 🎉"],
];

// Long contexts for windows: truncation only_second with a stride.
const long = [];
{
  const words = "the model reads a long document in windows of tokens that overlap by a stride so that every answer lies whole in one of them; naïve café Ωmega 🎉 2020 it's".split(" ");
  let s = "";
  for (let i = 0; i < 400; i++) s += (i % 17 === 0 ? "\n" : " ") + words[(i * 7) % words.length];
  long.push(["What does the model read?", s, 64, 16]);
  long.push(["Which window?", s.slice(0, 700), 40, 10]);
  long.push(["A question that is rather long for such a small window of tokens?", s.slice(0, 300), 48, 0]);
}

(async () => {
  // The small vocabulary.
  const sym = byteSymbols();
  const mergeLines = fs.readFileSync(path.join(gpt2, "vocab.bpe"), "utf8").split("\n").slice(1).filter((l) => l.trim() !== "");
  const known = new Set(sym);
  const merges = [];
  for (const l of mergeLines) {
    if (merges.length === NMERGES) break;
    const [a, b] = l.split(" ");
    if (!known.has(a) || !known.has(b)) continue;
    merges.push(a + " " + b);
    known.add(a + b);
  }
  const vocab = roberta(sym.concat(merges.map((m) => m.replace(" ", ""))));
  fs.writeFileSync(path.join(here, "vocab.json"), JSON.stringify(vocab));
  fs.writeFileSync(path.join(here, "merges.txt"), "#version: 0.2\n" + merges.join("\n") + "\n");

  const out = { library: "tokenizers (npm) 0.23.2", merges: NMERGES, vocab_size: Object.keys(vocab).length, texts: [], pairs: [], windows: [], full: [] };
  const t0 = await build(path.join(here, "vocab.json"), path.join(here, "merges.txt"), false);
  t0.save(path.join(here, "tokenizer.json"), false);
  const t1 = await build(path.join(here, "vocab.json"), path.join(here, "merges.txt"), true);
  for (const s of texts) {
    out.texts.push({ text: s, plain: enc(await t0.encode(s, null, { addSpecialTokens: true })), prefix: enc(await t1.encode(s, null, { addSpecialTokens: true })) });
  }
  for (const [a, b] of pairs) {
    out.pairs.push({ a, b, plain: enc(await t0.encode(a, b, { addSpecialTokens: true })), prefix: enc(await t1.encode(a, b, { addSpecialTokens: true })) });
  }
  for (const [q, c, maxLen, stride] of long) {
    const t = await build(path.join(here, "vocab.json"), path.join(here, "merges.txt"), false);
    t.setTruncation(maxLen, { stride, strategy: "OnlySecond" });
    const e = await t.encode(q, c, { addSpecialTokens: true });
    out.windows.push({ question: q, context: c, max_length: maxLen, stride, encodings: [e].concat(e.getOverflowing()).map(enc) });
  }
  // The full vocabulary, RoBERTa's layout of GPT-2's tokens.
  const encoder = JSON.parse(fs.readFileSync(path.join(gpt2, "encoder.json"), "utf8"));
  const full = roberta(Object.entries(encoder).filter(([k]) => k !== "<|endoftext|>").sort((x, y) => x[1] - y[1]).map(([k]) => k));
  const tmp = fs.mkdtempSync("/tmp/golden-");
  fs.writeFileSync(path.join(tmp, "vocab.json"), JSON.stringify(full));
  fs.copyFileSync(path.join(gpt2, "vocab.bpe"), path.join(tmp, "merges.txt"));
  const tf = await build(path.join(tmp, "vocab.json"), path.join(tmp, "merges.txt"), false);
  for (const s of texts) out.full.push({ text: s, ids: (await tf.encode(s, null, { addSpecialTokens: false })).getIds() });
  fs.rmSync(tmp, { recursive: true });
  fs.writeFileSync(path.join(here, "golden.json"), JSON.stringify(out));
})();
