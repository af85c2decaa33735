package optimizecmd

import (
	"fmt"
	"io"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/schollz/progressbar/v3"
)

// progress shows a study's progress on stderr.
type progress struct {
	bar   *progressbar.ProgressBar
	w     io.Writer
	study *experiments.Study
}

func newProgress(w io.Writer, study *experiments.Study, target int) *progress {
	bar := progressbar.NewOptions(target,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(study.Name),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	return &progress{bar: bar, w: w, study: study}
}

// event updates the bar; the runner calls it after every trial event.
func (p *progress) event(e experiments.Event) {
	desc := p.study.Name
	if e.Best != nil {
		desc = fmt.Sprintf("%s best %s", p.study.Name, formatValue(e.Best.Value))
	}
	if e.Counts.Failed > 0 {
		desc += fmt.Sprintf(" (%d failed)", e.Counts.Failed)
	}
	p.bar.Describe(desc)
	p.bar.Set(min(e.Counts.Complete, e.Target))
}

func (p *progress) finish() {
	if !p.bar.IsFinished() {
		p.bar.Exit()
		fmt.Fprintln(p.w)
	}
}
