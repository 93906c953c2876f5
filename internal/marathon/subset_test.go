package marathon

import (
	"bytes"
	"encoding/json"
	"testing"
)

func decodeNumbers(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func TestSubset(t *testing.T) {
	tests := []struct {
		name, want, got string
		ok              bool
	}{
		{"extra fields Marathon adds", `{"a":1,"pm":[{"p":80}]}`, `{"a":1,"b":2,"pm":[{"p":80,"servicePort":10000}]}`, true},
		{"numbers by value", `{"x":0,"y":0.5}`, `{"x":0.0,"y":5e-1}`, true},
		{"changed value", `{"image":"a:1"}`, `{"image":"a:2"}`, false},
		{"missing field", `{"unreachableStrategy":{"inactiveAfterSeconds":0}}`, `{}`, false},
		{"array length differs", `{"c":[["zone","CLUSTER","a"]]}`, `{"c":[["zone","CLUSTER","a"],["hostname","UNIQUE"]]}`, false},
		{"array order matters", `{"p":[{"k":"a"},{"k":"b"}]}`, `{"p":[{"k":"b"},{"k":"a"}]}`, false},
		{"null matches absent", `{"cmd":null}`, `{}`, true},
		{"null does not match a value", `{"cmd":null}`, `{"cmd":"x"}`, false},
		{"type differs", `{"n":"1"}`, `{"n":1}`, false},
	}
	for _, tt := range tests {
		if got := subset(decodeNumbers(t, tt.want), decodeNumbers(t, tt.got)); got != tt.ok {
			t.Errorf("%s: subset(%s, %s) = %v, want %v", tt.name, tt.want, tt.got, got, tt.ok)
		}
	}
}
