// Command server measures what the transport alone costs per idle
// WebSocket connection: a std net/http server (as orderbell's) upgrading
// with gorilla (a reader goroutine per connection, as the Socket.IO
// library) or with nbio, which hands the upgraded connection to its epoll
// poller (no goroutine per connection). Each connection gets an Engine.IO
// open packet and a ping every 25 s; nothing else. GET /rss reports VmRSS;
// GET /gc collects twice and reports the second collection: the live heap
// and objects it marked, and its time (what a mark costs per connection).
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"time"

	gws "github.com/gorilla/websocket"
	"github.com/lesismal/nbio/nbhttp"
	nws "github.com/lesismal/nbio/nbhttp/websocket"
)

var open = []byte(`0{"sid":"xxxxxxxxxxxxxxxxxxxx","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)

func main() {
	mode := flag.String("mode", "nbio", "nbio, gorilla, or relay (the original's emit flow on nbio: relay.go)")
	key := flag.String("key", "benchkey", "relay: the HS256 key of the tokens")
	addr := flag.String("addr", "127.0.0.1:9300", "listen address (the client dials 127.0.0.1:9300)")
	flag.Parse()
	var conns atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/rss", func(w http.ResponseWriter, r *http.Request) {
		b, _ := os.ReadFile("/proc/self/status")
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS:") {
				fmt.Fprintf(w, "%s conns %d\n", strings.TrimSpace(l), conns.Load())
			}
		}
	})
	mux.HandleFunc("/gc", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC() // the connect burst's garbage first
		fmt.Fprintln(w, collect(conns.Load()))
	})
	switch *mode {
	case "relay":
		if _, err := serveRelay(mux, &conns, *key); err != nil {
			log.Fatal(err)
		}
	case "nbio":
		u, _, err := pollerUpgrader()
		if err != nil {
			log.Fatal(err)
		}
		u.OnMessage(func(c *nws.Conn, _ nws.MessageType, data []byte) {})
		u.OnClose(func(c *nws.Conn, err error) { conns.Add(-1) })
		mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
			c, err := u.UpgradeAndTransferConnToPoller(w, r, nil)
			if err != nil {
				return
			}
			conns.Add(1)
			_ = c.WriteMessage(nws.TextMessage, open)
			pingEvery(func(p []byte) error { return c.WriteMessage(nws.TextMessage, p) })
		})
	case "gorilla":
		u := gws.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
		mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
			c, err := u.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			conns.Add(1)
			_ = c.WriteMessage(gws.TextMessage, open)
			go func() {
				defer conns.Add(-1)
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}()
			pingEvery(func(p []byte) error { return c.WriteMessage(gws.TextMessage, p) })
		})
	}
	log.Fatal(http.ListenAndServe(*addr, mux))
}

// pollerUpgrader starts an nbio engine and returns an upgrader that hands
// upgraded connections to its poller (UpgradeAndTransferConnToPoller).
func pollerUpgrader() (*nws.Upgrader, *nbhttp.Engine, error) {
	engine := nbhttp.NewEngine(nbhttp.Config{})
	if err := engine.Start(); err != nil {
		return nil, nil, err
	}
	u := nws.NewUpgrader()
	u.Engine = engine
	u.CheckOrigin = func(*http.Request) bool { return true }
	return u, engine, nil
}

// pingEvery writes an Engine.IO ping every 25 s until a write fails (the
// connection is closed).
func pingEvery(write func([]byte) error) {
	var ping func()
	ping = func() {
		if write([]byte("2")) == nil {
			time.AfterFunc(25*time.Second, ping)
		}
	}
	time.AfterFunc(25*time.Second, ping)
}

// collect runs one collection and describes it: the live heap and objects
// it marked, its clock time and the CPU its mark took (assists, dedicated
// and idle workers).
func collect(conns int64) string {
	names := []string{
		"/gc/heap/live:bytes",
		"/gc/heap/objects:objects",
		"/sched/goroutines:goroutines",
		"/cpu/classes/gc/mark/assist:cpu-seconds",
		"/cpu/classes/gc/mark/dedicated:cpu-seconds",
		"/cpu/classes/gc/mark/idle:cpu-seconds",
	}
	before := make([]metrics.Sample, len(names))
	for i, n := range names {
		before[i].Name = n
	}
	after := make([]metrics.Sample, len(names))
	copy(after, before)
	metrics.Read(before)
	start := time.Now()
	runtime.GC()
	took := time.Since(start)
	metrics.Read(after)
	mark := 0.0
	for i := 3; i < 6; i++ {
		mark += after[i].Value.Float64() - before[i].Value.Float64()
	}
	live, objects := after[0].Value.Uint64(), after[1].Value.Uint64()
	n := float64(max(conns, 1))
	return fmt.Sprintf("conns %d: live heap %.1f MB, %d objects, %d goroutines (%.2f KB, %.1f objects per connection); a collection %.1f ms, its mark %.1f ms of CPU",
		conns, float64(live)/1e6, objects, after[2].Value.Uint64(), float64(live)/n/1024, float64(objects)/n,
		float64(took.Microseconds())/1000, mark*1000)
}
