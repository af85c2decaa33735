package traincmd

import (
	"runtime"

	"github.com/pelletier/go-toml/v2"
)

func tomlUnmarshal(s string, v any) error { return toml.Unmarshal([]byte(s), v) }

func maxProcs() int { return runtime.GOMAXPROCS(0) }
