package marathon

import (
	"fmt"
	"net/http"
)

// Request is an HTTP request the client would make, for dry runs.
type Request struct {
	Method, URL string
	Body        []byte
}

// ApplyRequest returns the PUT that Apply makes for a manifest against the
// Marathon at baseURL, without contacting it.
func ApplyRequest(rawURL string, doc []byte) (Request, error) {
	base, err := baseURL(rawURL)
	if err != nil {
		return Request{}, err
	}
	_, id, err := decodeManifest(doc)
	if err != nil {
		return Request{}, err
	}
	return Request{Method: http.MethodPut, URL: base + "/v2/apps" + id, Body: doc}, nil
}

// DeleteRequest returns the DELETE that Delete makes, without contacting
// Marathon.
func DeleteRequest(rawURL, appID string) (Request, error) {
	base, err := baseURL(rawURL)
	if err != nil {
		return Request{}, err
	}
	id, err := normalizeID(appID)
	if err != nil {
		return Request{}, fmt.Errorf("deleting an app: %w", err)
	}
	return Request{Method: http.MethodDelete, URL: base + "/v2/apps" + id + "?force=true"}, nil
}
