package marathontest

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// pingVariants are the media types Marathon 1.4.9's /ping offers, in its
// order (mesosphere/marathon v1.4.9
// src/main/scala/mesosphere/marathon/api/SystemResource.scala, ping:
// "TEXT_PLAIN_TYPE, // first, in case client accepts */* or text/*",
// TEXT_HTML_TYPE, APPLICATION_JSON_TYPE, text/*). This is 1.4.6's fix
// (c532c5433 "accepting wildcard for ping to enable previous behavior for
// 1.4", 89ce971a4 "ping back port"); 1.4.4 and 1.4.5 produced text/plain
// only and answered a JSON-only client 406 (221b6ac5f, #5380).
var pingVariants = []mediaRange{{"text", "plain", 1}, {"text", "html", 1}, {"application", "json", 1}, {"text", "*", 1}}

// ping answers as SystemResource.ping does: it selects a variant for the
// Accept header (JAX-RS Request.selectVariant; a missing header accepts
// everything) and answers the JSON string "pong" as application/json, or
// the text pong (no newline) as the selected text type, text/plain for a
// wildcard; with no acceptable variant it answers 204 No Content. So go-marathon's
// Ping ("Accept: application/json") and its health checker (no Accept)
// both get 200.
func (s *Server) ping(w http.ResponseWriter, r *http.Request) {
	v, ok := selectVariant(r.Header.Get("Accept"), pingVariants)
	switch {
	case !ok:
		w.WriteHeader(http.StatusNoContent)
	case v.typ == "application":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`"pong"`))
	default:
		ct := v.typ + "/" + v.sub
		if v.sub == "*" {
			ct = "text/plain" // "never return a Content-Type w/ a wildcard"
		}
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write([]byte("pong"))
	}
}

type mediaRange struct {
	typ, sub string
	q        float64
}

func (m mediaRange) compatible(o mediaRange) bool {
	return (m.typ == "*" || o.typ == "*" || m.typ == o.typ) && (m.sub == "*" || o.sub == "*" || m.sub == o.sub)
}

func (m mediaRange) specificity() int {
	switch {
	case m.typ == "*":
		return 0
	case m.sub == "*":
		return 1
	}
	return 2
}

// selectVariant picks the variant for an Accept header as JAX-RS does:
// the acceptable ranges by quality, then by specificity, and for each the
// first compatible variant in the offered order. Ranges with q=0 are not
// acceptable.
func selectVariant(accept string, variants []mediaRange) (mediaRange, bool) {
	ranges := parseAccept(accept)
	sort.SliceStable(ranges, func(i, j int) bool {
		if ranges[i].q != ranges[j].q {
			return ranges[i].q > ranges[j].q
		}
		return ranges[i].specificity() > ranges[j].specificity()
	})
	for _, r := range ranges {
		if r.q <= 0 {
			continue
		}
		for _, v := range variants {
			if r.compatible(v) {
				return v, true
			}
		}
	}
	return mediaRange{}, false
}

func parseAccept(h string) []mediaRange {
	if strings.TrimSpace(h) == "" {
		return []mediaRange{{"*", "*", 1}}
	}
	var out []mediaRange
	for _, part := range strings.Split(h, ",") {
		fields := strings.Split(part, ";")
		typ, sub, ok := strings.Cut(strings.ToLower(strings.TrimSpace(fields[0])), "/")
		if !ok || typ == "" || sub == "" {
			continue
		}
		m := mediaRange{typ: typ, sub: sub, q: 1}
		for _, p := range fields[1:] {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.TrimSpace(k) == "q" {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					m.q = q
				}
			}
		}
		out = append(out, m)
	}
	return out
}
