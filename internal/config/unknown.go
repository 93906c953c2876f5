package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// awsProviderKeys are the AWS provider's config keys, the ones an operator
// may set without the "aws:" namespace by mistake (`pulumi config set
// region eu-west-1` stores marathon-ha:region): every "aws:..." key that
// pulumi-aws sdk/v6 v6.83.4 go/aws/config/config.go reads.
var awsProviderKeys = []string{
	"accessKey", "allowedAccountIds", "assumeRole", "assumeRoleWithWebIdentity", "customCaBundle",
	"defaultTags", "endpoints", "forbiddenAccountIds", "httpProxy", "httpsProxy", "ignoreTags",
	"insecure", "maxRetries", "noProxy", "profile", "region", "retryMode", "secretKey",
	"sharedConfigFiles", "sharedCredentialsFiles", "skipCredentialsValidation",
	"skipMetadataApiCheck", "skipRegionValidation", "skipRequestingAccountId", "stsRegion", "token",
	"tokenBucketRateLimiterCapacity", "useDualstackEndpoint", "useFipsEndpoint",
}

// StackConfig is the whole config of the stack as the engine hands it to
// the program: every key, namespaced ("marathon-ha:agentCount",
// "aws:region"), and the keys whose values are secrets. The Go SDK offers
// no way to list the keys (Context.GetConfig asks for one), so this reads
// the variables the Go language host sets for the program, as the SDK
// itself does: PULUMI_CONFIG, a JSON object, and PULUMI_CONFIG_SECRET_KEYS,
// a JSON array (pulumi/pulumi sdk/go/pulumi-language-go main.go
// constructEnv; sdk/go/pulumi/run.go getEnvInfo at v3.263.0). Unset, as
// under Pulumi's mocks, it is empty and ok is false.
func StackConfig() (cfg map[string]string, secret []string, ok bool) {
	raw := os.Getenv(pulumi.EnvConfig)
	if raw == "" || json.Unmarshal([]byte(raw), &cfg) != nil {
		return nil, nil, false
	}
	if keys := os.Getenv(pulumi.EnvConfigSecretKeys); keys != "" {
		_ = json.Unmarshal([]byte(keys), &secret)
	}
	return cfg, secret, true
}

// UnknownKeys returns one error per key of this project's namespace that
// is not one of Keys: a typo there leaves the default in place silently.
// Each names the nearest real key, or the AWS provider's key that was
// meant. Other namespaces (aws:, pulumi:) are their owners' to check.
// Secret values are never printed.
func UnknownKeys(cfg map[string]string, secret []string) []error {
	var names []string
	for k := range cfg {
		if name, ok := strings.CutPrefix(k, facts.Project+":"); ok && !isKey(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		full := facts.Project + ":" + name
		value := cfg[full]
		if slices.Contains(secret, full) {
			value = ""
		}
		errs = append(errs, &Error{Key: name, Value: value, Problem: unknownProblem(name, value)})
	}
	return errs
}

func isKey(name string) bool {
	return slices.ContainsFunc(Keys, func(k Key) bool { return k.Name == name })
}

// unknownProblem says what to do instead; value is "" when it may not be
// shown, and then the command to set the right key leaves it for the
// operator to type.
func unknownProblem(name, value string) string {
	fix := func(key string) string {
		set := "pulumi config set " + key
		if value != "" {
			set += " " + shellQuote(value)
		} else {
			set += " --secret"
		}
		return fmt.Sprintf("`pulumi config rm %s:%s` then `%s`", facts.Project, name, set)
	}
	near := nearestKey(name)
	if aws, ok := strings.CutPrefix(near, "aws:"); ok {
		return fmt.Sprintf("not a key of %s: the AWS provider's key is aws:%s (%s)", facts.Project, aws, fix(near))
	}
	if near != "" {
		return fmt.Sprintf("not a key of %s; did you mean %s? (%s)", facts.Project, near, fix(near))
	}
	return fmt.Sprintf("not a key of %s (its keys are in Pulumi.yaml and the README's config reference); `pulumi config rm %s:%s`", facts.Project, facts.Project, name)
}

// nearestKey is the key closest to name in edit distance, ignoring case,
// among this project's keys and then the AWS provider's ("aws:region"),
// when it is close enough to be the one meant: at most a third of the
// name's letters apart (agentsCount, agentcount and agentCnt find
// agentCount; region and regoin find aws:region).
func nearestKey(name string) string {
	best, bestDist := "", len(name)/3+1
	consider := func(key, bare string) {
		if d := editDistance(strings.ToLower(name), strings.ToLower(bare)); d < bestDist {
			best, bestDist = key, d
		}
	}
	for _, k := range Keys {
		consider(k.Name, k.Name)
	}
	for _, k := range awsProviderKeys {
		consider("aws:"+k, k)
	}
	return best
}

// editDistance is Levenshtein's distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// shellQuote quotes a value for the shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// withUnknown puts the unknown keys' errors first among Parse's, so one
// run reports every problem at once.
func withUnknown(c Config, err error, unknown []error) (Config, error) {
	if len(unknown) == 0 {
		return c, err
	}
	all := unknown
	var parsed indented
	if errors.As(err, &parsed) {
		all = append(all, parsed...)
	} else if err != nil {
		all = append(all, err)
	}
	return Config{}, fmt.Errorf("invalid stack config:\n  %w", joinIndented(all))
}
