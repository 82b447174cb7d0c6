package client

import (
	"net/http"
	"sync"
	"time"
)

// serverClock remembers the server's clock from the Date header of its
// latest answer. Expiry timestamps are the server's; comparing them with
// the server's own time keeps decisions such as "at least 20 minutes of
// life left" right when the local clock is off.
type serverClock struct {
	mu   sync.Mutex
	date time.Time // the server's Date
	at   time.Time // local time (monotonic) when it arrived
}

func (sc *serverClock) note(h http.Header) {
	v := h.Get("Date")
	if v == "" {
		return
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return
	}
	sc.mu.Lock()
	sc.date, sc.at = t, time.Now()
	sc.mu.Unlock()
}

// ServerNow is the server's time now: the Date header of its latest
// successful answer plus the time elapsed since (Date has one-second
// resolution), or the local clock when no answer carried a Date.
func (c *Client) ServerNow() time.Time {
	c.clock.mu.Lock()
	defer c.clock.mu.Unlock()
	if c.clock.date.IsZero() {
		return time.Now()
	}
	return c.clock.date.Add(time.Since(c.clock.at))
}
