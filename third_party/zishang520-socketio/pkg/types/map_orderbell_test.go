package types

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"weak"
)

// orderbell patch: a deleted entry lets go of its key and value at once.
// Upstream's copy of the old sync.Map kept entries that had reached its
// read-only part (here by a Range, in the library by lookups) after
// Delete, until enough lookups missed, which a session's id never does.
func TestMapLetsGoOfDeletedKeys(t *testing.T) {
	type sessionKey struct {
		id int
		_  [3]int // past the allocator's 16-byte tiny blocks, which share a lifetime
	}
	var m Map[*sessionKey, *int]
	keep, v := &sessionKey{id: -1}, 0
	m.Store(keep, &v)
	// In a function of its own, so that no key is left on this stack.
	churn := func() []weak.Pointer[sessionKey] {
		keys := make([]*sessionKey, 10_000)
		weaks := make([]weak.Pointer[sessionKey], len(keys))
		for i := range keys {
			keys[i] = &sessionKey{id: i}
			weaks[i] = weak.Make(keys[i])
			m.Store(keys[i], &v)
		}
		m.Range(func(*sessionKey, *int) bool { return true })
		for _, k := range keys {
			m.Delete(k)
		}
		for range 1000 { // lookups that hit, as the library's do
			if _, ok := m.Load(keep); !ok {
				t.Fatal("the kept key is gone")
			}
		}
		return weaks
	}
	weaks := churn()
	runtime.GC()
	alive := 0
	for _, w := range weaks {
		if w.Value() != nil {
			alive++
		}
	}
	if alive > 0 {
		t.Errorf("%d of %d deleted keys are still held by the map", alive, len(weaks))
	}
	runtime.KeepAlive(&m)
}

// The map's heap follows the sessions open, not the sessions ever opened:
// 200,000 sessions pass through it, 1,000 at a time.
func TestMapDropsDeletedEntries(t *testing.T) {
	var m Map[string, *int]
	keep := 0
	m.Store("keep", &keep)
	window := func(w int) {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 250 {
					v := i
					m.Store(fmt.Sprintf("session-%d-%d-%d", w, g, i), &v)
				}
			})
		}
		wg.Wait()
		m.Range(func(string, *int) bool { return true })
		for range 1000 { // lookups that hit, as the library's do
			if _, ok := m.Load("keep"); !ok {
				t.Fatal("the kept key is gone")
			}
		}
		for g := range 4 {
			for i := range 250 {
				m.Delete(fmt.Sprintf("session-%d-%d-%d", w, g, i))
			}
		}
	}
	window(-1) // the map's table for 1,000 sessions
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for w := range 200 {
		window(w)
	}
	if n := m.Len(); n != 1 {
		t.Fatalf("Len = %d after deleting all but one key", n)
	}
	if keys := m.Keys(); len(keys) != 1 {
		t.Fatalf("%d keys listed after deleting all but one", len(keys))
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(&m) // the map itself is live, as the library's are
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if grown > 256<<10 {
		t.Errorf("the heap kept %d bytes of 200,000 deleted entries", grown)
	}

	var a Map[string, any]
	a.Store("nil", nil)
	if v, ok := a.Load("nil"); !ok || v != nil || a.Len() != 1 {
		t.Errorf("Load of a stored nil = %v, %v; Len %d", v, ok, a.Len())
	}
	if prev, loaded := a.Swap("nil", 1); !loaded || prev != nil || a.Len() != 1 {
		t.Errorf("Swap = %v, %v; Len %d", prev, loaded, a.Len())
	}
	if !a.CompareAndDelete("nil", 1) || a.Len() != 0 {
		t.Errorf("CompareAndDelete failed; Len %d", a.Len())
	}
}
