package model

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/olc-toolkit/olc/internal/atomicfile"
)

// A Tensor is a named array read from or written to a safetensors file:
// its dtype ("F32", "F64", …), shape and little-endian, row-major bytes.
type Tensor struct {
	DType string
	Shape []int
	Data  []byte
}

// dtypeSize gives the bytes per element of the safetensors dtypes.
var dtypeSize = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
}

// Elements returns the number of elements of the shape.
func (t Tensor) Elements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32s returns the tensor's values as float32 (F32, F64, F16 or BF16).
func (t Tensor) Float32s() ([]float32, error) {
	n := t.Elements()
	out := make([]float32, n)
	switch t.DType {
	case "F32":
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
	case "F64":
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:])))
		}
	case "BF16":
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(t.Data[2*i:])) << 16)
		}
	case "F16":
		for i := range out {
			out[i] = halfToFloat32(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
	default:
		return nil, fmt.Errorf("dtype %s is not a floating-point type", t.DType)
	}
	return out, nil
}

// Float64s returns the tensor's values as float64.
func (t Tensor) Float64s() ([]float64, error) {
	if t.DType == "F64" {
		out := make([]float64, t.Elements())
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
		return out, nil
	}
	f, err := t.Float32s()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out, nil
}

// halfToFloat32 converts an IEEE 754 half-precision number.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := int(h>>10) & 0x1f
	frac := uint32(h & 0x3ff)
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(frac) / 1024 * float32(math.Pow(2, -14))
		if sign != 0 {
			return -f
		}
		return f
	case exp == 31:
		if frac == 0 {
			return math.Float32frombits(sign | 0x7f800000)
		}
		return float32(math.NaN())
	}
	return math.Float32frombits(sign | uint32(exp-15+127)<<23 | frac<<13)
}

// F32Tensor returns a float32 tensor of the given shape.
func F32Tensor(shape []int, v []float32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return Tensor{DType: "F32", Shape: append([]int(nil), shape...), Data: b}
}

// F64Tensor returns a float64 tensor of the given shape.
func F64Tensor(shape []int, v []float64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return Tensor{DType: "F64", Shape: append([]int(nil), shape...), Data: b}
}

type headerEntry struct {
	DType       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets [2]int `json:"data_offsets"`
}

// maxHeader bounds the JSON header we accept (100 MB, as the reference
// implementation does); maxTensorBytes one tensor (1 TiB, beyond any
// checkpoint, and far from int's overflow).
const (
	maxHeader      = 100 << 20
	maxTensorBytes = 1 << 40
)

// ReadSafetensors reads a safetensors stream: an 8-byte little-endian
// header length, the JSON header, then the data buffer, which the tensors'
// offsets must cover exactly, without holes or overlaps. It returns the
// tensors and the header's __metadata__.
func ReadSafetensors(r io.Reader) (map[string]Tensor, map[string]string, error) {
	var n uint64
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, nil, fmt.Errorf("safetensors: read the header length: %w", err)
	}
	if n > maxHeader {
		return nil, nil, fmt.Errorf("safetensors: header of %d bytes is larger than %d", n, maxHeader)
	}
	// Read rather than allocate what the file claims: a short file that
	// claims a long header costs what it holds, not what it claims.
	hb, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: read the header: %w", err)
	}
	if uint64(len(hb)) != n {
		return nil, nil, fmt.Errorf("safetensors: read the header: the file ends after %d of its %d bytes", len(hb), n)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, nil, fmt.Errorf("safetensors: the header is not JSON: %w", err)
	}
	meta := map[string]string{}
	entries := map[string]headerEntry{}
	for name, v := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(v, &meta); err != nil {
				return nil, nil, fmt.Errorf("safetensors: __metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		var e headerEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		size, ok := dtypeSize[e.DType]
		if !ok {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, e.DType)
		}
		elems := 1
		for _, d := range e.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", name, e.Shape)
			}
			if d > 0 && elems > maxTensorBytes/size/d {
				return nil, nil, fmt.Errorf("safetensors: tensor %q: shape %v of %s is larger than %d bytes", name, e.Shape, e.DType, maxTensorBytes)
			}
			elems *= d
		}
		if e.DataOffsets[1]-e.DataOffsets[0] != elems*size || e.DataOffsets[0] < 0 {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: offsets %v hold %d bytes, its shape %v of %s needs %d", name, e.DataOffsets, e.DataOffsets[1]-e.DataOffsets[0], e.Shape, e.DType, elems*size)
		}
		entries[name] = e
	}
	// The offsets must tile the buffer.
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return entries[names[i]].DataOffsets[0] < entries[names[j]].DataOffsets[0] })
	end := 0
	for _, name := range names {
		e := entries[name]
		if e.DataOffsets[0] != end {
			return nil, nil, fmt.Errorf("safetensors: tensor %q starts at byte %d, expected %d (holes or overlaps in the buffer)", name, e.DataOffsets[0], end)
		}
		end = e.DataOffsets[1]
	}
	// As for the header: the buffer grows with what the file holds.
	buf, err := io.ReadAll(io.LimitReader(r, int64(end)))
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: read the %d-byte data buffer: %w", end, err)
	}
	if len(buf) != end {
		return nil, nil, fmt.Errorf("safetensors: read the %d-byte data buffer: the file ends after %d bytes of it (truncated?)", end, len(buf))
	}
	if extra, _ := io.Copy(io.Discard, io.LimitReader(r, 1)); extra > 0 {
		return nil, nil, fmt.Errorf("safetensors: bytes after the data buffer")
	}
	out := make(map[string]Tensor, len(entries))
	for name, e := range entries {
		out[name] = Tensor{DType: e.DType, Shape: e.Shape, Data: buf[e.DataOffsets[0]:e.DataOffsets[1]]}
	}
	return out, meta, nil
}

// WriteSafetensors writes tensors, sorted by name, with the metadata.
func WriteSafetensors(w io.Writer, tensors map[string]Tensor, meta map[string]string) error {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	header := map[string]any{}
	if len(meta) > 0 {
		header["__metadata__"] = meta
	}
	off := 0
	for _, name := range names {
		t := tensors[name]
		size, ok := dtypeSize[t.DType]
		if !ok {
			return fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, t.DType)
		}
		if len(t.Data) != t.Elements()*size {
			return fmt.Errorf("safetensors: tensor %q: %d bytes for shape %v of %s", name, len(t.Data), t.Shape, t.DType)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[name] = headerEntry{DType: t.DType, Shape: shape, DataOffsets: [2]int{off, off + len(t.Data)}}
		off += len(t.Data)
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return err
	}
	// Pad the header with spaces to a multiple of 8 bytes, so the data
	// buffer is aligned.
	if pad := (8 - len(hb)%8) % 8; pad > 0 {
		hb = append(hb, []byte(strings.Repeat(" ", pad))...)
	}
	bw := bufio.NewWriter(w)
	if err := binary.Write(bw, binary.LittleEndian, uint64(len(hb))); err != nil {
		return err
	}
	bw.Write(hb)
	for _, name := range names {
		bw.Write(tensors[name].Data)
	}
	return bw.Flush()
}

// WriteSafetensorsFile writes tensors to path through a synced temporary
// file renamed into place, so that a crash never leaves half a checkpoint.
func WriteSafetensorsFile(path string, tensors map[string]Tensor, meta map[string]string) error {
	return atomicfile.WriteFunc(path, func(w io.Writer) error { return WriteSafetensors(w, tensors, meta) })
}

// ReadSafetensorsFile reads a safetensors file.
func ReadSafetensorsFile(path string) (map[string]Tensor, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	t, m, err := ReadSafetensors(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, m, nil
}
