package bench

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// NewProgress returns the Progress to show on w: a progress bar when w is
// a terminal, one plain line per measurement otherwise (logs, CI).
func NewProgress(w io.Writer) Progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w}
}

// lineProgress prints a line per measurement.
type lineProgress struct {
	mu       sync.Mutex
	w        io.Writer
	n, total int
}

func (p *lineProgress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
}

func (p *lineProgress) Step(caseName, transport string, repeat, repeats int, s Stat) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	what := FormatNS(s.NS) + "/op"
	if s.Skipped != "" {
		what = "skipped: " + s.Skipped
	}
	fmt.Fprintf(p.w, "bench [%d/%d] %s %s repeat %d/%d: %s\n", p.n, p.total, caseName, transport, repeat, repeats, what)
}

func (p *lineProgress) Done() {}

// barProgress draws a progress bar that names the measurement under way.
type barProgress struct {
	mu  sync.Mutex
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("bench"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)
}

func (p *barProgress) Step(caseName, transport string, repeat, repeats int, s Stat) {
	p.mu.Lock()
	defer p.mu.Unlock()
	last := FormatNS(s.NS) + "/op"
	if s.Skipped != "" {
		last = "skipped"
	}
	p.bar.Describe(fmt.Sprintf("%-20s %-8s %d/%d %9s", caseName, transport, repeat, repeats, last))
	_ = p.bar.Add(1) // it only fails to draw on a closed terminal
}

func (p *barProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Finish() // as Add
	_ = p.bar.Clear()
}

// FormatNS formats a time in nanoseconds with a unit that keeps three or
// four significant digits: 512ns, 31.2µs, 1.25ms.
func FormatNS(ns float64) string {
	switch {
	case ns <= 0:
		return "-"
	case ns < 1e3:
		return fmt.Sprintf("%.0fns", ns)
	case ns < 1e4:
		return fmt.Sprintf("%.2fµs", ns/1e3)
	case ns < 1e6:
		return fmt.Sprintf("%.1fµs", ns/1e3)
	case ns < 1e7:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns < 1e9:
		return fmt.Sprintf("%.1fms", ns/1e6)
	}
	return fmt.Sprintf("%.2fs", ns/1e9)
}
