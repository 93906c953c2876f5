package mobycounter

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Mark is the click of a workload's writer: "0:0:mh-<writer>-<seq>", the
// writer's id as 8 hex digits and its sequence number.
//
// A user's click is x + ':' + y of two JavaScript numbers (client/app.js
// handle_click: e.pageX - offset.left - width/2, which may be negative or
// fractional), so it never holds a second ':' and can never be taken for a
// mark, nor a mark for it. The page still draws a mark (load_data splits
// on ':' and places the whale at the first two parts).
type Mark struct {
	Writer uint32
	Seq    int
}

// markPattern is the third part of a marked click.
const markPattern = `mh-([0-9a-f]{8})-([0-9]+)`

var markRE = regexp.MustCompile(`^` + markPattern + `$`)

// String is the click the app stores.
func (m Mark) String() string { return fmt.Sprintf("0:0:mh-%08x-%d", m.Writer, m.Seq) }

// ParseMark reads a marked click; ok is false for anything else (a user's
// click, a NewClick, a malformed mark).
func ParseMark(click string) (m Mark, ok bool) {
	parts := strings.Split(click, ":")
	if len(parts) != 3 || parts[0] != "0" || parts[1] != "0" {
		return Mark{}, false
	}
	sub := markRE.FindStringSubmatch(parts[2])
	if sub == nil {
		return Mark{}, false
	}
	w, err := strconv.ParseUint(sub[1], 16, 32)
	if err != nil {
		return Mark{}, false
	}
	seq, err := strconv.Atoi(sub[2])
	if err != nil {
		return Mark{}, false
	}
	return Mark{Writer: uint32(w), Seq: seq}, true
}
