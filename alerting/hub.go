package alerting

import (
	"sync"

	"github.com/vigilhq/vigil"
)

// Hub fans new alerts out to live subscribers (the UI's event stream).
// A subscriber that does not keep up misses alerts rather than slowing
// detection; it learns how many through Dropped.
type Hub struct {
	mu   sync.Mutex
	subs map[string]map[*Subscription]bool
}

// Subscription receives an organisation's new alerts.
type Subscription struct {
	C       chan vigil.Alert
	dropped int
	hub     *Hub
	org     string
}

// Subscribe starts receiving an organisation's alerts; Close stops it.
func (h *Hub) Subscribe(orgID string) *Subscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[string]map[*Subscription]bool{}
	}
	if h.subs[orgID] == nil {
		h.subs[orgID] = map[*Subscription]bool{}
	}
	s := &Subscription{C: make(chan vigil.Alert, 64), hub: h, org: orgID}
	h.subs[orgID][s] = true
	return s
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	delete(s.hub.subs[s.org], s)
}

// Dropped is how many alerts the subscriber missed.
func (s *Subscription) Dropped() int {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.dropped
}

// Publish sends an alert to the organisation's subscribers.
func (h *Hub) Publish(orgID string, a vigil.Alert) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[orgID] {
		select {
		case s.C <- a:
		default:
			s.dropped++
		}
	}
}
