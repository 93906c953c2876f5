package mobycounter

import "testing"

// A mark reads back as itself; nothing a user's page posts (x + ':' + y of
// two JavaScript numbers, client/app.js), nor a NewClick, reads as a mark.
func TestMark(t *testing.T) {
	for _, m := range []Mark{{Writer: 0, Seq: 1}, {Writer: 0xdeadbeef, Seq: 123456}, {Writer: 7, Seq: 0}} {
		got, ok := ParseMark(m.String())
		if !ok || got != m {
			t.Errorf("%s read as %+v, %v", m, got, ok)
		}
		if !clickRE.MatchString(m.String()) {
			t.Errorf("Write would refuse the mark %s", m)
		}
	}
	for _, s := range []string{"0:0", "120:40", "-12.5:30", "1e+21:5", "NaN:NaN", NewClick(3, 4),
		"0:0:mh-deadbee-1", "0:0:mh-deadbeef-", "0:0:mh-DEADBEEF-1", "1:0:mh-deadbeef-1", "0:0:mh-deadbeef-1:9", "0:0:mh-deadbeef-99999999999999999999"} {
		if m, ok := ParseMark(s); ok {
			t.Errorf("%q read as the mark %+v", s, m)
		}
	}
}
