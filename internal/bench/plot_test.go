package bench

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestWritePlot plots a report made up here (every kind of panel) and
// checks that the file is a PNG of a sensible size.
func TestWritePlot(t *testing.T) {
	rep := &Report{}
	add := func(mech string, kind caseKind, size, clients int, names ...string) {
		c := &benchCase{name: mech + "-" + string(kind) + "-" + SizeName(size), mechanism: mech, kind: kind, size: size, clients: clients}
		for _, n := range names {
			c.transports = append(c.transports, transport{name: n})
		}
		r := newResult(c)
		for rep := range 3 {
			var stats []Stat
			for i := range names {
				ns := float64(1000*(i+1)*(rep+1)) * float64(size) / 64
				var lat []float64
				for k := range 50 {
					lat = append(lat, ns*(1+float64(k)/10))
				}
				stats = append(stats, sample{ops: 50, elapsed: 50 * 1000, latSum: 50 * 1000, lat: lat}.stat(kind, size))
			}
			r.add(stats)
		}
		r.finish()
		rep.Results = append(rep.Results, *r)
	}
	for _, size := range []int{64, 64 << 10, 4 << 20} {
		add("pipe", kindRTT, size, 1, "pipe", "unix", "tcp")
		add("pipe", kindTput, size, 1, "pipe", "unix", "tcp")
		add("shm", kindTput, size, 1, "ring", "memcpy", "unix")
	}
	add("pipe", kindRTT, 64, 4, "pipe", "unix", "tcp")
	add("mailslot", kindRTT, 64, 1, "mailslot", "unixgram")
	add("msg", kindTput, 64, 1, "msgq", "pipe")
	// Not t.TempDir: under Wine, Go's RemoveAll fails on files (see
	// internal/cli's removeTree); os.Remove works.
	dir, err := os.MkdirTemp("", "xipc-bench-plot")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "b.png")
	t.Cleanup(func() {
		for _, p := range []string{file, dir} {
			if err := os.Remove(p); err != nil {
				t.Error(err)
			}
		}
	})
	if err := WritePlot(file, rep); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, file)

	if err := WritePlot(file, &Report{}); err == nil {
		t.Error("WritePlot of an empty report: no error")
	}
	if err := WritePlot(filepath.Join(dir, "no", "such", "dir.png"), rep); err == nil {
		t.Error("WritePlot into a missing directory: no error")
	}
}

func checkPNG(t *testing.T, file string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", file, err)
	}
	if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
		t.Errorf("%s: %v, too small", file, b)
	}
}
