package web

import "sync"

// notifier wakes waiters by key: agents long-polling for instructions.
type notifier struct {
	mu      sync.Mutex
	waiters map[string]map[chan struct{}]bool
}

func (n *notifier) subscribe(key string) chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.waiters == nil {
		n.waiters = map[string]map[chan struct{}]bool{}
	}
	if n.waiters[key] == nil {
		n.waiters[key] = map[chan struct{}]bool{}
	}
	c := make(chan struct{}, 1)
	n.waiters[key][c] = true
	return c
}

func (n *notifier) unsubscribe(key string, c chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.waiters[key], c)
	if len(n.waiters[key]) == 0 {
		delete(n.waiters, key)
	}
}

func (n *notifier) notify(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for c := range n.waiters[key] {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}
