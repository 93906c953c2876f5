package marathon

import "time"

// OnSleep has f told of every wait between WaitReady's attempts.
func OnSleep(c *Client, f func(time.Duration)) { c.onSleep = f }
