package ui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"fleetline/station"
)

// EventsMsg carries one or more engine events, in order: everything that
// was already queued when the first one arrived.
type EventsMsg []station.Event

// EventsClosedMsg says the engine's event channel closed: the run ended
// and everything it published has been seen.
type EventsClosedMsg struct{}

// TickMsg advances the screen's clock (elapsed times, claim validity, the
// units-per-hour rate).
type TickMsg time.Time

// ControlDoneMsg reports the outcome of an action sent to the Controller.
type ControlDoneMsg struct {
	Action string
	Err    error
}

// maxDrain bounds how many queued events one EventsMsg carries, so a
// flood still lets key presses through between batches.
const maxDrain = 512

// frame is how long events are gathered after the first one before the
// screen takes them: 32 slots flashing publish hundreds of progress
// events a second, and one render per frame keeps the screen's CPU small
// whatever the rate.
const frame = 50 * time.Millisecond

// WaitForEvents returns a Cmd that blocks until the next event on ch and
// then gathers whatever else arrives within a frame. It is the only
// place the UI reads the engine's channel.
func WaitForEvents(ch <-chan station.Event) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return EventsClosedMsg{}
		}
		evs := EventsMsg{ev}
		t := time.NewTimer(frame)
		defer t.Stop()
		for len(evs) < maxDrain {
			select {
			case ev, ok := <-ch:
				if !ok {
					return evs // the next wait reports the close
				}
				evs = append(evs, ev)
			case <-t.C:
				return evs
			}
		}
		return evs
	}
}

// tickEvery is how often the clock advances.
const tickEvery = time.Second

func tick() tea.Cmd {
	return tea.Tick(tickEvery, func(t time.Time) tea.Msg { return TickMsg(t) })
}
