// Command olc is an open research toolkit for long-context language-model
// experiments: hyperparameter search, scaling-law fits, ablations, training
// and question answering, with one record of everything that ran.
package main

import (
	"os"

	"github.com/olc-toolkit/olc/cmd/olc/internal/root"
	"github.com/olc-toolkit/olc/internal/supervise"
)

func main() {
	supervise.Init() // olc's executable also supervises the commands it runs
	os.Exit(root.Main())
}
