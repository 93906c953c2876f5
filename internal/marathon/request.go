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

// ApplyRequest returns the PUT that Apply makes first for a manifest
// against the Marathons at rawURL (one URL or a comma-separated list, as
// New takes: the first is asked first), without contacting them.
func ApplyRequest(rawURL string, doc []byte) (Request, error) {
	urls, err := parseEndpoints(rawURL)
	if err != nil {
		return Request{}, err
	}
	base := urls[0]
	_, id, err := decodeManifest(doc)
	if err != nil {
		return Request{}, err
	}
	return Request{Method: http.MethodPut, URL: base + "/v2/apps" + id, Body: doc}, nil
}

// DeleteRequest returns the DELETE that Delete makes first, without
// contacting Marathon.
func DeleteRequest(rawURL, appID string) (Request, error) {
	urls, err := parseEndpoints(rawURL)
	if err != nil {
		return Request{}, err
	}
	base := urls[0]
	id, err := normalizeID(appID)
	if err != nil {
		return Request{}, fmt.Errorf("deleting an app: %w", err)
	}
	return Request{Method: http.MethodDelete, URL: base + "/v2/apps" + id + "?force=true"}, nil
}
