package types

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// orderbell patch: a Set keeps up to setListMax keys in a list and moves
// them to a map past that. Whatever the sequence of changes, it holds
// exactly what a plain map would, on both sides of the switch and back.
func TestSetMatchesAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		s := NewSet[int]()
		want := map[int]Void{}
		universe := 1 + round%(3*setListMax) // small and large sets
		for range 300 {
			k := rng.IntN(universe)
			switch rng.IntN(10) {
			case 0:
				s.Clear()
				clear(want)
			case 1, 2, 3:
				s.Delete(k)
				delete(want, k)
			default:
				k2 := rng.IntN(universe)
				s.Add(k, k2)
				want[k], want[k2] = NULL, NULL
			}
			if s.Len() != len(want) {
				t.Fatalf("round %d: Len %d, want %d", round, s.Len(), len(want))
			}
			if !maps.Equal(s.All(), want) {
				t.Fatalf("round %d: All %v, want %v", round, s.All(), want)
			}
			keys := s.Keys()
			if len(keys) != len(want) {
				t.Fatalf("round %d: Keys %v has duplicates or misses, want %v", round, keys, want)
			}
			for k := range universe {
				_, in := want[k]
				if s.Has(k) != in {
					t.Fatalf("round %d: Has(%d) = %v, want %v", round, k, !in, in)
				}
			}
		}
	}
}

func TestSetKeepsNoDuplicates(t *testing.T) {
	s := NewSet("a", "b", "a")
	s.Add("b", "c", "c")
	keys := s.Keys()
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"a", "b", "c"}) {
		t.Fatalf("keys %v, want [a b c]", keys)
	}
	many := make([]string, 0, 3*setListMax)
	for i := range 3 * setListMax {
		many = append(many, string(rune('a'+i%(2*setListMax))))
	}
	if n := NewSet(many...).Len(); n != 2*setListMax {
		t.Fatalf("NewSet of %d keys, %d distinct: Len %d", len(many), 2*setListMax, n)
	}
}

func TestSetJSONRoundTrip(t *testing.T) {
	for _, n := range []int{0, 2, setListMax + 3} {
		s := NewSet[int]()
		for i := range n {
			s.Add(i)
		}
		data, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		back := NewSet[int]()
		if err := json.Unmarshal(data, back); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(back.All(), s.All()) {
			t.Fatalf("%d keys: %s came back as %v", n, data, back.All())
		}
	}
}

// orderbell patch: a small set cleared and refilled (as orderbell's
// broadcasts reuse theirs) keeps its list's array, and none of the old keys.
func TestSetClearedAndRefilledAllocatesNothing(t *testing.T) {
	s := NewSet("room-a", "room-b")
	allocs := testing.AllocsPerRun(100, func() {
		s.Clear()
		s.Add("room-c")
	})
	if allocs != 0 {
		t.Errorf("Clear then Add of one key: %v allocations, want 0", allocs)
	}
	if keys := s.Keys(); !slices.Equal(keys, []string{"room-c"}) {
		t.Fatalf("keys %v, want [room-c]", keys)
	}
	s.Clear()
	if s.Len() != 0 || s.Has("room-c") || len(s.Keys()) != 0 {
		t.Fatalf("a cleared set still holds %v", s.Keys())
	}
	if spare := s.list[:cap(s.list)]; slices.ContainsFunc(spare, func(k string) bool { return k != "" }) {
		t.Fatalf("the cleared list's array still holds %q", spare)
	}
}
