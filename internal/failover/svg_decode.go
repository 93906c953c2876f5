package failover

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// DecodeAnyReport reads either kind of saved report: kill-node's --json
// output (a Report) or the rehearsal's JSON report, whose "failover" field
// holds the Report and whose RTO limit becomes the drawing's limit. It
// reads the rehearsal's fields itself, since internal/rehearsal imports
// this package.
func DecodeAnyReport(data []byte) (Report, SVGOptions, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return Report{}, SVGOptions{}, fmt.Errorf("reading the report: %w", err)
	}
	if _, ok := probe["timeline"]; ok {
		var r Report
		if err := strictDecode(data, &r); err != nil {
			return Report{}, SVGOptions{}, fmt.Errorf("reading the failover report: %w", err)
		}
		return r, SVGOptions{}, nil
	}
	if _, ok := probe["steps"]; !ok {
		return Report{}, SVGOptions{}, errors.New(`reading the report: neither a failover report (no "timeline") nor a rehearsal report (no "steps")`)
	}
	var reh struct {
		Failover        *Report `json:"failover"`
		RTOLimitSeconds float64 `json:"rtoLimitSeconds"`
		RTOLimitFrom    string  `json:"rtoLimitFrom"`
	}
	if err := json.Unmarshal(data, &reh); err != nil {
		return Report{}, SVGOptions{}, fmt.Errorf("reading the rehearsal report: %w", err)
	}
	if reh.Failover == nil {
		return Report{}, SVGOptions{}, errors.New("the rehearsal report has no failover: the rehearsal stopped before it watched a kill")
	}
	return *reh.Failover, SVGOptions{LimitSeconds: reh.RTOLimitSeconds, LimitFrom: reh.RTOLimitFrom}, nil
}

// strictDecode refuses fields a Report does not have: a report of another
// kind is not drawn as an empty one.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
