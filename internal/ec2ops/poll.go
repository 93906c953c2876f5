package ec2ops

import (
	"context"
	"time"
)

// pollUntil calls step at once and then every c.poll until step says done
// or fails, within the Client's wait timeout. When the wait ends first,
// the error is expired's, given the context's error, so each waiter names
// what it was still waiting for.
func (c *Client) pollUntil(ctx context.Context, step func(context.Context) (done bool, err error), expired func(error) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.waitTimeout)
	defer cancel()
	tick := time.NewTicker(c.poll)
	defer tick.Stop()
	for {
		if done, err := step(ctx); done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return expired(ctx.Err())
		case <-tick.C:
		}
	}
}
