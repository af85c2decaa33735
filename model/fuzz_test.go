package model

import (
	"errors"
	"testing"

	"github.com/olc-toolkit/olc/internal/tomlconf"
)

// FuzzParseConfig: TOML and config.json text gets a valid config or
// *ConfigErrors; never a panic.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{
		"hidden_size = 64\nnum_attention_heads = 4\nattention_window = 16\n",
		"attention_window = [8, 8, 8]\nnum_hidden_layers = 3\nglobal_attention = false\n",
		"hidden_size = \"big\"\nlayer_norm = 1\n",
		`{"hidden_size": 64, "num_attention_heads": 4, "attention_window": [8, 8], "num_hidden_layers": 2, "architectures": ["LongformerForMaskedLM"]}`,
		`{"attention_window": "x", "vocab_size": -1}`,
		"\xEF\xBB\xBF{\"hidden_size\": 32, \"num_attention_heads\": 2}",
	} {
		f.Add([]byte(seed), seed[0] == '{' || seed[0] == 0xEF)
	}
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		name := "m.toml"
		if asJSON {
			name = "config.json"
		}
		c, err := ParseConfig(name, data)
		if err != nil {
			for _, e := range tomlconf.Unjoin(err) {
				var ce *ConfigError
				if !errors.As(e, &ce) || ce.File != name {
					t.Fatalf("not a config error of %s: %#v", name, e)
				}
			}
			return
		}
		if err := c.Validate(name); err != nil {
			t.Fatalf("a config that parsed does not validate: %v", err)
		}
		if _, err := c.JSON(); err != nil {
			t.Fatal(err)
		}
	})
}
