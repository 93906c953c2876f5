package marathon

import "time"

// OnSleep has f told of every wait the client makes between attempts or
// polls.
func OnSleep(c *Client, f func(time.Duration)) { c.onSleep = f }
