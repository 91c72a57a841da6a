package types

import (
	"runtime"
	"slices"
	"sync"
	"testing"
)

// orderbell: tests of the patched emitter (events.go). They pass on
// upstream's emitter too, except TestEmitAllocatesNothing.

func TestEmitterCallsListenersInOrder(t *testing.T) {
	e := NewEventEmitter()
	var got []string
	_ = e.On("a", func(args ...any) { got = append(got, "first:"+args[0].(string)) })
	_ = e.On("b", func(...any) { got = append(got, "b") })
	_ = e.On("a", func(args ...any) { got = append(got, "second:"+args[0].(string)) }, nil)
	_ = e.Once("a", func(args ...any) { got = append(got, "once:"+args[0].(string)) })

	e.Emit("a", "x")
	e.Emit("a", "y")
	e.Emit("missing", "z")
	want := []string{"first:x", "second:x", "once:x", "first:y", "second:y"}
	if !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if n := e.ListenerCount("a"); n != 2 {
		t.Errorf("ListenerCount(a) = %d after the once listener fired, want 2", n)
	}
	names := e.EventNames()
	slices.Sort(names)
	if !slices.Equal(names, []EventName{"a", "b"}) || e.Len() != 2 {
		t.Errorf("EventNames %q, Len %d; want [a b], 2", names, e.Len())
	}
}

func TestEmitterRemoves(t *testing.T) {
	e := NewEventEmitter()
	calls := map[string]int{}
	keep := func(...any) { calls["keep"]++ }
	drop := func(...any) { calls["drop"]++ }
	_ = e.On("a", keep, drop)
	_ = e.On("b", keep)

	if !e.RemoveListener("a", drop) {
		t.Fatal("RemoveListener(a, drop) found nothing")
	}
	if e.RemoveListener("a", drop) || e.RemoveListener("missing", keep) || e.RemoveListener("a", nil) {
		t.Fatal("RemoveListener removed something that was not there")
	}
	e.Emit("a")
	if calls["keep"] != 1 || calls["drop"] != 0 {
		t.Fatalf("after removing drop: %v", calls)
	}
	if got := e.Listeners("a"); len(got) != 1 {
		t.Fatalf("Listeners(a) has %d, want 1", len(got))
	}

	// Removing the last listener leaves the event, empty (as upstream).
	e.RemoveListener("a", keep)
	if e.Len() != 2 || e.ListenerCount("a") != 0 || e.Listeners("a") == nil {
		t.Errorf("after removing a's last listener: Len %d, count %d, listeners %v", e.Len(), e.ListenerCount("a"), e.Listeners("a"))
	}
	if !e.RemoveAllListeners("a") || e.RemoveAllListeners("a") || e.Len() != 1 || e.Listeners("a") != nil {
		t.Errorf("RemoveAllListeners(a) did not remove the event once: Len %d", e.Len())
	}
	e.Clear()
	e.Emit("b")
	if e.Len() != 0 || calls["keep"] != 1 {
		t.Errorf("after Clear: Len %d, calls %v", e.Len(), calls)
	}
}

// A listener may change the emitter while it is called: what Emit calls is
// the list as it was when the Emit began.
func TestEmitterChangedDuringEmit(t *testing.T) {
	e := NewEventEmitter()
	var got []string
	late := func(...any) { got = append(got, "late") }
	second := func(...any) { got = append(got, "second") }
	_ = e.On("a", func(...any) {
		got = append(got, "first")
		e.RemoveListener("a", second)
		_ = e.On("a", late)
	})
	_ = e.On("a", second)
	_ = e.On("a", func(...any) { panic("a listener panics") })
	_ = e.On("a", func(...any) { got = append(got, "after the panic") })

	e.Emit("a")
	want := []string{"first", "second", "after the panic"}
	if !slices.Equal(got, want) {
		t.Fatalf("first emit called %q, want %q", got, want)
	}
	got = nil
	e.Emit("a")
	want = []string{"first", "after the panic", "late"}
	if !slices.Equal(got, want) {
		t.Fatalf("second emit called %q, want %q", got, want)
	}
}

// Run with -race: emits, registrations and removals from many goroutines.
func TestEmitterConcurrent(t *testing.T) {
	e := NewEventEmitter()
	var mu sync.Mutex
	calls := 0
	count := func(...any) { mu.Lock(); calls++; mu.Unlock() }
	_ = e.On("a", count)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				e.Emit("a", i)
				_ = e.Once("b", func(...any) {})
				e.Emit("b")
				_ = e.On("c", func(...any) {})
				e.RemoveAllListeners("c")
			}
		}()
	}
	wg.Wait()
	if calls != 8*500 {
		t.Fatalf("the steady listener was called %d times, want %d", calls, 8*500)
	}
	if n := e.ListenerCount("b"); n != 0 {
		t.Fatalf("%d once listeners left after every emit", n)
	}
}

// Emit reads the listeners without copying them (upstream cloned them on
// every Emit: one allocation per event fired).
func TestEmitAllocatesNothing(t *testing.T) {
	e := NewEventEmitter()
	sum := 0
	_ = e.On("a", func(args ...any) { sum += len(args) })
	_ = e.On("a", func(args ...any) { sum -= len(args) })
	args := []any{1, "two"}
	if n := testing.AllocsPerRun(100, func() { e.Emit("a", args...) }); n != 0 {
		t.Fatalf("Emit allocates %.1f times, want 0", n)
	}
}

// An emitter with its listeners is two live objects, the emitter and its
// list, however many events they are for and whether they are On or Once
// listeners (each connection has five or six emitters, and each object is
// work for every mark of the collector).
func TestEmitterIsTwoObjects(t *testing.T) {
	const n = 2000
	emitters := make([]EventEmitter, n)
	listener := func(...any) {}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range emitters {
		e := NewEventEmitter()
		_ = e.On("packet", listener)
		_ = e.On("error", listener)
		_ = e.On("close", listener)
		_ = e.Once("close", listener)
		emitters[i] = e
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(emitters)
	if per := float64(after.HeapObjects-before.HeapObjects) / n; per > 2.05 {
		t.Fatalf("an emitter with four listeners (one Once) of three events is %.2f live objects, want 2", per)
	}
}

// A Once listener registered while its event is emitted fires on the next
// emit, not the current one, and once; Once listeners of one function
// literal each fire once.
func TestOnceRegisteredWhileEmitting(t *testing.T) {
	e := NewEventEmitter()
	var fired []int
	register := func(n int) { _ = e.Once("a", func(...any) { fired = append(fired, n) }) }
	register(1)
	_ = e.On("a", func(...any) { register(2) }) // registered while the first fires
	e.Emit("a")
	e.Emit("a")
	if !slices.Equal(fired, []int{1, 2}) {
		t.Fatalf("fired %v, want [1 2]", fired)
	}
}
