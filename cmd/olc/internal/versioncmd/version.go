// Package versioncmd implements 'olc version'.
package versioncmd

import (
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
}

// NewCmdVersion returns the version command.
func NewCmdVersion(ios *cmdutil.IOStreams, version string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print olc's version, its Go version, platform and BLAS backend",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			info := Info{Version: version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, BLAS: model.Backend}
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						info.Commit = s.Value
					}
				}
			}
			if asJSON {
				return cmdutil.PrintJSON(ios.Out, info)
			}
			fmt.Fprintf(ios.Out, "olc %s\n", info.Version)
			if info.Commit != "" {
				fmt.Fprintf(ios.Out, "commit: %s\n", info.Commit)
			}
			fmt.Fprintf(ios.Out, "go: %s %s/%s\n", info.Go, info.OS, info.Arch)
			fmt.Fprintf(ios.Out, "blas: %s\n", info.BLAS)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the version as JSON")
	return cmd
}
