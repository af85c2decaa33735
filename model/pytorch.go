package model

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"strings"
)

// PytorchFile is the name of a PyTorch checkpoint in a model folder.
const PytorchFile = "pytorch_model.bin"

// maxPickle bounds the pickle of a PyTorch checkpoint (its tensors' data
// lie beside it, in the archive's data/ records).
const maxPickle = 64 << 20

// storageDTypes maps PyTorch's storage classes to safetensors dtypes.
var storageDTypes = map[string]string{
	"FloatStorage": "F32", "DoubleStorage": "F64", "HalfStorage": "F16", "BFloat16Storage": "BF16",
	"LongStorage": "I64", "IntStorage": "I32", "ShortStorage": "I16", "CharStorage": "I8",
	"ByteStorage": "U8", "BoolStorage": "BOOL",
}

// ReadPytorchFile reads the tensors of a PyTorch checkpoint
// (pytorch_model.bin: torch.save of a state dict, a zip archive of a
// pickle and the tensors' storages). The pickle is interpreted, never
// executed: only the opcodes torch.save writes are understood, and its
// only callables are torch's tensor rebuilder, the storage types and
// OrderedDict; any other global (a malicious file's os.system, say) is an
// error naming it. Tensors must be contiguous (torch.save of a state dict
// writes them so). No allocation exceeds what the file holds.
func ReadPytorchFile(file string) (map[string]Tensor, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	tensors, err := ReadPytorch(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return tensors, nil
}

// ReadPytorch is ReadPytorchFile on an archive of the given size.
func ReadPytorch(r io.ReaderAt, size int64) (map[string]Tensor, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a PyTorch zip checkpoint (legacy and TorchScript files are not read): %w", err)
	}
	records := map[string]*zip.File{}
	var pkl *zip.File
	for _, zf := range zr.File {
		dir, name := path.Split(zf.Name)
		switch {
		case name == "data.pkl":
			pkl = zf
		case strings.HasSuffix(dir, "/data/"):
			records[name] = zf
		}
	}
	if pkl == nil {
		return nil, errors.New("no data.pkl in the archive")
	}
	if pkl.UncompressedSize64 > maxPickle {
		return nil, fmt.Errorf("data.pkl of %d bytes is larger than %d", pkl.UncompressedSize64, maxPickle)
	}
	rc, err := pkl.Open()
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxPickle))
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	u := &unpickler{data: data, records: records, storages: map[string][]byte{}}
	v, err := u.run()
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	dict, ok := v.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("data.pkl holds no state dict (%s)", typeName(v))
	}
	out := make(map[string]Tensor, len(dict.keys))
	for i, k := range dict.keys {
		name, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("a state-dict key is not a string (%s)", typeName(k))
		}
		t, ok := dict.values[i].(Tensor)
		if !ok {
			return nil, fmt.Errorf("%s: not a tensor (%s)", name, typeName(dict.values[i]))
		}
		out[name] = t
	}
	return out, nil
}

// The values of the pickle machine.
type (
	pyDict struct {
		keys, values []any
	}
	pyTuple  []any
	pyList   []any
	pyGlobal string // "module.name", one of the allowed
	pyMark   struct{}
	// pyStorage is a persistent id's storage: its dtype and bytes.
	pyStorage struct {
		dtype string
		data  []byte
	}
)

func typeName(v any) string {
	switch v := v.(type) {
	case *pyDict:
		return "dict"
	case pyTuple:
		return "tuple"
	case pyList:
		return "list"
	case string:
		return "string"
	case int64:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case nil:
		return "None"
	case Tensor:
		return "tensor"
	case pyGlobal:
		return "global " + string(v)
	}
	return fmt.Sprintf("%T", v)
}

// allowedGlobals are the callables a state dict's pickle may name.
func allowedGlobal(module, name string) bool {
	switch module {
	case "torch._utils":
		return name == "_rebuild_tensor_v2" || name == "_rebuild_parameter"
	case "torch":
		_, ok := storageDTypes[name]
		return ok
	case "collections":
		return name == "OrderedDict"
	}
	return false
}

type unpickler struct {
	data     []byte
	pos      int
	stack    []any
	memo     map[int]any
	records  map[string]*zip.File
	storages map[string][]byte
}

func (u *unpickler) need(n int) ([]byte, error) {
	if n < 0 || n > len(u.data)-u.pos {
		return nil, fmt.Errorf("truncated at byte %d", u.pos)
	}
	b := u.data[u.pos : u.pos+n]
	u.pos += n
	return b, nil
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	if len(u.stack) == 0 {
		return nil, fmt.Errorf("stack underflow at byte %d", u.pos)
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	if _, ok := v.(pyMark); ok {
		return nil, fmt.Errorf("unexpected mark at byte %d", u.pos)
	}
	return v, nil
}

// popMark pops the values down to the last mark.
func (u *unpickler) popMark() ([]any, error) {
	for i := len(u.stack) - 1; i >= 0; i-- {
		if _, ok := u.stack[i].(pyMark); ok {
			items := append([]any(nil), u.stack[i+1:]...)
			u.stack = u.stack[:i]
			return items, nil
		}
	}
	return nil, fmt.Errorf("no mark at byte %d", u.pos)
}

func (u *unpickler) line() (string, error) {
	i := u.pos
	for i < len(u.data) && u.data[i] != '\n' {
		i++
	}
	if i == len(u.data) {
		return "", fmt.Errorf("truncated at byte %d", u.pos)
	}
	s := string(u.data[u.pos:i])
	u.pos = i + 1
	return s, nil
}

func (u *unpickler) run() (any, error) {
	u.memo = map[int]any{}
	for {
		if u.pos >= len(u.data) {
			return nil, errors.New("no STOP opcode")
		}
		op := u.data[u.pos]
		u.pos++
		switch op {
		case 0x80: // PROTO
			if _, err := u.need(1); err != nil {
				return nil, err
			}
		case 0x95: // FRAME
			if _, err := u.need(8); err != nil {
				return nil, err
			}
		case '.': // STOP
			return u.pop()
		case '(': // MARK
			u.push(pyMark{})
		case '}': // EMPTY_DICT
			u.push(&pyDict{})
		case ']': // EMPTY_LIST
			u.push(pyList{})
		case ')': // EMPTY_TUPLE
			u.push(pyTuple{})
		case 'N': // NONE
			u.push(nil)
		case 0x88, 0x89: // NEWTRUE, NEWFALSE
			u.push(op == 0x88)
		case 'K', 'M', 'J': // BININT1, BININT2, BININT
			n := map[byte]int{'K': 1, 'M': 2, 'J': 4}[op]
			b, err := u.need(n)
			if err != nil {
				return nil, err
			}
			switch n {
			case 1:
				u.push(int64(b[0]))
			case 2:
				u.push(int64(binary.LittleEndian.Uint16(b)))
			default:
				u.push(int64(int32(binary.LittleEndian.Uint32(b))))
			}
		case 0x8a: // LONG1
			nb, err := u.need(1)
			if err != nil {
				return nil, err
			}
			b, err := u.need(int(nb[0]))
			if err != nil {
				return nil, err
			}
			if len(b) > 8 {
				return nil, fmt.Errorf("an integer of %d bytes at byte %d", len(b), u.pos)
			}
			var v int64
			for i := len(b) - 1; i >= 0; i-- {
				v = v<<8 | int64(b[i])
			}
			if len(b) > 0 && len(b) < 8 && b[len(b)-1]&0x80 != 0 {
				v -= 1 << (8 * len(b))
			}
			u.push(v)
		case 'G': // BINFLOAT
			b, err := u.need(8)
			if err != nil {
				return nil, err
			}
			u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
		case 'X', 0x8c: // BINUNICODE, SHORT_BINUNICODE
			var n int
			if op == 'X' {
				b, err := u.need(4)
				if err != nil {
					return nil, err
				}
				n = int(binary.LittleEndian.Uint32(b))
			} else {
				b, err := u.need(1)
				if err != nil {
					return nil, err
				}
				n = int(b[0])
			}
			b, err := u.need(n) // bounded by the pickle's own bytes
			if err != nil {
				return nil, err
			}
			u.push(string(b))
		case 'q', 'r', 0x94: // BINPUT, LONG_BINPUT, MEMOIZE
			var key int
			switch op {
			case 'q':
				b, err := u.need(1)
				if err != nil {
					return nil, err
				}
				key = int(b[0])
			case 'r':
				b, err := u.need(4)
				if err != nil {
					return nil, err
				}
				key = int(binary.LittleEndian.Uint32(b))
			default:
				key = len(u.memo)
			}
			if len(u.stack) == 0 {
				return nil, fmt.Errorf("memoize on an empty stack at byte %d", u.pos)
			}
			u.memo[key] = u.stack[len(u.stack)-1]
		case 'h', 'j': // BINGET, LONG_BINGET
			var key int
			if op == 'h' {
				b, err := u.need(1)
				if err != nil {
					return nil, err
				}
				key = int(b[0])
			} else {
				b, err := u.need(4)
				if err != nil {
					return nil, err
				}
				key = int(binary.LittleEndian.Uint32(b))
			}
			v, ok := u.memo[key]
			if !ok {
				return nil, fmt.Errorf("memo %d is empty at byte %d", key, u.pos)
			}
			u.push(v)
		case 't': // TUPLE
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			u.push(pyTuple(items))
		case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
			n := int(op - 0x84)
			if len(u.stack) < n {
				return nil, fmt.Errorf("stack underflow at byte %d", u.pos)
			}
			items := append(pyTuple(nil), u.stack[len(u.stack)-n:]...)
			u.stack = u.stack[:len(u.stack)-n]
			u.push(items)
		case 'c', 0x93: // GLOBAL, STACK_GLOBAL
			var module, name string
			if op == 'c' {
				var err error
				if module, err = u.line(); err != nil {
					return nil, err
				}
				if name, err = u.line(); err != nil {
					return nil, err
				}
			} else {
				n, err := u.pop()
				if err != nil {
					return nil, err
				}
				m, err := u.pop()
				if err != nil {
					return nil, err
				}
				var ok1, ok2 bool
				module, ok1 = m.(string)
				name, ok2 = n.(string)
				if !ok1 || !ok2 {
					return nil, fmt.Errorf("STACK_GLOBAL of non-strings at byte %d", u.pos)
				}
			}
			if !allowedGlobal(module, name) {
				return nil, fmt.Errorf("the pickle names the global %s.%s; olc reads tensors and plain containers only, and never runs a pickle's code", module, name)
			}
			u.push(pyGlobal(module + "." + name))
		case 'Q': // BINPERSID
			pid, err := u.pop()
			if err != nil {
				return nil, err
			}
			s, err := u.storage(pid)
			if err != nil {
				return nil, err
			}
			u.push(s)
		case 'R': // REDUCE
			args, err := u.pop()
			if err != nil {
				return nil, err
			}
			fn, err := u.pop()
			if err != nil {
				return nil, err
			}
			v, err := u.call(fn, args)
			if err != nil {
				return nil, err
			}
			u.push(v)
		case 'b': // BUILD: an OrderedDict's state (its _metadata) is dropped
			if _, err := u.pop(); err != nil {
				return nil, err
			}
			if len(u.stack) == 0 {
				return nil, fmt.Errorf("BUILD on an empty stack at byte %d", u.pos)
			}
		case 's', 'u': // SETITEM, SETITEMS
			var items []any
			if op == 's' {
				v, err := u.pop()
				if err != nil {
					return nil, err
				}
				k, err := u.pop()
				if err != nil {
					return nil, err
				}
				items = []any{k, v}
			} else {
				var err error
				if items, err = u.popMark(); err != nil {
					return nil, err
				}
				if len(items)%2 != 0 {
					return nil, fmt.Errorf("SETITEMS with an odd number of items at byte %d", u.pos)
				}
			}
			if len(u.stack) == 0 {
				return nil, fmt.Errorf("SETITEMS on an empty stack at byte %d", u.pos)
			}
			d, ok := u.stack[len(u.stack)-1].(*pyDict)
			if !ok {
				return nil, fmt.Errorf("SETITEMS on a %s at byte %d", typeName(u.stack[len(u.stack)-1]), u.pos)
			}
			for i := 0; i < len(items); i += 2 {
				d.keys = append(d.keys, items[i])
				d.values = append(d.values, items[i+1])
			}
		case 'a', 'e': // APPEND, APPENDS
			var items []any
			if op == 'a' {
				v, err := u.pop()
				if err != nil {
					return nil, err
				}
				items = []any{v}
			} else {
				var err error
				if items, err = u.popMark(); err != nil {
					return nil, err
				}
			}
			if len(u.stack) == 0 {
				return nil, fmt.Errorf("APPENDS on an empty stack at byte %d", u.pos)
			}
			l, ok := u.stack[len(u.stack)-1].(pyList)
			if !ok {
				return nil, fmt.Errorf("APPENDS on a %s at byte %d", typeName(u.stack[len(u.stack)-1]), u.pos)
			}
			u.stack[len(u.stack)-1] = append(l, items...)
		default:
			return nil, fmt.Errorf("opcode %#x at byte %d is not one torch.save writes for a state dict", op, u.pos-1)
		}
	}
}

// storage resolves a persistent id ('storage', StorageClass, key,
// location, size) to the bytes of the archive's data/<key> record, whose
// size must be exactly what the id claims.
func (u *unpickler) storage(pid any) (pyStorage, error) {
	t, ok := pid.(pyTuple)
	if !ok || len(t) < 5 {
		return pyStorage{}, fmt.Errorf("persistent id %v is not a storage", pid)
	}
	kind, _ := t[0].(string)
	cls, _ := t[1].(pyGlobal)
	key, _ := t[2].(string)
	n, _ := t[4].(int64)
	dtype, ok := storageDTypes[strings.TrimPrefix(string(cls), "torch.")]
	if kind != "storage" || !ok || key == "" || n < 0 {
		return pyStorage{}, fmt.Errorf("persistent id %v is not a storage", pid)
	}
	if data, ok := u.storages[key]; ok {
		return pyStorage{dtype: dtype, data: data}, nil
	}
	zf := u.records[key]
	if zf == nil {
		return pyStorage{}, fmt.Errorf("storage %s: no data/%s record in the archive", key, key)
	}
	want := uint64(n) * uint64(dtypeSize[dtype])
	if n > math.MaxInt32*8 || zf.UncompressedSize64 != want || zf.Method != zip.Store {
		return pyStorage{}, fmt.Errorf("storage %s: %d elements of %s need %d bytes, the record holds %d (stored: %v)", key, n, dtype, want, zf.UncompressedSize64, zf.Method == zip.Store)
	}
	rc, err := zf.Open()
	if err != nil {
		return pyStorage{}, fmt.Errorf("storage %s: %w", key, err)
	}
	defer rc.Close()
	// The record is stored uncompressed: its size is bounded by the file's.
	data, err := io.ReadAll(io.LimitReader(rc, int64(want)))
	if err != nil || uint64(len(data)) != want {
		return pyStorage{}, fmt.Errorf("storage %s: read %d of %d bytes: %v", key, len(data), want, err)
	}
	u.storages[key] = data
	return pyStorage{dtype: dtype, data: data}, nil
}

// call applies one of the allowed globals.
func (u *unpickler) call(fn, args any) (any, error) {
	g, ok := fn.(pyGlobal)
	if !ok {
		return nil, fmt.Errorf("REDUCE of a %s at byte %d", typeName(fn), u.pos)
	}
	a, ok := args.(pyTuple)
	if !ok {
		return nil, fmt.Errorf("%s called with a %s", g, typeName(args))
	}
	switch g {
	case "collections.OrderedDict":
		if len(a) != 0 {
			return nil, fmt.Errorf("OrderedDict called with %d arguments", len(a))
		}
		return &pyDict{}, nil
	case "torch._utils._rebuild_parameter":
		if len(a) < 1 {
			return nil, fmt.Errorf("_rebuild_parameter without a tensor")
		}
		if t, ok := a[0].(Tensor); ok {
			return t, nil
		}
		return nil, fmt.Errorf("_rebuild_parameter of a %s", typeName(a[0]))
	case "torch._utils._rebuild_tensor_v2":
		return rebuildTensor(a)
	}
	return nil, fmt.Errorf("%s cannot be called", g)
}

// rebuildTensor is _rebuild_tensor_v2(storage, offset, size, stride, …)
// for a contiguous tensor.
func rebuildTensor(a pyTuple) (Tensor, error) {
	if len(a) < 4 {
		return Tensor{}, fmt.Errorf("_rebuild_tensor_v2 with %d arguments", len(a))
	}
	s, ok := a[0].(pyStorage)
	offset, ok2 := a[1].(int64)
	size, ok3 := a[2].(pyTuple)
	stride, ok4 := a[3].(pyTuple)
	if !ok || !ok2 || !ok3 || !ok4 || len(size) != len(stride) || offset < 0 {
		return Tensor{}, fmt.Errorf("_rebuild_tensor_v2 with unexpected arguments")
	}
	shape := make([]int, len(size))
	elems, want := int64(1), int64(1)
	for i := len(size) - 1; i >= 0; i-- {
		d, ok := size[i].(int64)
		st, ok2 := stride[i].(int64)
		if !ok || !ok2 || d < 0 || d > math.MaxInt32 {
			return Tensor{}, fmt.Errorf("_rebuild_tensor_v2: bad size or stride")
		}
		if d > 1 && st != want {
			return Tensor{}, fmt.Errorf("a tensor of size %v with strides %v is not contiguous", size, stride)
		}
		shape[i] = int(d)
		want *= d
		elems *= d
		if elems > int64(len(s.data)) {
			return Tensor{}, fmt.Errorf("a tensor of size %v is larger than its storage", size)
		}
	}
	es := int64(dtypeSize[s.dtype])
	if (offset+elems)*es > int64(len(s.data)) {
		return Tensor{}, fmt.Errorf("a tensor of size %v at offset %d runs past its storage of %d bytes", size, offset, len(s.data))
	}
	return Tensor{DType: s.dtype, Shape: shape, Data: s.data[offset*es : (offset+elems)*es]}, nil
}
