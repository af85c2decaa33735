package train

import (
	"context"
	"fmt"
	"math"

	"github.com/olc-toolkit/olc/internal/parallel"
	"github.com/olc-toolkit/olc/model"
)

// PerplexityRow is the masked-LM loss at one context length.
type PerplexityRow struct {
	Length     int     `json:"c"` // tokens per sequence, <s> and </s> included
	Loss       float64 `json:"loss"`
	Perplexity float64 `json:"perplexity"`
	Sequences  int     `json:"sequences"`
	Masked     int     `json:"masked_tokens"`
}

// PerplexityByLength cuts text into sequences of each length and returns
// the mean masked-LM cross-entropy and its perplexity (BERT's masking of
// maskProb of the tokens, drawn from seed, the same for every length), the
// input of a loss-against-context-length scaling fit. threads sequences
// run at a time.
func PerplexityByLength(ctx context.Context, m Model, tok model.Tokenizer, text string, lengths []int, maskProb float64, seed uint64, threads int) ([]PerplexityRow, error) {
	ids := tok.Encode(text).IDs
	var rows []PerplexityRow
	for _, L := range lengths {
		if L < 8 || L > m.MaxTokens() {
			return nil, fmt.Errorf("context length %d: want 8 to %d (the model's maximum)", L, m.MaxTokens())
		}
		body := L - 2
		var seqs [][]int
		for lo := 0; lo+body <= len(ids); lo += body {
			s := append([]int{tok.BOS()}, ids[lo:lo+body]...)
			seqs = append(seqs, append(s, tok.EOS()))
		}
		if len(seqs) == 0 {
			return nil, fmt.Errorf("context length %d: the text has only %d tokens", L, len(ids))
		}
		loss := make([]float64, len(seqs))
		count := make([]int, len(seqs))
		errs := make([]error, len(seqs))
		parallel.ForN(max(1, threads), len(seqs), func(i int) {
			if errs[i] = ctx.Err(); errs[i] != nil {
				return
			}
			// Each sequence's mask is drawn from the seed and the
			// sequence's offset in the text.
			in, labels := maskTokens(seqs[i], tok, maskProb, mixSeed(seed, uint64(i*body)))
			l, n, err := m.MLMLoss(in, nil, labels, false, 0)
			loss[i], count[i], errs[i] = l*float64(n), n, err
		})
		if err := firstError(errs); err != nil {
			return nil, err
		}
		row := PerplexityRow{Length: L, Sequences: len(seqs)}
		var sum float64
		for i := range seqs {
			sum += loss[i]
			row.Masked += count[i]
		}
		if row.Masked > 0 {
			row.Loss = sum / float64(row.Masked)
			row.Perplexity = math.Exp(row.Loss)
		}
		rows = append(rows, row)
	}
	return rows, nil
}
