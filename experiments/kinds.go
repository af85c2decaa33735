package experiments

import (
	"fmt"
	"slices"
	"sync"
)

// An ObjectiveKind builds the objective of an [objective] kind that
// another package provides: from the path of the config file the table's
// config key names (resolved against the study's folder) and the names of
// the parameters the study varies. An error that is a *[ParamKeyError] is
// blamed on that parameter's key, any other on objective.config.
type ObjectiveKind func(path string, params []string) (Objective, error)

// The registry of objective kinds, filled by the packages that provide
// them when they are initialized, the way database/sql's drivers register.
var (
	kindsMu sync.RWMutex
	kinds   = map[string]ObjectiveKind{}
)

// RegisterObjective makes an objective kind available to every study and
// ablation config of the program: kind = "<kind>" with a config key. The
// providing package calls it from its init function (the train package
// registers "train"), so that a program gets the kind by importing the
// package. It panics when the kind is builtin, command, or registered
// already.
func RegisterObjective(kind string, build ObjectiveKind) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if build == nil {
		panic("experiments: RegisterObjective of a nil builder for kind " + kind)
	}
	if kind == "builtin" || kind == "command" || kinds[kind] != nil {
		panic(fmt.Sprintf("experiments: objective kind %q registered twice", kind))
	}
	kinds[kind] = build
}

// registeredKind returns the builder of a registered kind.
func registeredKind(kind string) (ObjectiveKind, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	b, ok := kinds[kind]
	return b, ok
}

// ObjectiveKinds lists every kind a config may name: builtin, command,
// external, then the registered ones in order.
func ObjectiveKinds() []string {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := []string{"builtin", "command", External}
	for k := range kinds {
		out = append(out, k)
	}
	slices.Sort(out[3:])
	return out
}
