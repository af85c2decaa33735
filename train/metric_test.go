package train

import (
	"math"
	"testing"
)

func TestNormalizeAnswer(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"The Cat!", "cat"},
		{"  a   big\tdog ", "big dog"},
		{"an apple, the pear", "apple pear"},
		{"theater and Anna", "theater and anna"},    // articles only as whole words
		{"the_cat", "thecat"},                       // _ is punctuation, removed first
		{"Père Noël's the gift", "père noëls gift"}, // non-ASCII kept
		{"(1,000) dollars.", "1000 dollars"},
		{"A", ""},
	} {
		if got := NormalizeAnswer(c.in); got != c.want {
			t.Errorf("NormalizeAnswer(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestF1(t *testing.T) {
	for _, c := range []struct {
		pred, gold string
		want       float64
	}{
		{"the big cat sat", "a cat sat down", 2.0 / 3}, // [big cat sat] vs [cat sat down]
		{"cat", "cat", 1},
		{"cat cat", "cat", 2 * 0.5 * 1 / 1.5}, // precision 1/2, recall 1
		{"dog", "cat", 0},
		{"", "", 1}, // v2.0: both empty
		{"", "cat", 0},
		{"the", "", 1}, // normalizes to empty
	} {
		if got := F1(c.pred, c.gold); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("F1(%q, %q) = %g, want %g", c.pred, c.gold, got, c.want)
		}
	}
}

// TestEvaluate checks the averaging, the best over gold answers, missing
// predictions and the v2.0 parts against figures worked out by hand.
func TestEvaluate(t *testing.T) {
	ex := []Example{
		{ID: "a", Answers: []Answer{{Text: "Denver Broncos"}, {Text: "Broncos"}}},
		{ID: "b", Answers: []Answer{{Text: "Santa Clara, California"}}},
		{ID: "c", IsImpossible: true},
		{ID: "d", IsImpossible: true},
		{ID: "e", Answers: []Answer{{Text: "gold"}}},
	}
	preds := map[string]string{
		"a": "the Broncos", // EM 1 (second answer)
		"b": "Santa Clara", // EM 0, F1 2·1·(2/3)/(5/3) = 0.8
		"c": "",            // correct abstention
		"d": "something",   // wrong
		// "e" missing: 0
	}
	s := Evaluate(ex, preds, true)
	if s.Total != 5 || s.Missing != 1 {
		t.Fatalf("total %d, missing %d", s.Total, s.Missing)
	}
	check := func(name string, got, want float64) {
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %g, want %g", name, got, want)
		}
	}
	check("exact", s.Exact, 100*2.0/5)
	check("f1", s.F1, 100*(1+0.8+1)/5)
	check("HasAns_exact", *s.HasAnsExact, 100*1.0/3)
	check("HasAns_f1", *s.HasAnsF1, 100*1.8/3)
	check("NoAns_exact", *s.NoAnsExact, 50)
	if *s.HasAnsTotal != 3 || *s.NoAnsTotal != 2 {
		t.Errorf("totals %d, %d", *s.HasAnsTotal, *s.NoAnsTotal)
	}
	if v1 := Evaluate(ex[:2], preds, false); v1.HasAnsExact != nil || v1.NoAnsExact != nil {
		t.Error("v1.1 scoring reported HasAns/NoAns parts")
	}
}
