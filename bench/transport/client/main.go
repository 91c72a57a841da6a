// Command client opens n idle WebSocket connections to the prototype
// server, reads each one's open packet, waits 5 s and prints the server's
// RSS per connection, then what one collection of the server marks and
// costs (its /gc).
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	n := flag.Int("n", 10000, "connections")
	flag.Parse()
	before := rssKB()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	conns := make([]*websocket.Conn, *n)
	start := time.Now()
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, _, err := websocket.DefaultDialer.Dial("ws://127.0.0.1:9300/ws", nil)
			if err != nil {
				log.Fatal(err)
			}
			if _, _, err := c.ReadMessage(); err != nil {
				log.Fatal(err)
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	took := time.Since(start)
	time.Sleep(5 * time.Second)
	after := rssKB()
	fmt.Printf("%d connections in %.2f s (%.0f/s); server RSS %d → %d KB after 5 s idle = %.1f KB per connection\n",
		*n, took.Seconds(), float64(*n)/took.Seconds(), before, after, float64(after-before)/float64(*n))
	fmt.Print(get("/gc"))
}

// get is the server's answer to GET path.
func get(path string) string {
	resp, err := http.Get("http://127.0.0.1:9300" + path)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	return string(b)
}

// rssKB is the server's resident set, from its /rss answer ("VmRSS: N kB").
func rssKB() int {
	b := get("/rss")
	f := strings.Fields(b)
	if len(f) < 2 {
		log.Fatalf("/rss answered %q", b)
	}
	kb, err := strconv.Atoi(f[1])
	if err != nil {
		log.Fatalf("/rss answered %q", b)
	}
	return kb
}
