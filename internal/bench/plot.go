package bench

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is one line of a plot: medians with the range of repetitions.
type Series struct {
	Name   string
	X      []float64
	Y      []float64
	Lo, Hi []float64 // error bar ends; nil for none
	Color  color.Color
	Dashed bool
}

var (
	colorFast      = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colorReference = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colorBaseline  = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	colorTarget    = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	colorPipes     = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
)

// LogPlot draws series on log-log axes into a PNG file.
func LogPlot(file, title, xLabel, yLabel string, series []Series) error {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for i := range s.X {
			xmin, xmax = math.Min(xmin, s.X[i]), math.Max(xmax, s.X[i])
			lo, hi := s.Y[i], s.Y[i]
			if s.Lo != nil {
				lo, hi = s.Lo[i], s.Hi[i]
			}
			ymin, ymax = math.Min(ymin, lo), math.Max(ymax, hi)
		}
	}
	p.X.Min, p.X.Max = xmin/1.15, xmax*1.15
	p.Y.Min, p.Y.Max = ymin/1.5, ymax*1.5
	p.X.Tick.Marker = ticks125{}
	p.Y.Tick.Marker = ticks125{}
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	// Draw the last series first, so that the first ones are on top; the
	// legend keeps the given order.
	legend := make([][]plot.Thumbnailer, len(series))
	for k := len(series) - 1; k >= 0; k-- {
		s := series[k]
		xys := make(plotter.XYs, len(s.X))
		for i := range s.X {
			xys[i] = plotter.XY{X: s.X[i], Y: s.Y[i]}
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("plot %s: %w", s.Name, err)
		}
		l.Color, pts.Color = s.Color, s.Color
		l.Width = vg.Points(1.5)
		pts.Shape = draw.CircleGlyph{}
		pts.Radius = vg.Points(2.5)
		if s.Dashed {
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			l.Width = vg.Points(2)
			pts.Radius = 0
		}
		p.Add(l, pts)
		if s.Lo != nil {
			bars := make(errorXYs, len(s.X))
			for i := range s.X {
				bars[i] = errorXY{x: s.X[i], y: s.Y[i], lo: s.Y[i] - s.Lo[i], hi: s.Hi[i] - s.Y[i]}
			}
			eb, err := plotter.NewYErrorBars(bars)
			if err != nil {
				return err
			}
			eb.Color = s.Color
			p.Add(eb)
		}
		legend[k] = []plot.Thumbnailer{l, pts}
	}
	for k, s := range series {
		p.Legend.Add(s.Name, legend[k]...)
	}
	c := vgimg.NewWith(vgimg.UseWH(7*vg.Inch, 4.5*vg.Inch), vgimg.UseDPI(140))
	dc := draw.New(c)
	dc.SetColor(color.White)
	p.BackgroundColor = color.White
	p.Draw(dc)
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

type errorXY struct{ x, y, lo, hi float64 }

type errorXYs []errorXY

func (e errorXYs) Len() int                        { return len(e) }
func (e errorXYs) XY(i int) (float64, float64)     { return e[i].x, e[i].y }
func (e errorXYs) YError(i int) (float64, float64) { return e[i].lo, e[i].hi }

// ticks125 marks 1, 2 and 5 times each power of ten, labelled plainly
// (200, 5k, 1M), with minor ticks between.
type ticks125 struct{}

func (ticks125) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)) - 1; e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = shortNumber(v)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// shortNumber writes 1500 as 1.5k, 2e6 as 2M, 0.05 as 0.05.
func shortNumber(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 3, 64) + "G"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case a >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
