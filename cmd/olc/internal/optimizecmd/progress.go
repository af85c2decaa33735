package optimizecmd

import (
	"fmt"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
)

// progress reports a study's progress on stderr: complete trials against
// the target, the best value and the failures, with a line for each trial
// whose objective failed.
type progress struct {
	p *cmdutil.Progress
}

func newProgress(ios *cmdutil.IOStreams, bar bool, study *experiments.Study) *progress {
	return &progress{p: cmdutil.NewProgress(ios, bar, "study "+study.Name)}
}

// event is the runner's OnEvent.
func (p *progress) event(e experiments.Event) {
	p.p.NoteFailedTrial(e)
	done := e.Counts.Complete + e.Counts.Pruned
	detail := fmt.Sprintf("%d of %d complete", min(done, e.Target), e.Target)
	if e.Counts.Pruned > 0 {
		detail = fmt.Sprintf("%d of %d complete or pruned (%d pruned)", min(done, e.Target), e.Target, e.Counts.Pruned)
	}
	if e.Best != nil {
		detail += ", best " + formatValue(e.Best.Value)
	}
	if e.Counts.Failed > 0 {
		detail += fmt.Sprintf(", %d failed", e.Counts.Failed)
	}
	p.p.SetCount(done, e.Target, detail)
}

func (p *progress) finish() { p.p.Finish() }
