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

	// orderbell patch: an emitter is one list of listeners, each named by
	// its event, under one lock. The list is replaced, never changed in
	// place, so Emit walks the list it read under the lock without copying
	// it and without holding the lock. Upstream kept a Map (a sync.Map: a
	// hash-trie node per emitter and an entry and a boxed key per event) of
	// thread-safe Slices, and cloned the listeners on every Emit. Every
	// connection has five or six emitters with two or three listeners
	// each; one list per emitter is one object where a list per event (the
	// sixth round's version of this patch) was one per event and one more
	// per emitter, and each object is work for every mark of the collector.
	emmiter struct {
		mu       sync.RWMutex
		entries  []eventEntry // in the order registered
		lastOnce uint64       // the last Once entry's id
	}

	// eventEntry is one listener of one event. once is a Once listener's
	// id in its emitter, 0 for an On listener. An entry without fn keeps
	// the place of an event whose listeners were all removed: the event
	// stays, empty, until RemoveAllListeners (as upstream).
	eventEntry struct {
		name EventName
		fn   EventListener
		once uint64
	}
)

func (l *eventEntry) empty() bool { return l.fn == nil }

func (l *eventEntry) call(data []any) {
	defer func() {
		if r := recover(); r != nil {
			// Prevent a panicking listener from crashing the emitter.
			eventsLog.Errorf("event listener panic recovered: %v\n%s", r, debug.Stack())
		}
	}()
	l.fn(data...)
}

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

// snapshot is the list as it is now; the caller must not modify it.
func (e *emmiter) snapshot() []eventEntry {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.entries
}

// add registers the non-nil fns as evt's listeners, after its others, as
// Once listeners (each with an id of its own) if once. An empty entry of
// evt gives its place to them.
func (e *emmiter) add(evt EventName, fns []EventListener, once bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.entries
	at := len(old)
	for i := range old {
		if old[i].name == evt && old[i].empty() {
			at = i
			break
		}
	}
	entries := make([]eventEntry, 0, len(old)+len(fns))
	entries = append(entries, old[:at]...)
	for _, fn := range fns {
		if fn == nil {
			continue
		}
		l := eventEntry{name: evt, fn: fn}
		if once {
			e.lastOnce++
			l.once = e.lastOnce
		}
		entries = append(entries, l)
	}
	if len(entries) == at {
		return // nothing to add: the list stays as it was
	}
	if at < len(old) {
		entries = append(entries, old[at+1:]...)
	}
	e.entries = entries
}

// remove replaces the entry at i (of the list e.entries is now) with
// nothing, or with an empty entry of its event if it was the event's last.
// e.mu must be held for writing.
func (e *emmiter) remove(i int) {
	old := e.entries
	last := true
	for j := range old {
		if j != i && old[j].name == old[i].name {
			last = false
			break
		}
	}
	if last {
		entries := slices.Clone(old)
		entries[i] = eventEntry{name: old[i].name}
		e.entries = entries
		return
	}
	e.entries = slices.Concat(old[:i], old[i+1:])
}

func (e *emmiter) AddListener(evt EventName, listeners ...EventListener) error {
	e.add(evt, listeners, false)
	return nil
}

// Alias: [AddListener]
func (e *emmiter) On(evt EventName, listeners ...EventListener) error {
	return e.AddListener(evt, listeners...)
}

func (e *emmiter) Emit(evt EventName, data ...any) {
	entries := e.snapshot()
	for i := range entries {
		l := &entries[i]
		// A Once listener runs for the Emit that removes it, and only once
		// however many Emits see it at the same time.
		if l.name == evt && !l.empty() && (l.once == 0 || e.removeOnce(l.once)) {
			l.call(data)
		}
	}
}

func (e *emmiter) EventNames() []EventName {
	var names []EventName
	for _, l := range e.snapshot() {
		if !slices.Contains(names, l.name) {
			names = append(names, l.name)
		}
	}
	return names
}

func (e *emmiter) ListenerCount(evt EventName) int {
	n := 0
	for _, l := range e.snapshot() {
		if l.name == evt && !l.empty() {
			n++
		}
	}
	return n
}

func (e *emmiter) Listeners(evt EventName) []EventListener {
	var listeners []EventListener
	for _, l := range e.snapshot() {
		if l.name != evt {
			continue
		}
		if listeners == nil {
			listeners = []EventListener{} // the event is there, maybe empty
		}
		if !l.empty() {
			listeners = append(listeners, l.fn)
		}
	}
	return listeners
}

// removeOnce removes the Once entry with the id once, and says whether it
// was there to remove.
func (e *emmiter) removeOnce(once uint64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.entries {
		if e.entries[i].once == once {
			e.remove(i)
			return true
		}
	}
	return false
}

// Once adds listeners that are each removed, and then called, the next
// time evt is emitted. orderbell patch: a Once entry is an id, and the
// Emit that removes it calls it (upstream: a oneTimeListener with a
// sync.Once, and a method value of it, two objects for each).
func (e *emmiter) Once(evt EventName, listeners ...EventListener) error {
	e.add(evt, listeners, true)
	return nil
}

// RemoveListener removes the first listener registered for the event named
// eventName with the same function as listener (compared by code pointer,
// as upstream). The event itself stays, with one listener fewer.
func (e *emmiter) RemoveListener(evt EventName, listener EventListener) bool {
	if listener == nil {
		return false
	}
	target := reflect.ValueOf(listener).Pointer()

	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.entries {
		l := &e.entries[i]
		if l.name == evt && !l.empty() && reflect.ValueOf(l.fn).Pointer() == target {
			e.remove(i)
			return true
		}
	}
	return false
}

func (e *emmiter) RemoveAllListeners(evt EventName) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.ContainsFunc(e.entries, func(l eventEntry) bool { return l.name == evt }) {
		return false
	}
	e.entries = slices.DeleteFunc(slices.Clone(e.entries), func(l eventEntry) bool { return l.name == evt })
	return true
}

func (e *emmiter) Clear() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.entries = nil
}

func (e *emmiter) Len() int {
	return len(e.EventNames())
}
