package bench

import (
	"fmt"
	"image/color"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// WritePlot writes a PNG of rep to file: for each mechanism the
// distribution of round-trip times at the smallest size (xipc and its
// baselines), throughput by message size, and, when the run had several
// client counts, pipe round trips per second by number of clients.
func WritePlot(file string, rep *Report) error {
	plots, err := buildPlots(rep)
	if err != nil {
		return err
	}
	if len(plots) == 0 {
		return fmt.Errorf("plot: nothing to plot")
	}
	const cols = 2
	rows := (len(plots) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	for i, p := range plots {
		grid[i/cols][i%cols] = p
	}
	w, h := 30*vg.Centimeter, vg.Length(rows)*11*vg.Centimeter
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadTop: vg.Centimeter / 2, PadBottom: vg.Centimeter / 2,
		PadLeft: vg.Centimeter / 2, PadRight: vg.Centimeter / 2, PadX: vg.Centimeter, PadY: vg.Centimeter}
	canvases := plot.Align(grid, tiles, dc)
	for j := range grid {
		for i, p := range grid[j] {
			if p != nil {
				p.Draw(canvases[j][i])
			}
		}
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot: %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}

func buildPlots(rep *Report) ([]*plot.Plot, error) {
	var plots []*plot.Plot
	// Latency: per mechanism, the smallest size's single-client round trip.
	for _, mech := range Mechanisms {
		r := firstCase(rep.Results, func(r *Result) bool {
			return r.Mechanism == mech && r.Kind == string(kindRTT) && r.Clients == 1
		})
		if r == nil {
			continue
		}
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s: round-trip time, %s-byte messages (CDF)", mech, SizeName(r.Size))
		p.X.Label.Text = "round trip (µs, log scale)"
		p.Y.Label.Text = "fraction of round trips ≤ x"
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		p.Legend.Top, p.Legend.Left = false, false
		p.Add(plotter.NewGrid())
		for i, t := range r.Transports {
			xys := cdf(t.Sketch)
			if len(xys) == 0 {
				continue
			}
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			l.Color, l.Width = plotutil.Color(i), vg.Points(1.5)
			p.Add(l)
			p.Legend.Add(fmt.Sprintf("%s (p50 %s, p99 %s)", t.Name, FormatNS(t.P50NS), FormatNS(t.P99NS)), l)
		}
		plots = append(plots, p)
	}
	// Throughput by size: a line per mechanism and transport.
	p := plot.New()
	p.Title.Text = "one-way throughput by message size"
	p.X.Label.Text = "message size (bytes, log scale)"
	p.Y.Label.Text = "MB/s (log scale)"
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	// Bottom right: every transport is fast at large sizes, so the lines
	// leave that corner free.
	p.Legend.Top, p.Legend.Left = false, false
	p.Add(plotter.NewGrid())
	n, err := addSeries(p, rep.Results, func(r *Result) bool { return r.Kind == string(kindTput) },
		func(r *Result) float64 { return float64(r.Size) }, func(t *TransportResult) float64 { return t.MBs })
	if err != nil {
		return nil, err
	}
	if n > 0 {
		plots = append(plots, p)
	}
	// Clients: pipe round trips per second by number of clients.
	p = plot.New()
	p.Title.Text = "pipe round trips per second by clients"
	p.X.Label.Text = "concurrent clients"
	p.Y.Label.Text = "round trips/s"
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	smallest := 0
	for _, r := range rep.Results {
		if r.Mechanism == "pipe" && r.Kind == string(kindRTT) && r.Clients > 1 {
			smallest = r.Size
		}
	}
	if smallest > 0 {
		if _, err := addSeries(p, rep.Results, func(r *Result) bool {
			return r.Mechanism == "pipe" && r.Kind == string(kindRTT) && r.Size == smallest
		}, func(r *Result) float64 { return float64(r.Clients) }, func(t *TransportResult) float64 { return t.MsgsS }); err != nil {
			return nil, err
		}
		plots = append(plots, p)
	}
	return plots, nil
}

func firstCase(rs []Result, f func(*Result) bool) *Result {
	for i := range rs {
		if f(&rs[i]) {
			return &rs[i]
		}
	}
	return nil
}

// addSeries adds to p a line per mechanism and transport through the
// results that keep selects, at (x(result), y(transport)); it returns the
// number of lines.
func addSeries(p *plot.Plot, rs []Result, keep func(*Result) bool, x func(*Result) float64, y func(*TransportResult) float64) (int, error) {
	series := map[string]plotter.XYs{}
	var order []string
	for i := range rs {
		r := &rs[i]
		if !keep(r) {
			continue
		}
		for j := range r.Transports {
			t := &r.Transports[j]
			if t.Skipped != "" || y(t) <= 0 {
				continue
			}
			key := r.Mechanism + " " + t.Name
			if r.Mechanism == t.Name {
				key = t.Name
			}
			if _, ok := series[key]; !ok {
				order = append(order, key)
			}
			series[key] = append(series[key], plotter.XY{X: x(r), Y: y(t)})
		}
	}
	// A series of one point (msg-post at 64 B only) says nothing of a
	// trend: leave it out when others have more.
	long := slices.ContainsFunc(order, func(k string) bool { return len(series[k]) > 1 })
	if long {
		order = slices.DeleteFunc(order, func(k string) bool { return len(series[k]) < 2 })
	}
	for i, key := range order {
		xys := series[key]
		slices.SortFunc(xys, func(a, b plotter.XY) int { return int(a.X - b.X) })
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return 0, err
		}
		l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i / 7)
		s.Shape = plotutil.Shape(i)
		p.Add(l, s)
		p.Legend.Add(key, l, s)
	}
	return len(order), nil
}

// cdf turns a sketch of round-trip times in ns (quantiles pooled over the
// repeats) into the points of its cumulative distribution, in µs.
func cdf(sketch []float64) plotter.XYs {
	s := slices.Clone(sketch)
	slices.Sort(s)
	var xys plotter.XYs
	for i, v := range s {
		if v > 0 {
			xys = append(xys, plotter.XY{X: v / 1e3, Y: float64(i+1) / float64(len(s))})
		}
	}
	return xys
}
