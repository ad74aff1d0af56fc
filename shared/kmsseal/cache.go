package kmsseal

import (
	"container/list"
	"crypto/cipher"
	"sync"
	"time"
)

// keyCache keeps unwrapped data keys (as ready AEADs, never raw bytes) for a
// bounded number of customers. An entry lives ttl from when it was unwrapped,
// however often it is used, so a shredded key disappears from every process
// within ttl; when full, the least recently used customer goes. Safe for
// concurrent use.
type keyCache struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	order *list.List // of *cacheEntry, most recently used first
	byID  map[string]*list.Element
}

type cacheEntry struct {
	customerID string
	aead       cipher.AEAD
	expires    time.Time
}

func newKeyCache(max int, ttl time.Duration) *keyCache {
	return &keyCache{max: max, ttl: ttl, order: list.New(), byID: make(map[string]*list.Element)}
}

func (c *keyCache) get(customerID string, now time.Time) (cipher.AEAD, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byID[customerID]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.byID, customerID)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.aead, true
}

func (c *keyCache) put(customerID string, a cipher.AEAD, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[customerID]; ok {
		el.Value = &cacheEntry{customerID: customerID, aead: a, expires: now.Add(c.ttl)}
		c.order.MoveToFront(el)
		return
	}
	c.byID[customerID] = c.order.PushFront(&cacheEntry{customerID: customerID, aead: a, expires: now.Add(c.ttl)})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byID, last.Value.(*cacheEntry).customerID)
	}
}

func (c *keyCache) remove(customerID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[customerID]; ok {
		c.order.Remove(el)
		delete(c.byID, customerID)
	}
}

func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
