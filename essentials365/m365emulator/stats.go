package m365emulator

import (
	"sync/atomic"
)

// Stats counts what a [Server] has done since it was created.
type Stats struct {
	// Requests counts the HTTP requests received (a $batch counts once).
	Requests int64
	// BatchItems counts the requests received inside $batch bodies.
	BatchItems int64
	// Throttled counts 429 answers, to requests and to batch items.
	Throttled int64
	// Unavailable counts 503 answers.
	Unavailable int64
	// Resets counts connections closed without an answer.
	Resets int64
	// WritesAccepted counts writes (POST, PATCH, PUT, DELETE, outer $batch
	// excluded) that succeeded.
	WritesAccepted int64
	// Routes counts requests and batch items per route, keyed like
	// "GET /users/{id}".
	Routes map[string]int64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	routes := make(map[string]int64, len(s.routes))
	for k, v := range s.routes {
		routes[k] = v
	}
	s.mu.Unlock()
	return Stats{
		Requests:       s.requests.Load(),
		BatchItems:     s.batchItems.Load(),
		Throttled:      s.throttled.Load(),
		Unavailable:    s.unavailable.Load(),
		Resets:         s.resets.Load(),
		WritesAccepted: s.writes.Load(),
		Routes:         routes,
	}
}

// ResetStats sets every counter of Stats back to zero, e.g. between the
// set-up and the measured part of a request-count test.
func (s *Server) ResetStats() {
	s.mu.Lock()
	s.routes = map[string]int64{}
	s.mu.Unlock()
	for _, c := range []*atomic.Int64{&s.requests, &s.batchItems, &s.throttled, &s.unavailable, &s.resets, &s.writes} {
		c.Store(0)
	}
}

func (s *Server) countRoute(name string) {
	s.mu.Lock()
	s.routes[name]++
	s.mu.Unlock()
}
