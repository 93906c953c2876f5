package marathon

import (
	"encoding/json"
	"math/big"
)

// subset reports whether every field of want is in got with the same
// value: objects recursively (got may hold more keys, as Marathon fills in
// its defaults: servicePort, labels, backoffFactor, ...), arrays element by
// element and of the same length, numbers by value (0 equals 0.0). A null
// in want matches a missing or null field.
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, present := g[k]
			if wv == nil {
				if present && gv != nil {
					return false
				}
				continue
			}
			if !present || !subset(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	case json.Number:
		return sameNumber(w, got)
	default:
		return want == got
	}
}

func sameNumber(want json.Number, got any) bool {
	g, ok := got.(json.Number)
	if !ok {
		return false
	}
	a, okA := new(big.Rat).SetString(want.String())
	b, okB := new(big.Rat).SetString(g.String())
	return okA && okB && a.Cmp(b) == 0
}
