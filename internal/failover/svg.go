package failover

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// SVGOptions are what a drawing shows beyond the failover report: the RTO
// limit a rehearsal judged the run against (0 draws none) and why.
type SVGOptions struct {
	LimitSeconds float64
	LimitFrom    string
}

// Geometry of the drawing, in viewBox units (1 unit = 1 px at 1000 px
// wide). Labels are monospace so their widths are known without a font:
// 11 px monospace is 0.6 em = 6.6 px a character.
const (
	svgWidth   = 1000.0
	plotLeft   = 110.0 // lane names to the left
	plotRight  = 975.0
	fontSize   = 11.0
	charWidth  = 6.6
	rowHeight  = 14.0 // one row of labels
	labelGap   = 8.0  // space kept between two labels of one row
	laneMarkDY = 11.0 // the marks' line below a lane's top
)

// shortLabels are the labels of the marks; the full name and the detail
// are the mark's tooltip.
var shortLabels = map[string]string{
	EventKill: "terminate requested", EventShuttingDown: "shutting-down", EventOldAnswers: "old agent answers",
	EventAppDown: "app down", EventInstanceDown: "terminated", EventVolumeDetached: "detached",
	EventAgentLost: "agent lost", EventTaskStaged: "task staged", EventVolumeAttached: "attached",
	EventTaskRunning: "TASK_RUNNING", EventOldOutOfService: "old out of service", EventNewInService: "new in service",
	EventAppServed: "served again", EventClicksReadBack: "clicks read back", EventDeadlineExceeded: "deadline exceeded",
	EventRecoveryHeld: "held", EventRecoveryBroken: "did not hold", EventReplacementLost: "replacement lost",
}

// laneNames are the lanes' titles.
var laneNames = map[string]string{
	SourceEC2: "EC2", SourceMesos: "Mesos", SourceMarathon: "Marathon", SourceVolume: "EBS volume",
	SourceELB: "ELB", SourceApp: "app answers", SourceClicks: "clicks",
}

// WriteSVGFile writes the drawing of r to path.
func WriteSVGFile(path string, r Report, o SVGOptions) error {
	var b bytes.Buffer
	if err := WriteSVG(&b, r, o); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing the failover drawing: %w", err)
	}
	return nil
}

// WriteSVG draws r as an SVG timeline: one lane per source (Sources, in
// order, then any other source the report names; the masters' lane only
// when it has events), each event a mark at its time since the kill with a
// short label, the kill at 0 and the RTO as lines across the lanes; below,
// the measured RTO as a bar beside the budget's steps, on the timeline's
// own time axis; above, a caption whose title says when the run was a
// stand-in's. The output depends on r and o only: fixed float formatting,
// no clock.
func WriteSVG(w io.Writer, r Report, o SVGOptions) error {
	var d drawing
	sc := newScale(timeAxisMax(r, o))
	d.caption(r, o)
	d.timeline(r, sc)
	d.budget(r, o, sc)
	var out bytes.Buffer
	fmt.Fprintf(&out, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="%s" height="%s" font-family="monospace" font-size="%s">`+"\n",
		num(svgWidth), num(d.y), num(svgWidth), num(d.y), num(fontSize))
	out.WriteString(`<rect class="background" x="0" y="0" width="100%" height="100%" fill="#ffffff"/>` + "\n")
	out.Write(d.b.Bytes())
	out.WriteString("</svg>\n")
	_, err := w.Write(out.Bytes())
	return err
}

// timeAxisMax is the latest time either half of the drawing shows: the
// last event, the RTO, the budget (an alongside step may end after the
// stacked ones) and the limit. Both halves share one axis up to it, so a
// second reads the same length in the timeline and in the budget.
func timeAxisMax(r Report, o SVGOptions) float64 {
	maxT := math.Max(math.Max(r.RTOSeconds, r.Budget.Seconds), o.LimitSeconds)
	for _, e := range r.Timeline {
		maxT = math.Max(maxT, e.SinceKillSeconds)
	}
	for _, s := range r.Budget.Steps {
		if s.Alongside {
			maxT = math.Max(maxT, s.FromSeconds+s.Seconds)
		}
	}
	return maxT
}

// drawing accumulates the elements; y is the bottom drawn so far.
type drawing struct {
	b bytes.Buffer
	y float64
}

func (d *drawing) printf(format string, a ...any) { fmt.Fprintf(&d.b, format+"\n", a...) }

// text writes one text element, its content escaped.
func (d *drawing) text(class string, x, y float64, anchor, s string, extra string) {
	d.printf(`<text class="%s" x="%s" y="%s" text-anchor="%s"%s>%s</text>`, class, num(x), num(y), anchor, extra, esc(s))
}

// caption is the title and the outcome: stack, driver, mode, RTO against
// the budget (and the limit), clicks lost.
func (d *drawing) caption(r Report, o SVGOptions) {
	d.y = 22
	title := fmt.Sprintf("Failover of stack %s: %s volume, %s kill", orUnknown(r.Stack), orUnknown(r.Budget.Driver), orUnknown(string(r.Mode)))
	if r.TimeScale > 1 {
		title = "Stand-in run, simulated, not AWS: f" + title[1:]
	}
	d.text("title", 12, d.y, "start", title, ` font-size="14" font-weight="bold"`)
	d.y += 18
	var outcome string
	if r.Recovered {
		outcome = fmt.Sprintf("recovered on %s: RTO %ss against a budget of %ss", orUnknown(r.NewHost), sec(r.RTOSeconds), sec(r.Budget.Seconds))
	} else {
		outcome = fmt.Sprintf("NOT recovered (budget %ss): %s", sec(r.Budget.Seconds), orUnknown(r.Error))
	}
	if o.LimitSeconds > 0 {
		outcome += fmt.Sprintf("; limit %ss", sec(o.LimitSeconds))
		if o.LimitFrom != "" {
			outcome += " (" + o.LimitFrom + ")"
		}
	}
	d.text("caption", 12, d.y, "start", outcome, "")
	d.y += 16
	clicks := fmt.Sprintf("clicks: %d written before the kill, %d lost", r.ClicksWritten, len(r.ClicksLost))
	if len(r.ClicksLost) > 0 {
		clicks += ": " + strings.Join(r.ClicksLost, " ")
	}
	d.text("caption", 12, d.y, "start", clicks, "")
	d.y += 14
	if r.TimeScale > 1 {
		d.y += 2
		d.text("caption time-scale", 12, d.y, "start", fmt.Sprintf("A stand-in run %s times faster than the stack, every time multiplied back by %s: times at the stack's scale; budget the stack's own.",
			strconv.FormatFloat(r.TimeScale, 'f', -1, 64), strconv.FormatFloat(r.TimeScale, 'f', -1, 64)), ` font-style="italic"`)
		d.y += 14
	}
}

// mark is one event placed in its lane.
type mark struct {
	e          Event
	x          float64
	row        int
	labelX     float64
	anchor     string
	start, end float64 // the label's extent
}

// timeline draws the lanes and their marks; a lane without any says so.
func (d *drawing) timeline(r Report, scale scale) {
	top := d.y + 24
	lanes, byLane := lanesOf(r)
	y := top
	type placed struct {
		source string
		top    float64
		h      float64
		marks  []mark
	}
	var all []placed
	for _, src := range lanes {
		marks := layout(byLane[src], scale)
		rows := 1
		for _, m := range marks {
			rows = max(rows, m.row+1)
		}
		h := laneMarkDY + float64(rows)*rowHeight + 6
		all = append(all, placed{src, y, h, marks})
		y += h
	}
	bottom := y
	// The axis: ticks and grid over all lanes.
	d.printf(`<g class="axis">`)
	for _, t := range scale.ticks() {
		x := scale.x(t)
		d.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e4e4e4"/>`, num(x), num(top), num(x), num(bottom))
		d.text("tick", x, top-6, "middle", scale.label(t)+"s", ` fill="#555555"`)
	}
	d.printf(`</g>`)
	for i, p := range all {
		fill := "#f7f7f7"
		if i%2 == 1 {
			fill = "#ffffff"
		}
		d.printf(`<g class="lane" data-source="%s">`, esc(p.source))
		d.printf(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.6"/>`, num(0), num(p.top), num(svgWidth), num(p.h), fill)
		d.text("lane-name", 12, p.top+laneMarkDY+4, "start", laneName(p.source), ` font-weight="bold"`)
		if len(p.marks) == 0 {
			d.text("no-event", plotLeft+6, p.top+laneMarkDY+4, "start", "nothing seen", ` fill="#555555" font-style="italic"`)
		}
		for _, m := range p.marks {
			title := fmt.Sprintf("+%ss %s", sec(m.e.SinceKillSeconds), m.e.Name)
			if m.e.Detail != "" {
				title += ": " + m.e.Detail
			}
			d.printf(`<circle class="mark" data-event="%s" cx="%s" cy="%s" r="4" fill="%s"><title>%s</title></circle>`,
				esc(m.e.Name), num(m.x), num(p.top+laneMarkDY), markColour(m.e.Name), esc(title))
			ly := p.top + laneMarkDY + float64(m.row+1)*rowHeight
			d.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999999"/>`, num(m.x), num(p.top+laneMarkDY+4), num(m.x), num(ly-fontSize+2))
			d.text("label", m.labelX, ly, m.anchor, shortLabel(m.e.Name), "")
		}
		d.printf(`</g>`)
	}
	// The kill at 0 and the RTO across the lanes.
	x0 := scale.x(0)
	d.printf(`<line class="kill" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#c62828" stroke-width="2"/>`, num(x0), num(top), num(x0), num(bottom))
	if r.Recovered {
		x := scale.x(r.RTOSeconds)
		d.printf(`<line class="rto-line" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#2e7d32" stroke-width="2" stroke-dasharray="6 3"/>`, num(x), num(top), num(x), num(bottom))
	}
	d.y = bottom + 16
	axis := "seconds since the terminate request (lines: kill at 0, RTO dashed)"
	if r.TimeScale > 1 {
		axis = fmt.Sprintf("seconds since the terminate request, at the stack's scale (stand-in time x%s; lines: kill at 0, RTO dashed)", strconv.FormatFloat(r.TimeScale, 'f', -1, 64))
	}
	d.text("axis-title", plotRight, d.y, "end", axis, ` fill="#555555"`)
	d.y += 8
}

// budget draws the measured RTO as a bar beside the budget, its steps
// stacked in order and each step that runs alongside them (Step.Alongside)
// on a row of its own from its start, then a legend of the steps. The
// budget's total is its Seconds: the stacked steps, or an alongside step
// that ends later. Every step is drawn at least minStepWidth wide, and a
// step too narrow for its number has the number below the bar (a stacked
// step, on as many rows as keep the numbers apart) or after it (an
// alongside one).
func (d *drawing) budget(r Report, o SVGOptions, scale scale) {
	var alongside []int
	for i, s := range r.Budget.Steps {
		if s.Alongside {
			alongside = append(alongside, i)
		}
	}
	stacked := stackSteps(r.Budget.Steps, scale)
	outsideRows := 0
	for _, sg := range stacked {
		outsideRows = max(outsideRows, sg.row+1)
	}
	below := float64(outsideRows) * rowHeight
	top := d.y + 24
	panel := 66 + below + 24*float64(len(alongside))
	d.printf(`<g class="budget-panel">`)
	for _, t := range scale.ticks() {
		x := scale.x(t)
		d.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e4e4e4"/>`, num(x), num(top), num(x), num(top+panel))
		d.text("tick", x, top-6, "middle", scale.label(t)+"s", ` fill="#555555"`)
	}
	// The measured RTO.
	y := top + 8
	d.text("lane-name", 12, y+13, "start", "measured RTO", ` font-weight="bold"`)
	if r.Recovered {
		w := math.Max(minStepWidth, scale.x(r.RTOSeconds)-plotLeft) // visible however short
		d.printf(`<rect class="rto" x="%s" y="%s" width="%s" height="18" fill="#2e7d32"/>`, num(plotLeft), num(y), num(w))
		d.text("value", plotLeft+w+6, y+13, "start", sec(r.RTOSeconds)+"s", "")
	} else {
		d.text("value", plotLeft+6, y+13, "start", "not recovered", ` fill="#c62828"`)
	}
	// The budget, cumulative.
	y += 28
	d.text("lane-name", 12, y+13, "start", "budget", ` font-weight="bold"`)
	d.printf(`<g class="budget" data-driver="%s" data-mode="%s">`, esc(r.Budget.Driver), esc(string(r.Budget.Mode)))
	stepRect := func(i int, s Step, x1, x2, y float64, title string) {
		extra := ""
		if s.Alongside {
			extra = ` data-alongside="true"`
		}
		d.printf(`<rect class="budget-step" data-step="%s"%s x="%s" y="%s" width="%s" height="18" fill="%s" stroke="#ffffff"><title>%s</title></rect>`,
			esc(s.Name), extra, num(x1), num(y), num(x2-x1), stepColour(i), esc(title))
	}
	cum := 0.0
	for _, sg := range stacked {
		s := r.Budget.Steps[sg.i]
		cum += s.Seconds
		stepRect(sg.i, s, sg.x1, sg.x2, y, fmt.Sprintf("%s: %ss, %ss cumulative (%s)", s.Name, sec(s.Seconds), sec(cum), s.Basis))
		label := strconv.Itoa(sg.i + 1)
		if sg.row < 0 {
			d.text("step-number", (sg.x1+sg.x2)/2, y+13, "middle", label, ` fill="#ffffff"`)
			continue
		}
		ly := y + 18 + float64(sg.row+1)*rowHeight
		d.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999999"/>`, num(sg.labelX), num(y+18), num(sg.labelX), num(ly-fontSize+2))
		d.text("step-number outside", sg.labelX, ly, "middle", label, "")
	}
	for k, i := range alongside {
		s := r.Budget.Steps[i]
		ay := y + below + 24*float64(k+1)
		x1 := scale.x(s.FromSeconds)
		x2 := math.Max(scale.x(s.FromSeconds+s.Seconds), x1+minStepWidth)
		stepRect(i, s, x1, x2, ay, fmt.Sprintf("%s: %ss from %ss, alongside (%s)", s.Name, sec(s.Seconds), sec(s.FromSeconds), s.Basis))
		if x2-x1 >= stepNumberWidth {
			d.text("step-number", (x1+x2)/2, ay+13, "middle", strconv.Itoa(i+1), ` fill="#ffffff"`)
		} else {
			d.text("step-number outside", x2+4, ay+13, "start", strconv.Itoa(i+1), "")
		}
	}
	d.printf(`</g>`)
	end := scale.x(r.Budget.Seconds)
	if len(stacked) > 0 {
		end = math.Max(end, stacked[len(stacked)-1].x2)
	}
	d.text("value", end+6, y+13, "start", sec(r.Budget.Seconds)+"s", "")
	y += below + 24*float64(len(alongside))
	if o.LimitSeconds > 0 {
		x := scale.x(o.LimitSeconds)
		d.printf(`<line class="limit" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#c62828" stroke-width="2" stroke-dasharray="2 2"/>`, num(x), num(top), num(x), num(y+24))
		d.text("value", x, y+36, "middle", "limit "+sec(o.LimitSeconds)+"s", ` fill="#c62828"`)
	}
	d.printf(`</g>`)
	// The legend: each step, its duration and the running total (an
	// alongside step: its start instead).
	y += 52
	cum = 0
	for i, s := range r.Budget.Steps {
		line := fmt.Sprintf("%d. %s: %ss (from %ss, alongside)", i+1, s.Name, sec(s.Seconds), sec(s.FromSeconds))
		if !s.Alongside {
			cum += s.Seconds
			line = fmt.Sprintf("%d. %s: %ss (cumulative %ss)", i+1, s.Name, sec(s.Seconds), sec(cum))
		}
		d.printf(`<rect x="12" y="%s" width="10" height="10" fill="%s"/>`, num(y-9), stepColour(i))
		d.text("legend", 28, y, "start", line, "")
		y += 15
	}
	d.y = y + 4
}

const (
	// minStepWidth keeps a step of a few hundred milliseconds, or of none,
	// visible on a bar of a minute or more.
	minStepWidth = 3.0
	// stepNumberWidth is the narrowest step whose number fits inside it.
	stepNumberWidth = 16.0
)

// segment is a stacked budget step placed on the axis: its span, and the
// row below the bar its number goes to (-1: inside the bar).
type segment struct {
	i      int // index in the budget's steps
	x1, x2 float64
	row    int
	labelX float64
}

// stackSteps places the steps that are not alongside one after the other,
// each at least minStepWidth wide (a narrow step pushes the next along by
// the difference), and gives each step too
// narrow for its number the first row below the bar where that number
// overlaps no other.
func stackSteps(steps []Step, scale scale) []segment {
	var segs []segment
	var rows [][][2]float64
	cum, x := 0.0, plotLeft
	for i, s := range steps {
		if s.Alongside {
			continue
		}
		cum += s.Seconds
		x1 := x
		x2 := math.Max(scale.x(cum), x1+minStepWidth)
		x = x2
		sg := segment{i: i, x1: x1, x2: x2, row: -1}
		if x2-x1 < stepNumberWidth {
			w := float64(len(strconv.Itoa(i+1))) * charWidth
			sg.labelX = (x1 + x2) / 2
			lo, hi := sg.labelX-w/2, sg.labelX+w/2
			row := 0
			for ; row < len(rows); row++ {
				if !slices.ContainsFunc(rows[row], func(iv [2]float64) bool { return lo < iv[1]+labelGap && iv[0] < hi+labelGap }) {
					break
				}
			}
			if row == len(rows) {
				rows = append(rows, nil)
			}
			rows[row] = append(rows[row], [2]float64{lo, hi})
			sg.row = row
		}
		segs = append(segs, sg)
	}
	return segs
}

// lanesOf returns the lanes in order and the events of each: Sources, then
// any other source in order of appearance.
func lanesOf(r Report) ([]string, map[string][]Event) {
	byLane := map[string][]Event{}
	for _, e := range r.Timeline {
		byLane[laneOf(e)] = append(byLane[laneOf(e)], e)
	}
	// The masters' lane holds the leader elections of a master's loss; an
	// agent's drill has none, and an empty lane would only puzzle.
	lanes := slices.DeleteFunc(slices.Clone(Sources), func(s string) bool { return s == SourceMasters && len(byLane[s]) == 0 })
	for _, e := range r.Timeline {
		if src := laneOf(e); !slices.Contains(lanes, src) {
			lanes = append(lanes, src)
		}
	}
	return lanes, byLane
}

// laneOf is the lane of an event: its source, else its name's, else other.
func laneOf(e Event) string {
	src := e.Source
	if src == "" {
		src = SourceOf(e.Name)
	}
	if src == "" {
		src = "other"
	}
	return src
}

// layout places the marks of one lane and staggers their labels: each
// label goes to the first row where it overlaps no other.
func layout(events []Event, s scale) []mark {
	marks := make([]mark, len(events))
	for i, e := range events {
		marks[i] = mark{e: e, x: s.x(e.SinceKillSeconds)}
	}
	sort.SliceStable(marks, func(i, j int) bool { return marks[i].x < marks[j].x })
	var rows [][][2]float64
	for i := range marks {
		m := &marks[i]
		w := float64(len([]rune(shortLabel(m.e.Name)))) * charWidth
		m.anchor, m.start, m.end, m.labelX = "start", m.x-3, m.x-3+w, m.x-3
		if m.end > svgWidth-4 {
			m.anchor, m.start, m.end, m.labelX = "end", m.x+3-w, m.x+3, m.x+3
		}
		row := 0
		for ; row < len(rows); row++ {
			free := true
			for _, iv := range rows[row] {
				if m.start < iv[1]+labelGap && iv[0] < m.end+labelGap {
					free = false
					break
				}
			}
			if free {
				break
			}
		}
		if row == len(rows) {
			rows = append(rows, nil)
		}
		rows[row] = append(rows[row], [2]float64{m.start, m.end})
		m.row = row
	}
	return marks
}

// scale maps seconds since the kill to x over a round maximum.
type scale struct {
	max, step float64
	decimals  int
}

// newScale picks a tick step of 1, 2 or 5 times a power of ten giving at
// most 10 ticks up to maxT.
func newScale(maxT float64) scale {
	if maxT <= 0 || math.IsNaN(maxT) || math.IsInf(maxT, 0) {
		maxT = 1
	}
	exp := math.Floor(math.Log10(maxT / 10))
	var step float64
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * math.Pow(10, exp)
		if maxT/step <= 10 {
			break
		}
	}
	decimals := 0
	if e := math.Floor(math.Log10(step) + 1e-9); e < 0 {
		decimals = int(-e)
	}
	return scale{max: math.Ceil(maxT/step-1e-9) * step, step: step, decimals: decimals}
}

func (s scale) x(t float64) float64 {
	return plotLeft + math.Max(0, math.Min(t, s.max))/s.max*(plotRight-plotLeft)
}

func (s scale) ticks() []float64 {
	var ts []float64
	for i := 0; float64(i)*s.step <= s.max+s.step/1e6; i++ {
		ts = append(ts, float64(i)*s.step)
	}
	return ts
}

func (s scale) label(t float64) string { return strconv.FormatFloat(t, 'f', s.decimals, 64) }

// num formats a coordinate with one decimal, the same on every machine.
func num(f float64) string {
	s := strconv.FormatFloat(math.Round(f*10)/10, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if s == "-0" {
		s = "0"
	}
	return s
}

// sec formats seconds for a label: three decimals under 1 s (stand-in
// runs last milliseconds), one above.
func sec(f float64) string {
	if math.Abs(f) < 1 {
		return strconv.FormatFloat(f, 'f', 3, 64)
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func shortLabel(name string) string {
	if l, ok := shortLabels[name]; ok {
		return l
	}
	if r := []rune(name); len(r) > 24 {
		return string(r[:23]) + "…"
	}
	return name
}

func laneName(src string) string {
	if n, ok := laneNames[src]; ok {
		return n
	}
	return src
}

// markColour is red for what went down, green for what came back.
func markColour(event string) string {
	switch event {
	case EventKill, EventShuttingDown, EventAppDown, EventInstanceDown, EventVolumeDetached, EventAgentLost, EventOldOutOfService, EventDeadlineExceeded:
		return "#c62828"
	case EventOldAnswers:
		return "#ef6c00"
	}
	return "#2e7d32"
}

var stepColours = []string{"#1565c0", "#5e35b1", "#00838f", "#6d4c41", "#ad1457", "#455a64", "#9e9d24"}

func stepColour(i int) string { return stepColours[i%len(stepColours)] }
