package model

import (
	"bytes"
	"encoding/binary"
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

// FuzzReadSafetensors: bytes from a stranger give tensors whose data fit
// their shapes, or an error; never a panic, and no allocation beyond what
// the bytes hold (a header or buffer claiming more ends in an error).
func FuzzReadSafetensors(f *testing.F) {
	var valid bytes.Buffer
	if err := WriteSafetensors(&valid, map[string]Tensor{
		"a": F32Tensor([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		"b": {DType: "BF16", Shape: []int{2}, Data: []byte{0x80, 0x3f, 0, 0x40}},
		"c": {DType: "F16", Shape: []int{}, Data: []byte{0, 0x3c}},
	}, map[string]string{"format": "pt"}); err != nil {
		f.Fatal(err)
	}
	v := valid.Bytes()
	huge := func(header string) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
		return append(b, header...)
	}
	for _, seed := range [][]byte{
		v, v[:len(v)-3], v[:12],
		{0xff, 0xff, 0xff, 0x05, 0, 0, 0, 0, '{'},
		huge(`{"x":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}`),
		huge(`{"x":{"dtype":"F32","shape":[1073741824,1024],"data_offsets":[0,4398046511104]}}`),
		huge(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tensors, _, err := ReadSafetensors(bytes.NewReader(data))
		if err != nil {
			return
		}
		total := 0
		for name, tt := range tensors {
			if len(tt.Data) != tt.Elements()*dtypeSize[tt.DType] {
				t.Fatalf("tensor %q: %d bytes for shape %v of %s", name, len(tt.Data), tt.Shape, tt.DType)
			}
			total += len(tt.Data)
			if _, err := tt.Float64s(); err != nil && tt.DType != "I64" && tt.DType != "I32" && tt.DType != "I16" && tt.DType != "I8" && tt.DType != "U8" && tt.DType != "BOOL" {
				t.Fatalf("tensor %q of %s: %v", name, tt.DType, err)
			}
		}
		if total > len(data) {
			t.Fatalf("%d bytes of tensors from a %d-byte file", total, len(data))
		}
	})
}
