package socket

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/orderbell/orderbell/models"
)

// TestSoak churns sockets (connect with a replay, read, leave) while
// alerts flow, then checks nothing grew: the heap after the warm-up and at
// the end, and goroutines back to the baseline once everyone has left.
// ORDERBELL_SOAK sets the duration (make test: 60s); ORDERBELL_SOAK_CONNS
// the sockets held at once (default 1000). Unset, it is skipped.
func TestSoak(t *testing.T) {
	duration, err := time.ParseDuration(os.Getenv("ORDERBELL_SOAK"))
	if err != nil {
		t.Skip("ORDERBELL_SOAK (a duration) is not set")
	}
	conns := 1000
	if n, err := strconv.Atoi(os.Getenv("ORDERBELL_SOAK_CONNS")); err == nil && n > 0 {
		conns = n
	}
	baseline := liveGoroutines()
	s := newTestServer(t, Config{})
	url := s.url
	const accounts = 200
	tokenOf := make([]string, accounts)
	for i := range tokenOf {
		tokenOf[i] = s.token(t, int64(i+1))
	}

	var received, connected, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Each worker holds one socket at a time, for a random-ish while, and
	// comes back asking for what it missed.
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := soakSession(url, tokenOf[(w+i)%accounts], time.Duration(2+(w+i)%8)*time.Second, stop, &received); err != nil {
					failed.Add(1)
				} else {
					connected.Add(1)
				}
			}
		}()
	}
	// Alerts at a steady rate, to every account in turn.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for id := int64(1); ; id++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			s.Notify(models.Notification{ID: id, RecipientRole: models.RoleOwner, RecipientID: id%accounts + 1,
				Event: models.EventSubmitOrder, OrderID: id, StoreID: 1, TotalPrice: 1000, CreatedAt: time.Now()})
		}
	}()

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	profile := func(name string) { // ORDERBELL_SOAK_PROFILES=dir keeps heap profiles to compare
		if dir := os.Getenv("ORDERBELL_SOAK_PROFILES"); dir != "" {
			if f, err := os.Create(filepath.Join(dir, name)); err == nil {
				_ = pprof.WriteHeapProfile(f)
				_ = f.Close()
			}
		}
	}
	time.Sleep(duration / 3) // warm-up: every worker has connected at least once
	warm, warmGoroutines := heap(), liveGoroutines()
	profile("warm.pprof")
	time.Sleep(duration - duration/3)
	end, endGoroutines := heap(), liveGoroutines()
	profile("end.pprof")
	close(stop)
	wg.Wait()
	t.Logf("%d sockets held, %d sessions, %d failed, %d alerts received; heap %d → %d KiB, goroutines %d → %d",
		conns, connected.Load(), failed.Load(), received.Load(), warm>>10, end>>10, warmGoroutines, endGoroutines)
	if failed.Load() > connected.Load()/100 {
		t.Errorf("%d of %d sessions failed", failed.Load(), connected.Load()+failed.Load())
	}
	if end > warm+warm/10+8<<20 {
		t.Errorf("heap grew from %d to %d KiB under a steady load", warm>>10, end>>10)
	}
	if endGoroutines > warmGoroutines+warmGoroutines/10+50 {
		t.Errorf("goroutines grew from %d to %d under a steady load", warmGoroutines, endGoroutines)
	}

	// Everyone has left: the server's goroutines go back to the baseline.
	s.stop()
	deadline := time.Now().Add(30 * time.Second)
	for liveGoroutines() > baseline+10 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := liveGoroutines(); n > baseline+10 {
		var dump strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&dump, 1)
		t.Fatalf("%d goroutines after everyone left, baseline %d:\n%s", n, baseline, dump.String())
	}
}

// soakSession connects one socket with a replay request, reads what comes
// for hold, and leaves.
func soakSession(url, token string, hold time.Duration, stop <-chan struct{}, received *atomic.Int64) error {
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, open, err := conn.ReadMessage(); err != nil || !strings.HasPrefix(string(open), "0{") {
		return fmt.Errorf("open: %q %v", open, err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`40{"token":"`+token+`","last_notification_id":0}`)); err != nil {
		return err
	}
	leave := time.Now().Add(hold)
	for time.Now().Before(leave) {
		select {
		case <-stop:
			return nil
		default:
		}
		_ = conn.SetReadDeadline(leave)
		_, data, err := conn.ReadMessage()
		if err != nil {
			if time.Now().Before(leave) {
				return err
			}
			return nil
		}
		switch msg := string(data); {
		case strings.HasPrefix(msg, `42["SUBMIT_ORDER"`):
			received.Add(1)
		case msg == "2":
			_ = conn.WriteMessage(websocket.TextMessage, []byte("3"))
		}
	}
	return nil
}
