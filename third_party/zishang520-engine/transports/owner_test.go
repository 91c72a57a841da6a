package transports

import (
	"slices"
	"testing"

	"github.com/zishang520/socket.io/v3/pkg/types"
)

// orderbell patch 11: a transport's owner receives every event it emits,
// before its listeners, and nothing once unset.

type recordingOwner struct{ got *[]string }

func (o recordingOwner) OnTransportEvent(evt types.EventName, args ...any) {
	*o.got = append(*o.got, "owner:"+string(evt))
}

func TestOwnerGetsEventsBeforeListeners(t *testing.T) {
	var got []string
	tr := MakeTransport()
	_ = tr.On("close", func(...any) { got = append(got, "listener:close") })
	tr.SetOwner(recordingOwner{&got})

	tr.OnPacket(nil)
	tr.OnError("boom", nil) // no "error" listener: the owner counts as one
	tr.OnClose()
	want := []string{"owner:packet", "owner:error", "owner:close", "listener:close"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}

	got = nil
	tr.SetOwner(nil)
	tr.OnPacket(nil)
	tr.OnError("ignored", nil)
	if len(got) != 0 {
		t.Fatalf("after SetOwner(nil) the owner still got %q", got)
	}
}

type panickingOwner struct{}

func (panickingOwner) OnTransportEvent(types.EventName, ...any) { panic("an owner panics") }

// An owner that panics is recovered, as a listener is, and the listeners
// still get the event.
func TestOwnerPanicIsRecovered(t *testing.T) {
	tr := MakeTransport()
	heard := false
	_ = tr.On("packet", func(...any) { heard = true })
	tr.SetOwner(panickingOwner{})
	tr.OnPacket(nil)
	if !heard {
		t.Fatal("the listener did not get the packet after the owner panicked")
	}
}
