package types

import (
	"reflect"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/zishang520/socket.io/v3/pkg/log"
)

const (
	// Version current version number
	EventVersion = "0.0.3"
)

var eventsLog = log.NewLog("engine:events")

type (
	// EventName is just a type of string, it's the event name
	EventName string
	// Listener is the type of a Listener, it's a func which receives any,optional, arguments from the caller/emmiter
	EventListener func(...any)
	// Events the type for registered listeners, it's just a map[string][]func(...any)
	Events map[EventName][]EventListener
	// EventEmitter is the message/or/event manager
	EventEmitter interface {
		// AddListener is an alias for .On(eventName, listener).
		AddListener(EventName, ...EventListener) error
		// Emit fires a particular event,
		// Synchronously calls each of the listeners registered for the event named
		// eventName, in the order they were registered,
		// passing the supplied arguments to each.
		Emit(EventName, ...any)
		// EventNames returns an array listing the events for which the emitter has registered listeners.
		// The values in the array will be strings.
		EventNames() []EventName
		// ListenerCount returns the length of all registered listeners to a particular event
		ListenerCount(EventName) int
		// Listeners returns a copy of the array of listeners for the event named eventName.
		Listeners(EventName) []EventListener
		// On registers a particular listener for an event, func receiver parameter(s) is/are optional
		On(EventName, ...EventListener) error
		// Once adds a one time listener function for the event named eventName.
		// The next time eventName is triggered, this listener is removed and then invoked.
		Once(EventName, ...EventListener) error
		// RemoveAllListeners removes all listeners, or those of the specified eventName.
		// Note that it will remove the event itself.
		// Returns an indicator if event and listeners were found before the remove.
		RemoveAllListeners(EventName) bool
		// RemoveListener removes given listener from the event named eventName.
		// Returns an indicator whether listener was removed
		RemoveListener(EventName, EventListener) bool
		// Clear removes all events and all listeners, restores Events to an empty value
		Clear()
		// Len returns the length of all registered events
		Len() int
	}

	eventEntry struct {
		fn  EventListener
		ptr uintptr
	}

	// orderbell patch: an emitter is a short list of events under one
	// lock, each with a list of listeners that is replaced, never changed
	// in place, so Emit calls a list it read under the lock without copying
	// it. Upstream kept a Map (a sync.Map: a hash-trie node per emitter and
	// an entry and a boxed key per event) of thread-safe Slices, and cloned
	// the listeners on every Emit. Every connection has five or six
	// emitters with a few events each: that was 2.5-3 KB of live heap per
	// idle connection, and an allocation per event fired.
	emmiter struct {
		mu     sync.RWMutex
		events []emitterEvent // in the order first registered
	}

	emitterEvent struct {
		name      EventName
		listeners []eventEntry // replaced on every change, never modified
	}
)

// CopyTo copies the event listeners to an EventEmitter
func (e Events) CopyTo(emitter EventEmitter) {
	if len(e) > 0 {
		// register the events to/with their listeners
		for evt, listeners := range e {
			if len(listeners) > 0 {
				_ = emitter.AddListener(evt, listeners...)
			}
		}
	}
}

// New returns a new, empty, EventEmitter
func NewEventEmitter() EventEmitter {
	return &emmiter{}
}

// find is the index of evt in e.events, or -1. e.mu must be held.
func (e *emmiter) find(evt EventName) int {
	for i := range e.events {
		if e.events[i].name == evt {
			return i
		}
	}
	return -1
}

// listeners are evt's listeners as registered now; the caller must not
// modify the slice.
func (e *emmiter) listeners(evt EventName) (listeners []eventEntry, ok bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if i := e.find(evt); i >= 0 {
		return e.events[i].listeners, true
	}
	return nil, false
}

func (e *emmiter) addListeners(evt EventName, listeners []eventEntry) error {
	if len(listeners) == 0 {
		return nil
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.find(evt)
	if i < 0 {
		// Grown one event at a time, not doubled: an emitter gets its
		// handful of events once, at its connection's start, and keeps
		// them for the connection's life (five events in a doubled list
		// of eight: 120 bytes for nothing, per emitter).
		events := make([]emitterEvent, len(e.events)+1)
		copy(events, e.events)
		events[len(e.events)] = emitterEvent{name: evt, listeners: listeners}
		e.events = events
		return nil
	}
	old := e.events[i].listeners
	e.events[i].listeners = append(old[:len(old):len(old)], listeners...)
	return nil
}

func (e *emmiter) AddListener(evt EventName, listeners ...EventListener) error {
	if len(listeners) == 0 {
		return nil
	}

	var events []eventEntry
	for _, event := range listeners {
		if event != nil {
			events = append(events, eventEntry{fn: event, ptr: reflect.ValueOf(event).Pointer()})
		}
	}

	return e.addListeners(evt, events)
}

// Alias: [AddListener]
func (e *emmiter) On(evt EventName, listeners ...EventListener) error {
	return e.AddListener(evt, listeners...)
}

func (e *emmiter) Emit(evt EventName, data ...any) {
	listeners, _ := e.listeners(evt)
	for _, event := range listeners {
		func() {
			defer func() {
				if r := recover(); r != nil {
					// Prevent a panicking listener from crashing the emitter.
					eventsLog.Errorf("event listener panic recovered: %v\n%s", r, debug.Stack())
				}
			}()
			event.fn(data...)
		}()
	}
}

func (e *emmiter) EventNames() []EventName {
	e.mu.RLock()
	defer e.mu.RUnlock()
	names := make([]EventName, len(e.events))
	for i := range e.events {
		names[i] = e.events[i].name
	}
	return names
}

func (e *emmiter) ListenerCount(evt EventName) int {
	listeners, _ := e.listeners(evt)
	return len(listeners)
}

func (e *emmiter) Listeners(evt EventName) []EventListener {
	entries, ok := e.listeners(evt)
	if !ok {
		return nil
	}

	listeners := make([]EventListener, len(entries))
	for i, l := range entries {
		listeners[i] = l.fn
	}

	return listeners
}

type oneTimeListener struct {
	fired sync.Once // orderbell patch: in the struct (upstream: a pointer, a second allocation)

	evt     EventName
	emitter *emmiter
	fn      EventListener
}

func (l *oneTimeListener) execute(vals ...any) {
	l.fired.Do(func() {
		// Remove before invoking so reentrant Emit cannot enter this sync.Once.
		l.emitter.RemoveListener(l.evt, l.fn)
		l.fn(vals...)
	})
}

func (e *emmiter) Once(evt EventName, listeners ...EventListener) error {
	if len(listeners) == 0 {
		return nil
	}

	var events []eventEntry
	for _, event := range listeners {
		if event != nil {
			oneTime := &oneTimeListener{evt: evt, emitter: e, fn: event}
			events = append(events, eventEntry{fn: oneTime.execute, ptr: reflect.ValueOf(event).Pointer()})
		}
	}
	return e.addListeners(evt, events)
}

// RemoveListener removes the first listener registered for the event named
// eventName with the same function as listener (compared by code pointer,
// as upstream). The event itself stays, with one listener fewer.
func (e *emmiter) RemoveListener(evt EventName, listener EventListener) bool {
	if listener == nil {
		return false
	}
	targetPtr := reflect.ValueOf(listener).Pointer()

	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.find(evt)
	if i < 0 {
		return false
	}
	old := e.events[i].listeners
	for j, l := range old {
		if l.ptr == targetPtr {
			e.events[i].listeners = slices.Concat(old[:j], old[j+1:])
			return true
		}
	}
	return false
}

func (e *emmiter) RemoveAllListeners(evt EventName) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.find(evt)
	if i < 0 {
		return false
	}
	e.events = slices.Delete(e.events, i, i+1)
	return true
}

func (e *emmiter) Clear() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = nil
}

func (e *emmiter) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.events)
}
