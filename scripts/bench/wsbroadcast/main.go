// wsbroadcast: the WebSocket end of `make bench`'s viewer measurement.
//
// Every connection on /ws/dashboards/{id} gets its own JSON push at a fixed
// rate, shaped like the reference backend's (seq from 1, sent_at in unix
// seconds, six widgets), so the Locust DashboardViewer reads it unchanged.
// It is written in Go so that the server, not the Locust process under
// test, is never the bottleneck: one goroutine per connection, no Python.
//
//	wsbroadcast -addr 127.0.0.1:PORT [-hz 2]
package main

import (
	"encoding/json"
	"flag"
	"log"
	"math/rand"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

type widget struct {
	ID    int     `json:"id"`
	Value float64 `json:"value"`
}

type push struct {
	Seq       int64    `json:"seq"`
	SentAt    float64  `json:"sent_at"`
	Dashboard int      `json:"dashboard"`
	Widgets   []widget `json:"widgets"`
}

const widgetsPerDashboard = 6

var (
	upgrader  = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	connected atomic.Int64
	sent      atomic.Int64
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	hz := flag.Float64("hz", 2, "pushes per second per connection")
	flag.Parse()

	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("wsbroadcast: -addr must be a loopback address, got %q", *addr)
	}
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("wsbroadcast: %v", err)
	}
	interval := time.Duration(float64(time.Second) / *hz)

	mux := http.NewServeMux()
	mux.HandleFunc("/ws/dashboards/", func(w http.ResponseWriter, r *http.Request) {
		dashboard, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/ws/dashboards/"))
		if err != nil || dashboard < 1 {
			http.Error(w, "dashboard id must be a positive integer", http.StatusNotFound)
			return
		}
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered the client already
		}
		serve(conn, dashboard, interval)
	})
	// The bench reads these to tell a slow server from a slow client.
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]int64{"connected": connected.Load(), "sent": sent.Load()})
	})
	log.Printf("wsbroadcast: listening on %s, %.3g Hz per connection", listener.Addr(), *hz)
	log.Fatal(http.Serve(listener, mux))
}

func serve(conn *websocket.Conn, dashboard int, interval time.Duration) {
	connected.Add(1)
	defer connected.Add(-1)
	defer conn.Close()

	// Reading is how we learn the client left; a send-only loop may block forever.
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()

	message := push{Dashboard: dashboard, Widgets: make([]widget, widgetsPerDashboard)}
	for k := range message.Widgets {
		message.Widgets[k].ID = (dashboard-1)*widgetsPerDashboard + k + 1
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-gone:
			return
		case <-ticker.C:
		}
		message.Seq++
		for k := range message.Widgets {
			message.Widgets[k].Value = rand.Float64() * 1000
		}
		message.SentAt = float64(time.Now().UnixNano()) / 1e9
		if err := conn.WriteJSON(&message); err != nil {
			return
		}
		sent.Add(1)
	}
}
