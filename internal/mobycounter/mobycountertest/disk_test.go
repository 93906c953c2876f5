package mobycountertest_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter/mobycountertest"
)

// volume is a Disk that can be pulled from under the server.
type volume struct {
	mu       sync.Mutex
	data     []string
	detached bool
}

func (v *volume) ReadFile() ([]string, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.data), v.data != nil, nil
}

func (v *volume) WriteFile(data []string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.detached {
		return errors.New("EIO")
	}
	v.data = data
	return nil
}

func (v *volume) get() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.data)
}

// A buffered click is acknowledged from the page cache; a writeback the
// volume refuses loses it for good, though the app still answers it.
func TestRefusedWritebackLosesTheClicks(t *testing.T) {
	vol := &volume{}
	var acked []string
	srv, err := mobycountertest.NewServerOn(vol, mobycountertest.WithBuffered(), mobycountertest.WithOnAck(func(c string) { acked = append(acked, c) }))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	app := mobycounter.New(srv.URL)
	if err := app.Write(ctx, "1:1"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Sync(); err != nil || !slices.Equal(vol.get(), []string{"1:1"}) {
		t.Fatalf("sync: %v, volume %v", err, vol.get())
	}
	if err := app.Write(ctx, "2:2"); err != nil {
		t.Fatal(err)
	}
	vol.mu.Lock()
	vol.detached = true
	vol.mu.Unlock()
	if err := srv.Sync(); err == nil || srv.WritebackError() == nil {
		t.Errorf("sync to a detached volume: %v, recorded %v", err, srv.WritebackError())
	}
	vol.mu.Lock()
	vol.detached = false
	vol.mu.Unlock()
	if err := srv.Sync(); err != nil || !slices.Equal(vol.get(), []string{"1:1"}) {
		t.Errorf("the lost writeback came back: %v, volume %v", err, vol.get())
	}
	if got, _ := app.Read(ctx); !slices.Equal(got, []string{"1:1", "2:2"}) {
		t.Errorf("the app answers %v from its cache", got)
	}
	if !slices.Equal(acked, []string{"1:1", "2:2"}) {
		t.Errorf("acknowledged %v", acked)
	}
}

// Shutdown takes no click after its sync: what it acknowledged is on the
// volume.
func TestShutdownSyncsWhatItAcknowledged(t *testing.T) {
	vol := &volume{}
	srv, err := mobycountertest.NewServerOn(vol, mobycountertest.WithBuffered())
	if err != nil {
		t.Fatal(err)
	}
	app := mobycounter.New(srv.URL)
	if err := app.Write(context.Background(), "3:3"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(); err != nil || !slices.Equal(vol.get(), []string{"3:3"}) {
		t.Errorf("shutdown: %v, volume %v", err, vol.get())
	}
	if err := app.Write(context.Background(), "4:4"); err == nil {
		t.Error("a click acknowledged after the shutdown")
	}
}
