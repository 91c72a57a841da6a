package types

import (
	"sync"
	"sync/atomic"
)

// orderbell patch: upstream's Map was a copy of Go's old sync.Map, which
// drops a deleted entry only when its dirty part is promoted, after enough
// lookups miss. The engine's client map, the namespace's socket map and the
// adapter's room maps are rarely looked up by a WebSocket session's id after
// its handshake, so each kept one dead entry per session for good (+24% heap
// in a 10-minute churn soak). Go's sync.Map, a hash trie since Go 1.24,
// removes entries at once; Map is now a typed wrapper over it, with the same
// methods and an O(1) Len as before.
type Map[TKey comparable, TValue any] struct {
	_ noCopy

	m      sync.Map
	length atomic.Int64
}

func (m *Map[TKey, TValue]) Load(key TKey) (value TValue, ok bool) {
	v, ok := m.m.Load(key)
	if !ok {
		return value, false
	}
	return as[TValue](v), true
}

// Store sets the value for a key.
func (m *Map[TKey, TValue]) Store(key TKey, value TValue) {
	_, _ = m.Swap(key, value)
}

// Clear deletes all the entries, resulting in an empty Map.
func (m *Map[TKey, TValue]) Clear() {
	m.m.Range(func(key, _ any) bool {
		if _, loaded := m.m.LoadAndDelete(key); loaded {
			m.length.Add(-1)
		}
		return true
	})
}

func (m *Map[TKey, TValue]) LoadOrStore(key TKey, value TValue) (actual TValue, loaded bool) {
	v, loaded := m.m.LoadOrStore(key, value)
	if !loaded {
		m.length.Add(1)
	}
	return as[TValue](v), loaded
}

func (m *Map[TKey, TValue]) LoadAndDelete(key TKey) (value TValue, loaded bool) {
	v, loaded := m.m.LoadAndDelete(key)
	if !loaded {
		return value, false
	}
	m.length.Add(-1)
	return as[TValue](v), true
}

func (m *Map[TKey, TValue]) Delete(key TKey) {
	_, _ = m.LoadAndDelete(key)
}

func (m *Map[TKey, TValue]) Swap(key TKey, value TValue) (previous TValue, loaded bool) {
	v, loaded := m.m.Swap(key, value)
	if !loaded {
		m.length.Add(1)
		return previous, false
	}
	return as[TValue](v), true
}

// CompareAndSwap swaps the old and new values for key if the value stored
// in the map is equal to old. The old value must be of a comparable type.
func (m *Map[TKey, TValue]) CompareAndSwap(key TKey, old TValue, new TValue) (swapped bool) {
	return m.m.CompareAndSwap(key, old, new)
}

// CompareAndDelete deletes the entry for key if its value is equal to old.
// The old value must be of a comparable type.
func (m *Map[TKey, TValue]) CompareAndDelete(key TKey, old TValue) (deleted bool) {
	deleted = m.m.CompareAndDelete(key, old)
	if deleted {
		m.length.Add(-1)
	}
	return deleted
}

func (m *Map[TKey, TValue]) Range(f func(key TKey, value TValue) bool) {
	m.m.Range(func(k, v any) bool { return f(k.(TKey), as[TValue](v)) })
}

func (m *Map[TKey, TValue]) Len() (n int) {
	return int(m.length.Load())
}

func (m *Map[TKey, TValue]) Keys() (keys []TKey) {
	m.Range(func(k TKey, _ TValue) bool {
		keys = append(keys, k)
		return true
	})
	return keys
}

func (m *Map[TKey, TValue]) Values() (values []TValue) {
	m.Range(func(_ TKey, v TValue) bool {
		values = append(values, v)
		return true
	})
	return values
}

// as is v as a TValue; a nil interface value (stored when TValue is an
// interface type) is TValue's zero value.
func as[TValue any](v any) TValue {
	t, _ := v.(TValue)
	return t
}
