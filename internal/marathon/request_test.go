package marathon_test

import (
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/marathon"
)

func TestRequests(t *testing.T) {
	doc := []byte(`{"id":"marathon-ha/moby-counter"}`)
	r, err := marathon.ApplyRequest("http://10.42.1.10:8080/", doc)
	if err != nil || r.Method != "PUT" || r.URL != "http://10.42.1.10:8080/v2/apps/marathon-ha/moby-counter" || string(r.Body) != string(doc) {
		t.Errorf("ApplyRequest = %+v, %v", r, err)
	}
	d, err := marathon.DeleteRequest("http://10.42.1.10:8080", "/marathon-ha/moby-counter")
	if err != nil || d.Method != "DELETE" || d.URL != "http://10.42.1.10:8080/v2/apps/marathon-ha/moby-counter?force=true" {
		t.Errorf("DeleteRequest = %+v, %v", d, err)
	}
	if _, err := marathon.ApplyRequest("http://m:8080", []byte(`{"cmd":"x"}`)); err == nil || !strings.Contains(err.Error(), `no "id"`) {
		t.Errorf("ApplyRequest without id: %v", err)
	}
	if _, err := marathon.DeleteRequest("m:8080", "/a"); err == nil {
		t.Error("DeleteRequest accepted a URL without scheme")
	}
}
