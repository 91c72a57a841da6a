package types

import (
	"encoding/json"
	"maps"
	"slices"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// orderbell patch: a set of up to setListMax keys is a short list, and
// becomes a map only past that. Most sets are a socket's rooms (its own
// and its account's) or a room's sockets (one to a few devices): upstream
// made each a map, 200-odd bytes for one or two keys, two or three of them
// per idle connection. Keys() lists a small set in the order added.
type Set[KType comparable] struct {
	mu    sync.RWMutex
	list  []KType        // the keys, while cache is nil
	cache map[KType]Void // the keys, once there were more than setListMax
}

// setListMax is the most keys a Set keeps in a list: past it a lookup in
// the list costs more than in a map.
const setListMax = 8

// NewSet creates a new Set and initializes it with the provided keys.
func NewSet[KType comparable](keys ...KType) *Set[KType] {
	s := &Set[KType]{}
	s.populate(keys)
	return s
}

// add adds key (caller must hold the write lock).
func (s *Set[KType]) add(key KType) {
	if s.cache != nil {
		s.cache[key] = NULL
		return
	}
	if slices.Contains(s.list, key) {
		return
	}
	if len(s.list) < setListMax {
		s.list = append(s.list, key)
		return
	}
	s.cache = make(map[KType]Void, 2*setListMax)
	for _, k := range s.list {
		s.cache[k] = NULL
	}
	s.cache[key] = NULL
	s.list = nil
}

// Add adds the provided keys to the set.
func (s *Set[KType]) Add(keys ...KType) bool {
	if len(keys) == 0 {
		return false
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	for _, key := range keys {
		s.add(key)
	}
	return true
}

// Delete removes the provided keys from the set.
func (s *Set[KType]) Delete(keys ...KType) bool {
	if len(keys) == 0 {
		return false
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	for _, key := range keys {
		if s.cache != nil {
			delete(s.cache, key)
		} else if i := slices.Index(s.list, key); i >= 0 {
			s.list = slices.Delete(s.list, i, i+1)
		}
	}
	if len(s.list) == 0 {
		s.list = nil
	}
	return true
}

// Clear removes all items from the set, reusing the underlying map memory
// (orderbell patch: and a short list's array, so a set cleared and refilled
// for each use, as orderbell's broadcasts do, allocates nothing).
func (s *Set[KType]) Clear() bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	clear(s.cache)
	clear(s.list) // holding on to none of the keys
	s.list = s.list[:0]
	return true
}

// Has checks if the set contains the provided key.
func (s *Set[KType]) Has(key KType) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()

	if s.cache != nil {
		_, exists := s.cache[key]
		return exists
	}
	return slices.Contains(s.list, key)
}

// Len returns the number of items in the set.
func (s *Set[KType]) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()

	if s.cache != nil {
		return len(s.cache)
	}
	return len(s.list)
}

// All returns a copy of the set's keys as a map.
func (s *Set[KType]) All() map[KType]Void {
	s.mu.RLock()
	defer s.mu.RUnlock()

	if s.cache != nil {
		return maps.Clone(s.cache)
	}
	all := make(map[KType]Void, len(s.list))
	for _, k := range s.list {
		all[k] = NULL
	}
	return all
}

// Keys returns a slice containing all keys in the set.
func (s *Set[KType]) Keys() []KType {
	s.mu.RLock()
	defer s.mu.RUnlock()

	return s.keys()
}

// keys returns a new slice of all keys without locking (caller must hold lock).
func (s *Set[KType]) keys() []KType {
	if s.cache != nil {
		return slices.Collect(maps.Keys(s.cache))
	}
	return slices.Clone(s.list)
}

// populate replaces the set contents from a slice of keys (caller must hold write lock).
func (s *Set[KType]) populate(keys []KType) {
	s.list, s.cache = nil, nil
	if len(keys) > setListMax {
		s.cache = make(map[KType]Void, len(keys))
	} else if len(keys) > 0 {
		s.list = make([]KType, 0, len(keys))
	}
	for _, key := range keys {
		s.add(key)
	}
}

// MarshalJSON implements the json.Marshaler interface.
func (s *Set[KType]) MarshalJSON() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()

	return json.Marshal(s.keys())
}

// UnmarshalJSON implements the json.Unmarshaler interface.
func (s *Set[KType]) UnmarshalJSON(data []byte) error {
	var keys []KType
	if err := json.Unmarshal(data, &keys); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.populate(keys)
	return nil
}

// MarshalMsgpack implements the msgpack.Marshaler interface.
func (s *Set[KType]) MarshalMsgpack() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()

	return msgpack.Marshal(s.keys())
}

// UnmarshalMsgpack implements the msgpack.Unmarshaler interface.
func (s *Set[KType]) UnmarshalMsgpack(data []byte) error {
	var keys []KType
	if err := msgpack.Unmarshal(data, &keys); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.populate(keys)
	return nil
}
