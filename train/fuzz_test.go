package train

import (
	"errors"
	"testing"

	"github.com/olc-toolkit/olc/internal/tomlconf"
)

// FuzzParseConfig: any text, with or without a --set override, gets a
// valid config or *ConfigErrors with the file or the flag; never a panic.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{
		"[train]\nsteps = 3\n",
		"[model]\nhidden_size = 64\nnum_attention_heads = 4\nattention_window = [8, 16]\n[data]\ntrain_file = \"x.json\"\n",
		"[data]\ntask = \"niah\"\nlengths = \"64-128,256\"\neval_depths = \"0,0.5,1\"\n[schedule]\ndecay = \"linear\"\n",
		"[optimizer]\nlr = \"abc\"\nbeta1 = 3\n[train]\nseed = -1\n",
		"\xEF\xBB\xBF[output]\nname = \"a/b\"\n",
		"model = 1\n[train.sub]\nx = 1\n",
	} {
		f.Add([]byte(seed), "optimizer.lr", "0.01")
	}
	f.Add([]byte(""), "model.attention_window", "[8, 8]")
	f.Add([]byte(""), "nosuch", "1")
	f.Fuzz(func(t *testing.T, data []byte, key, value string) {
		c, err := ParseConfig("f.toml", data, Override{Key: key, Value: value, Source: "--set"})
		if err != nil {
			for _, e := range tomlconf.Unjoin(err) {
				var ce *ConfigError
				if !errors.As(e, &ce) || (ce.File != "f.toml" && ce.Flag != "--set") || ce.Msg == "" {
					t.Fatalf("not a config error with its file or flag: %#v", e)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("a config that parsed does not validate: %v", err)
		}
	})
}
