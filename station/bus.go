package station

import "sync"

// bus publishes events to any number of observers without ever blocking
// the publisher: each observer has its own queue drained by its own
// goroutine into its channel. While an observer is behind, progress events
// for the same slot and region replace each other in its queue and, past
// maxQueue, progress and console events are dropped first; state events
// are kept, so a slow terminal shows the latest truth, late.
type bus struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

// maxQueue bounds an observer's backlog of droppable events.
const maxQueue = 4096

type subscriber struct {
	ch      chan Event
	mu      sync.Mutex
	queue   []Event
	wake    chan struct{}
	cancel  chan struct{} // observer gone: drop the rest
	drain   chan struct{} // engine done: deliver the rest, then close
	ended   bool
	dropped int
}

func newBus() *bus { return &bus{subs: map[*subscriber]struct{}{}} }

// subscribe adds an observer; cancel removes it and closes its channel
// once the pump has stopped.
func (b *bus) subscribe(buf int) (<-chan Event, func()) {
	s := &subscriber{ch: make(chan Event, buf), wake: make(chan struct{}, 1), cancel: make(chan struct{}), drain: make(chan struct{})}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go s.pump()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
			s.end(s.cancel)
		})
	}
}

// publish queues ev for every observer.
func (b *bus) publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.offer(ev)
	}
}

// closeAll ends every subscription after its queue is delivered.
func (b *bus) closeAll() {
	b.mu.Lock()
	subs := b.subs
	b.subs = map[*subscriber]struct{}{}
	b.mu.Unlock()
	for s := range subs {
		s.end(s.drain)
	}
}

func droppable(t EventType) bool { return t == EvProgress || t == EvConsole }

func (s *subscriber) offer(ev Event) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	if ev.Type == EvProgress {
		// Coalesce with a queued progress event for the same slot and region.
		for i := len(s.queue) - 1; i >= 0; i-- {
			q := &s.queue[i]
			if q.Type == EvProgress && q.Slot == ev.Slot && q.Label == ev.Label && q.Step == ev.Step {
				*q = ev
				s.mu.Unlock()
				return
			}
			if q.Slot == ev.Slot && q.Type != EvProgress {
				break // keep order relative to this slot's other events
			}
		}
	}
	if len(s.queue) >= maxQueue && droppable(ev.Type) {
		s.dropped++
		s.mu.Unlock()
		return
	}
	s.queue = append(s.queue, ev)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// end stops taking events and closes how (cancel or drain), once.
func (s *subscriber) end(how chan struct{}) {
	s.mu.Lock()
	if !s.ended {
		s.ended = true
		close(how)
	}
	s.mu.Unlock()
}

// pump delivers the queue in order until cancelled, or until drained after
// the engine finished; then it closes the channel.
func (s *subscriber) pump() {
	defer close(s.ch)
	for {
		s.mu.Lock()
		q := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, ev := range q {
			select {
			case s.ch <- ev:
			case <-s.cancel:
				return
			}
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-s.drain:
			s.mu.Lock()
			empty := len(s.queue) == 0
			s.mu.Unlock()
			if empty {
				return
			}
		case <-s.wake:
		case <-s.cancel:
			return
		}
	}
}
