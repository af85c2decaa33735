package cmdutil

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

// DefaultProgressInterval is how often long work prints a line when stderr
// is not a terminal.
const DefaultProgressInterval = 10 * time.Second

// Progress reports long work on stderr: a bar when stderr is a terminal
// (or the command's --progress asks for one), otherwise a plain line at
// most every ProgressInterval, with the fraction done, what the work says
// of itself, the time spent and the time left. Notes (an evaluation, a
// failed trial) go on lines of their own in both cases. A Progress is safe
// for concurrent use.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	bar      *progressbar.ProgressBar
	title    string
	interval time.Duration
	start    time.Time
	last     time.Time // of the last plain line
	frac     float64
	detail   string
	done     bool
}

// NewProgress starts reporting the work called title (a bar when bar is
// true or stderr is a terminal).
func NewProgress(ios *IOStreams, bar bool, title string) *Progress {
	now := time.Now()
	p := &Progress{w: ios.ErrOut, title: title, interval: ios.ProgressInterval, start: now, last: now}
	if p.interval <= 0 {
		p.interval = DefaultProgressInterval
	}
	if bar || ios.StderrTTY {
		w := ios.ErrOut
		p.bar = progressbar.NewOptions(1000,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(title),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	}
	return p
}

// Set reports the fraction of the work done (0 to 1) and a description of
// where it stands ("step 120 of 400, loss 0.41").
func (p *Progress) Set(frac float64, detail string) {
	if math.IsNaN(frac) {
		frac = 0
	}
	frac = min(max(frac, 0), 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.frac, p.detail = frac, detail
	if p.bar != nil {
		desc := p.title
		if detail != "" {
			desc += " " + detail
		}
		p.bar.Describe(desc)
		p.bar.Set(int(frac * 1000))
		return
	}
	if now := time.Now(); now.Sub(p.last) >= p.interval {
		p.last = now
		fmt.Fprintln(p.w, p.line(now))
	}
}

// SetCount reports done units of total.
func (p *Progress) SetCount(done, total int, detail string) {
	f := 1.0
	if total > 0 {
		f = float64(done) / float64(total)
	}
	p.Set(f, detail)
}

// line is the plain progress line at now.
func (p *Progress) line(now time.Time) string {
	var b strings.Builder
	elapsed := now.Sub(p.start)
	fmt.Fprintf(&b, "%s: %.0f%%", p.title, 100*p.frac)
	if p.detail != "" {
		b.WriteString(", " + p.detail)
	}
	fmt.Fprintf(&b, ", %s elapsed", Duration(elapsed))
	if p.frac > 0 && p.frac < 1 {
		left := time.Duration(float64(elapsed) * (1 - p.frac) / p.frac)
		fmt.Fprintf(&b, ", about %s left", Duration(left))
	}
	return b.String()
}

// Note prints a line of its own (above the bar on a terminal).
func (p *Progress) Note(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil && !p.done {
		p.bar.Clear()
	}
	fmt.Fprintf(p.w, format+"\n", args...)
	if p.bar != nil && !p.done {
		p.bar.RenderBlank()
	}
}

// Finish ends the report: the bar is completed, or cleared when the work
// stopped short.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	if p.bar == nil {
		return
	}
	if p.frac >= 1 {
		p.bar.Finish()
		return
	}
	p.bar.Exit()
	fmt.Fprintln(p.w)
}

// Duration writes a duration for people: 42s, 3m05s, 2h10m.
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// NoteFailedTrial prints a line for a trial whose objective failed (not one
// that was interrupted or lost), for the runner's events.
func (p *Progress) NoteFailedTrial(e experiments.Event) {
	if e.Kind == experiments.TrialFinished && e.Trial.State == optimize.Failed && e.Trial.Reason == experiments.ReasonError {
		p.Note("olc: trial %d failed: %s", e.Trial.Number, e.Trial.ErrorSummary())
	}
}
