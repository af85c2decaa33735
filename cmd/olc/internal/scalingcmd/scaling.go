// Package scalingcmd implements 'olc scaling': fitting scaling laws to
// results and predicting from the fits.
package scalingcmd

import (
	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
)

// NewCmdScaling returns 'olc scaling'.
func NewCmdScaling(ios *cmdutil.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scaling",
		Short: "Fit scaling laws with bootstrap intervals, compute-optimal allocation and extrapolation checks",
		Long: `Fit scaling laws to the results of training runs, the way Hoffmann et al. 2022
(Chinchilla, Approach 3) did and Besiroglu et al. 2024 showed it must be done:
the Huber loss of log residuals minimized by L-BFGS from a grid of thousands of
starts to a tight tolerance, and bootstrap intervals for every parameter and
every derived quantity.

Laws: chinchilla  L(N, D) = E + A/N^alpha + B/D^beta
      kaplan      L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D
      kaplan-n    L(N) = (N_c/N)^alpha_N        kaplan-d  L(D) = (D_c/D)^alpha_D
      power       L(x) = E + A*x^(-alpha)       power2    L(x) = A*x^(-alpha)
      context     L(c) = (alpha/c)^beta + gamma  (loss against context length)`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.ShowHelp,
	}
	cmd.AddCommand(newCmdFit(ios, nil), newCmdPredict(ios, nil), newCmdGenerate(ios, nil))
	return cmd
}
