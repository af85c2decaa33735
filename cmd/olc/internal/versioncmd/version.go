// Package versioncmd implements 'olc version'.
package versioncmd

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/model"
)

// Info is what 'olc version' reports.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	// BLAS names the backend of the model's matrix products.
	BLAS string `json:"blas"`
	// SIMD names olc's own vector kernels (model.SIMD).
	SIMD string `json:"simd"`
	// BF16 names the route of --precision bf16 (model.BF16Route).
	BF16 string `json:"bf16"`
}

// VersionOptions are the options of 'olc version'.
type VersionOptions struct {
	IO      *cmdutil.IOStreams
	Version string
	JSON    bool
}

// NewCmdVersion returns the version command. runF, when not nil, replaces
// the run (for tests of flag parsing).
func NewCmdVersion(ios *cmdutil.IOStreams, version string, runF func(context.Context, *VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: ios, Version: version}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print olc's version, its Go version, platform, BLAS backend, vector kernels and bf16 route",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runVersion(cmd.Context(), opts)
		},
	}
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

func runVersion(_ context.Context, opts *VersionOptions) error {
	info := Info{Version: opts.Version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, BLAS: model.Backend, SIMD: model.SIMD(), BF16: model.BF16Route()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				info.Commit = s.Value
			}
		}
	}
	w := opts.IO.Out
	if opts.JSON {
		return cmdutil.PrintJSON(w, info)
	}
	fmt.Fprintf(w, "olc %s\n", info.Version)
	if info.Commit != "" {
		fmt.Fprintf(w, "commit: %s\n", info.Commit)
	}
	fmt.Fprintf(w, "go: %s %s/%s\n", info.Go, info.OS, info.Arch)
	fmt.Fprintf(w, "blas: %s\n", info.BLAS)
	fmt.Fprintf(w, "simd: %s\n", info.SIMD)
	fmt.Fprintf(w, "bf16: %s\n", info.BF16)
	return nil
}
