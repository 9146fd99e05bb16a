// Package tuist is a stand-in for the interactive terminal UI library the Dagger CLI uses for
// --progress=tty. The Go module proxy reachable here does not serve it, so this build ships without
// the interactive UI: the types exist so the CLI compiles, and starting the UI exits with a message.
// Plain progress (the default without a terminal, and DAGGER_PROGRESS=plain) does not use it.
package tuist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
)

var ErrUnavailable = errors.New("the interactive terminal UI is not part of this Dagger build; use --progress=plain")

// Context is what a component renders into.
type Context struct {
	context.Context
	Width        int
	Height       int
	screenHeight int
	lines        *[]string
}

func (c Context) ScreenHeight() int { return c.screenHeight }

func (c Context) ensure() Context {
	if c.Context == nil {
		c.Context = context.Background()
	}
	if c.lines == nil {
		c.lines = new([]string)
	}
	return c
}

func (c Context) Line(s string) {
	if c.lines != nil {
		*c.lines = append(*c.lines, s)
	}
}

func (c Context) Lines(ss ...string) {
	if c.lines != nil {
		*c.lines = append(*c.lines, ss...)
	}
}

func (c Context) SetFocus(Component) {}

func (c Context) Resize(width, height int) Context {
	c.Width, c.Height = width, height
	return c
}

type Component interface {
	Render(ctx Context)
}

type Focusable interface {
	SetFocused(ctx Context, focused bool)
}

type Dismounter interface {
	OnDismount()
}

type Mounter interface {
	OnMount(ctx Context)
}

type Interactive interface {
	HandleKeyPress(ctx Context, ev uv.KeyPressEvent) bool
}

type MouseEvent struct {
	uv.MouseEvent
	Row, Col int
}

type MouseEnabled interface {
	HandleMouse(ctx Context, ev MouseEvent) bool
}

type Hoverable interface {
	SetHovered(ctx Context, hovered bool)
}

// Compo is embedded by components.
type Compo struct{}

func (*Compo) Update() {}

func renderLines(ctx Context, c Component) []string {
	ctx = ctx.ensure()
	ctx.lines = new([]string)
	if c != nil {
		c.Render(ctx)
	}
	return *ctx.lines
}

type RenderResult struct {
	Lines []string
}

func (*Compo) RenderChild(ctx Context, c Component) {
	ctx.Lines(renderLines(ctx, c)...)
}

func (*Compo) RenderChildResult(ctx Context, c Component) RenderResult {
	return RenderResult{Lines: renderLines(ctx, c)}
}

func (*Compo) RenderChildInline(ctx Context, c Component) string {
	return strings.Join(renderLines(ctx, c), "\n")
}

type Container struct {
	Compo
	Children []Component
}

func (c *Container) AddChild(child Component) { c.Children = append(c.Children, child) }

func (c *Container) Render(ctx Context) {
	for _, child := range c.Children {
		c.RenderChild(ctx, child)
	}
}

type Terminal struct{}

func NewStdTerminal() *Terminal { return &Terminal{} }

type TUI struct {
	Container
}

func New(*Terminal) *TUI { return &TUI{} }

// Start would take over the terminal; this build has no interactive UI, so it stops the program
// with a clear message instead of leaving it waiting for a UI that never mounts.
func (t *TUI) Start() {
	fmt.Fprintln(os.Stderr, "dagger: "+ErrUnavailable.Error()+" (or DAGGER_PROGRESS=plain)")
	os.Exit(2)
}
func (t *TUI) Stop()                                                      {}
func (t *TUI) Dispatch(fn func())                                         { fn() }
func (t *TUI) RequestRender(bool)                                         {}
func (t *TUI) SetFocus(Component)                                         {}
func (t *TUI) SetShowHardwareCursor(bool)                                 {}
func (t *TUI) SetDebugWriter(any)                                         {}
func (t *TUI) Exec(func(in io.Reader, out, errOut io.Writer) error) error { return ErrUnavailable }
func (t *TUI) RenderLines() []string {
	return renderLines(Context{Width: 80}, &t.Container)
}
func (t *TUI) RemoveChild(child Component) {
	kept := t.Children[:0]
	for _, c := range t.Children {
		if c != child {
			kept = append(kept, c)
		}
	}
	t.Children = kept
}

type SizeValue int

func SizeAbs(n int) SizeValue { return SizeValue(n) }

type Anchor int

const AnchorTopRight Anchor = 1

type OverlayMargin struct{ Top, Right, Bottom, Left int }

type OverlayOptions struct {
	Width  SizeValue
	Anchor Anchor
	Margin OverlayMargin
}

type OverlayHandle struct{}

func (*OverlayHandle) Remove() {}

func (t *TUI) ShowOverlay(Component, *OverlayOptions) *OverlayHandle { return &OverlayHandle{} }

type Spinner struct {
	Compo
	Epoch time.Time
}

func NewSpinner() *Spinner          { return &Spinner{} }
func (*Spinner) Render(ctx Context) {}

type TextInput struct {
	Compo
	Prompt         string
	OnSubmit       func(ctx Context, value string) bool
	KeyInterceptor func(ctx Context, ev uv.KeyPressEvent) bool
	value          string
}

func NewTextInput(prompt string) *TextInput { return &TextInput{Prompt: prompt} }
func (t *TextInput) Render(ctx Context)     { ctx.Line(t.Prompt + t.value) }
func (t *TextInput) Value() string          { return t.value }
func (t *TextInput) SetValue(v string)      { t.value = v }
func (t *TextInput) InsertRune(r rune)      { t.value += string(r) }

type Completion struct {
	Label  string
	Detail string
}

type CompletionResult struct {
	Items       []Completion
	ReplaceFrom int
}

type CompletionMenu struct{ Compo }

func NewCompletionMenu(*TextInput, func(input string, cursorPos int) CompletionResult) *CompletionMenu {
	return &CompletionMenu{}
}
func (*CompletionMenu) Render(ctx Context)                                   {}
func (*CompletionMenu) HandleKeyPress(ctx Context, ev uv.KeyPressEvent) bool { return false }
