package models

import "testing"

// An id has one slot: a later id in it makes the earlier one a miss (with
// no recipient, not the later id's), and the empty slot (id 0) is never a
// hit.
func TestLaneHintSlots(t *testing.T) {
	h := new(laneHints)
	if _, ok := h.get(h.orders[:], 0); ok {
		t.Fatal("id 0 found in an empty table")
	}
	h.put(h.orders[:], 7, 70)
	if v, ok := h.get(h.orders[:], 7); !ok || v != 70 {
		t.Fatalf("order 7: %d, %v; want 70, true", v, ok)
	}
	h.put(h.orders[:], 7+orderHints, 80)
	if v, ok := h.get(h.orders[:], 7); ok || v != 0 {
		t.Fatalf("order 7 after the order in its slot replaced it: %d, %v; want 0, false (not the other order's customer)", v, ok)
	}
	if v, ok := h.get(h.orders[:], 7+orderHints); !ok || v != 80 {
		t.Fatalf("order %d: %d, %v; want 80, true", 7+orderHints, v, ok)
	}
	if _, ok := h.get(h.stores[:], 7); ok {
		t.Fatal("a store found in the orders' table")
	}
}
