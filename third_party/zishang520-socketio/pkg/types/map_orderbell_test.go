package types

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// orderbell patch: a deleted entry is gone from the map at once. In
// upstream's copy of the old sync.Map, entries that had reached its read-only
// part (here by a Range, in the library by lookups) stayed there after
// Delete until enough lookups missed, which a session's id never does.
func TestMapDropsDeletedEntries(t *testing.T) {
	var m Map[string, *int]
	keep := 0
	m.Store("keep", &keep)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50_000 {
				v := i
				m.Store(fmt.Sprintf("session-%d-%d", g, i), &v)
			}
		})
	}
	wg.Wait()
	m.Range(func(string, *int) bool { return true })
	for g := range 4 {
		for i := range 50_000 {
			m.Delete(fmt.Sprintf("session-%d-%d", g, i))
		}
	}
	for range 1000 { // lookups that hit, as the library's do
		if _, ok := m.Load("keep"); !ok {
			t.Fatal("the kept key is gone")
		}
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
	if grown > 1<<20 {
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
