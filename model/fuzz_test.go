package model

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// pytorchZip builds a torch.save-style archive around a pickle and
// storage records (stored, as torch writes them).
func pytorchZip(t testing.TB, pkl []byte, records map[string][]byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	add := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	add("archive/data.pkl", pkl)
	for k, v := range records {
		add("archive/data/"+k, v)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FuzzReadPytorch: a pickle from a stranger gives tensors that fit their
// storages, or an error; never a panic or a call of anything but torch's
// tensor rebuilder, its storages and OrderedDict.
func FuzzReadPytorch(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "parity", "qa-f32", PytorchFile))
	if err != nil {
		f.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(seed), int64(len(seed)))
	if err != nil {
		f.Fatal(err)
	}
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "data.pkl") {
			rc, _ := zf.Open()
			pkl, _ := io.ReadAll(rc)
			rc.Close()
			f.Add(pkl)
		}
	}
	f.Add([]byte("\x80\x02cos\nsystem\nX\x0a\x00\x00\x00echo pwned\x85R."))
	f.Add([]byte("\x80\x02}q\x00(X\x01\x00\x00\x00actorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x02tQK\x00K\x02\x85K\x01\x85\x89)tRu."))
	f.Fuzz(func(t *testing.T, pkl []byte) {
		archive := pytorchZip(t, pkl, map[string][]byte{"0": make([]byte, 8)})
		tensors, err := ReadPytorch(bytes.NewReader(archive), int64(len(archive)))
		if err != nil {
			return
		}
		for name, tt := range tensors {
			if len(tt.Data) != tt.Elements()*dtypeSize[tt.DType] || len(tt.Data) > 8 {
				t.Fatalf("tensor %q: %d bytes for shape %v of %s", name, len(tt.Data), tt.Shape, tt.DType)
			}
		}
	})
}

// A pickle that names anything but tensors and plain containers is
// refused, naming the global; nothing runs.
func TestPytorchRefusesCode(t *testing.T) {
	for _, c := range []struct {
		pkl  string
		want string
	}{
		{"\x80\x02cos\nsystem\nX\x0a\x00\x00\x00echo pwned\x85R.", "names the global os.system"},
		{"\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.", "names the global builtins.eval"},
		{"\x80\x02}q\x00(X\x01\x00\x00\x00aK\x01u.", "a: not a tensor (int)"},
		{"\x80\x02}q\x00(X\x01\x00\x00\x00actorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x00K\x04\x85K\x01\x85\x89)tRu.", "4 elements of F32 need 16 bytes, the record holds 8"},
		{"\x80\x02}q\x00(X\x01\x00\x00\x00actorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x02tQK\x00K\x02\x85K\x01\x85\x89)tRu.", ""},
		{"\x80\x02X\xff\xff\xff\x7f", "truncated"},
	} {
		archive := pytorchZip(t, []byte(c.pkl), map[string][]byte{"0": make([]byte, 8)})
		tensors, err := ReadPytorch(bytes.NewReader(archive), int64(len(archive)))
		if c.want == "" {
			if err != nil || len(tensors["a"].Data) != 8 || !slices.Equal(tensors["a"].Shape, []int{2}) {
				t.Errorf("a valid state dict: %v, %+v", err, tensors)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error with %q", c.pkl, err, c.want)
		}
	}
}
