package ui

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are every style the screens use, built once per renderer.
type Styles struct {
	r *lipgloss.Renderer

	Title, Dim, Bold, Key, Warn, Bad, Good lipgloss.Style
	Selected                               lipgloss.Style

	TileIdle, TileRunning, TilePass, TileFail, TileQuarantine lipgloss.Style
	LabelPass, LabelFail, LabelQuarantine, LabelRunning       lipgloss.Style
	LabelIdle                                                 lipgloss.Style

	BarFull, BarEmpty lipgloss.Style
	Dialog            lipgloss.Style
}

// NewRenderer returns a renderer writing to w; noColor forces the Ascii
// profile (no escape codes at all), as NO_COLOR and the golden tests do.
func NewRenderer(w io.Writer, noColor bool) *lipgloss.Renderer {
	if noColor {
		return lipgloss.NewRenderer(w, termenv.WithProfile(termenv.Ascii))
	}
	return lipgloss.NewRenderer(w)
}

// NewStyles builds the styles for r.
func NewStyles(r *lipgloss.Renderer) *Styles {
	s := &Styles{r: r}
	ns := r.NewStyle
	green, red, amber, blue, grey := lipgloss.Color("2"), lipgloss.Color("1"), lipgloss.Color("3"), lipgloss.Color("4"), lipgloss.Color("8")
	s.Title = ns().Bold(true)
	s.Dim = ns().Foreground(grey)
	s.Bold = ns().Bold(true)
	s.Key = ns().Bold(true).Foreground(blue)
	s.Warn = ns().Bold(true).Foreground(amber)
	s.Bad = ns().Bold(true).Foreground(red)
	s.Good = ns().Bold(true).Foreground(green)
	s.Selected = ns().Reverse(true)

	// Border shapes carry the state without colour: double = PASS,
	// thick = FAIL, normal (square) = quarantined, rounded = anything else.
	s.TileIdle = ns().Border(lipgloss.RoundedBorder()).BorderForeground(grey)
	s.TileRunning = ns().Border(lipgloss.RoundedBorder()).BorderForeground(blue)
	s.TilePass = ns().Border(lipgloss.DoubleBorder()).BorderForeground(green)
	s.TileFail = ns().Border(lipgloss.ThickBorder()).BorderForeground(red)
	s.TileQuarantine = ns().Border(lipgloss.NormalBorder()).BorderForeground(amber)

	s.LabelPass = ns().Bold(true).Foreground(lipgloss.Color("0")).Background(green)
	s.LabelFail = ns().Bold(true).Foreground(lipgloss.Color("15")).Background(red)
	s.LabelQuarantine = ns().Bold(true).Foreground(lipgloss.Color("0")).Background(amber)
	s.LabelRunning = ns().Bold(true).Foreground(blue)
	s.LabelIdle = ns().Foreground(grey)

	s.BarFull = ns().Foreground(blue)
	s.BarEmpty = ns().Foreground(grey)
	s.Dialog = ns().Border(lipgloss.DoubleBorder()).Padding(0, 1)
	return s
}
