// Package teav1 is a stand-in for the bubbletea adapter of the interactive terminal UI (see tuist).
package teav1

import (
	tea "github.com/charmbracelet/bubbletea"
	"github.com/vito/tuist"
)

type Wrap struct {
	tuist.Compo
	Model  tea.Model
	onQuit func()
}

func (w *Wrap) OnQuit(fn func()) { w.onQuit = fn }

func New(m tea.Model) *Wrap              { return &Wrap{Model: m} }
func (w *Wrap) Render(ctx tuist.Context) {}
