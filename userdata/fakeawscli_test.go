package userdata

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// The AWS CLI image the masters' fencer runs, and EC2 behind it. The fake
// parses the command line as the pinned CLI would (testdata/flags/
// aws-cli-2.27.58.txt, from its EC2 model and global options), refuses what
// it would refuse with the CLI's exit codes (aws/aws-cli
// awscli/topics/return-codes.rst@2.27.58: 252 bad command line, 253 no
// credentials or region, 254 an error from the service, 255 anything else),
// and answers DescribeInstances and TerminateInstances from a small EC2 kept
// in a file under the node's root (fakeEC2), with the masters' instance role
// modelled as the IAM condition components.MasterPolicy states.

// awsCLIFlagsFile lists the pinned CLI's options.
const awsCLIFlagsFile = "aws-cli-2.27.58.txt"

// fakeEC2 is the EC2 the fake CLI talks to; the tests write and read it.
type fakeEC2 struct {
	Instances []*fakeInstance `json:"instances"`
	// TerminateClusterID models the masters' role: TerminateInstances is
	// allowed only on an instance tagged facts.TagClusterID with this value
	// and facts.TagRole agent (aws:ResourceTag conditions); "" allows none.
	TerminateClusterID string `json:"terminateClusterId"`
	// ShutdownPolls is how many DescribeInstances calls a terminated
	// instance answers shutting-down before terminated; -1: for ever.
	ShutdownPolls int `json:"shutdownPolls"`
	// Errors are answered once each, in order, by the operation they name
	// (throttling, an outage) before it does anything.
	Errors []fakeAPIError `json:"errors"`
}

type fakeInstance struct {
	ID        string            `json:"id"`
	PrivateIP string            `json:"privateIp"`
	State     string            `json:"state"`
	Tags      map[string]string `json:"tags"`
	// LaunchTime is EC2's launchTime as the CLI's text output prints it
	// (cli_timestamp_format iso8601, the AWS CLI v2 default:
	// aws/aws-cli v2 awscli/customizations/scalarparse.py).
	LaunchTime string `json:"launchTime"`
	// PollsLeft counts down the describes until a shutting-down instance
	// is terminated.
	PollsLeft int `json:"pollsLeft"`
	// Terminations counts the TerminateInstances calls that named it, and
	// SkippedOSShutdown says whether each had --skip-os-shutdown.
	Terminations      int  `json:"terminations"`
	SkippedOSShutdown bool `json:"skippedOsShutdown"`
}

// fakeAPIError is an error EC2 answers: code and message as in its API
// reference ("Error codes for the Amazon EC2 API"). Code ReadTimeout is the
// CLI's own read timeout instead.
type fakeAPIError struct {
	Op      string `json:"op"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func fakeEC2Path() string {
	return filepath.Join(os.Getenv("MHA_ROOT"), "var/lib/fake-ec2/state.json")
}

func loadEC2() (*fakeEC2, error) {
	raw, err := os.ReadFile(fakeEC2Path())
	if errors.Is(err, fs.ErrNotExist) {
		return &fakeEC2{}, nil
	}
	if err != nil {
		return nil, err
	}
	var e fakeEC2
	return &e, json.Unmarshal(raw, &e)
}

func (e *fakeEC2) save() error {
	raw, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(fakeEC2Path()), 0o755); err != nil {
		return err
	}
	return os.WriteFile(fakeEC2Path(), raw, 0o644)
}

// awsOption is one option of the CLI: its kind (value, list, bool, flag).
type awsOptions map[string]map[string]string // command or "global" -> option -> kind

func loadAWSOptions() (awsOptions, error) {
	f, err := flagFiles.Open("testdata/flags/" + awsCLIFlagsFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	opts := awsOptions{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("testdata/flags/%s: bad line %q", awsCLIFlagsFile, line)
		}
		if opts[f[0]] == nil {
			opts[f[0]] = map[string]string{}
		}
		opts[f[0]][f[1]] = f[2]
	}
	return opts, sc.Err()
}

// awsCall is a parsed command line.
type awsCall struct {
	service, command string
	opts             map[string][]string // option without "--" -> values; a bool's --no-x is x=["false"]
}

func cliError(code int, format string, a ...any) error {
	return &exitError{code, fmt.Sprintf(format, a...)}
}

// parseAWS reads the CLI's command line: global options anywhere, the
// service and the command, and the command's options after the command.
func parseAWS(args []string) (awsCall, error) {
	known, err := loadAWSOptions()
	if err != nil {
		return awsCall{}, err
	}
	c := awsCall{opts: map[string][]string{}}
	var unknown []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			switch {
			case c.service == "":
				c.service = a
			case c.command == "":
				c.command = a
			default:
				unknown = append(unknown, a)
			}
			continue
		}
		name := strings.TrimPrefix(a, "--")
		kind, ok := known["global"][name]
		if !ok && c.command != "" {
			kind, ok = known[c.command][name]
			if !ok {
				if base, neg := strings.CutPrefix(name, "no-"); neg && known[c.command][base] == "bool" {
					c.opts[base] = []string{"false"}
					continue
				}
			}
		}
		if !ok {
			unknown = append(unknown, a)
			continue
		}
		switch kind {
		case "flag", "bool":
			c.opts[name] = []string{"true"}
		case "value":
			if i+1 >= len(args) {
				return awsCall{}, cliError(252, "aws: error: argument --%s: expected one argument", name)
			}
			i++
			c.opts[name] = []string{args[i]}
		case "list":
			var vs []string
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				i++
				vs = append(vs, args[i])
			}
			if len(vs) == 0 {
				return awsCall{}, cliError(252, "aws: error: argument --%s: expected at least one argument", name)
			}
			c.opts[name] = vs
		}
	}
	if c.service != "ec2" || known[c.command] == nil {
		return awsCall{}, cliError(252, "fake aws: no model of `aws %s %s`; add its options to testdata/flags/%s from the CLI's EC2 model first", c.service, c.command, awsCLIFlagsFile)
	}
	if len(unknown) > 0 {
		// awscli/clidriver.py: ParamError for unknown options, exit 252.
		return awsCall{}, cliError(252, "\nusage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]\nUnknown options: %s", strings.Join(unknown, ", "))
	}
	if c.command == "terminate-instances" && c.opts["instance-ids"] == nil {
		return awsCall{}, cliError(252, "aws: error: the following arguments are required: --instance-ids")
	}
	return c, nil
}

// The queries the fencer uses, and what the fake answers them with.
const (
	queryIDAndState = "Reservations[].Instances[].[InstanceId,State.Name,LaunchTime]"
	queryState      = "Reservations[].Instances[].State.Name"
)

// fakeAWSCLI runs one CLI command in the image, on r's network.
func fakeAWSCLI(r dockerRun, args []string) error {
	c, err := parseAWS(args)
	if err != nil {
		return err
	}
	// The CLI finds the instance role's credentials at the instance metadata
	// service. A container on Docker's bridge cannot reach it: the masters'
	// DOCKER-USER rule drops it (block-metadata.sh.tmpl), and an IMDSv2
	// token answer with hop limit 1 does not cross the bridge (EC2 User
	// Guide, "Configure the instance metadata options": "In a container
	// environment, we recommend setting the hop limit to 2"). On the host's
	// network it is the host's own request. botocore's NoCredentialsError,
	// exit 253.
	if net := r.opts["--network"]; len(net) == 0 || net[len(net)-1] != "host" {
		return cliError(253, "\nUnable to locate credentials. You can configure credentials by running \"aws configure\".")
	}
	if c.opts["region"] == nil && r.env["AWS_REGION"] == "" && r.env["AWS_DEFAULT_REGION"] == "" {
		return cliError(253, "\nYou must specify a region. You can also configure your region by running \"aws configure\".")
	}
	if out := c.opts["output"]; len(out) == 0 || out[0] != "text" {
		return cliError(255, "fake aws: only --output text is modelled, got %v", out)
	}
	e, err := loadEC2()
	if err != nil {
		return err
	}
	op := map[string]string{"describe-instances": "DescribeInstances", "terminate-instances": "TerminateInstances"}[c.command]
	if i := slices.IndexFunc(e.Errors, func(x fakeAPIError) bool { return x.Op == op }); i >= 0 {
		x := e.Errors[i]
		e.Errors = slices.Delete(e.Errors, i, i+1)
		if err := e.save(); err != nil {
			return err
		}
		if x.Code == "ReadTimeout" {
			return cliError(255, "\nRead timeout on endpoint URL: \"https://ec2.%s.amazonaws.com/\"", c.opts["region"][0])
		}
		return cliError(254, "\nAn error occurred (%s) when calling the %s operation: %s", x.Code, op, x.Message)
	}
	var out string
	switch c.command {
	case "describe-instances":
		out, err = e.describe(c)
	case "terminate-instances":
		out, err = e.terminate(c)
	}
	if err != nil {
		return err
	}
	if err := e.save(); err != nil {
		return err
	}
	fmt.Print(out)
	return nil
}

// describe answers DescribeInstances. Time passes between calls: each one
// moves every shutting-down instance one poll closer to terminated.
func (e *fakeEC2) describe(c awsCall) (string, error) {
	for _, in := range e.Instances {
		if in.State == "shutting-down" && in.PollsLeft > 0 {
			in.PollsLeft--
			if in.PollsLeft == 0 {
				in.State = "terminated"
			}
		}
	}
	var match []*fakeInstance
	for _, in := range e.Instances {
		if ids := c.opts["instance-ids"]; ids != nil && !slices.Contains(ids, in.ID) {
			continue
		}
		ok := true
		for _, f := range c.opts["filters"] {
			// Shorthand Name=<name>,Values=<v>[,<v>...] (the CLI's
			// shorthand syntax for a list of Filter structures).
			name, values, found := strings.Cut(strings.TrimPrefix(f, "Name="), ",Values=")
			if !strings.HasPrefix(f, "Name=") || !found {
				return "", cliError(252, "Error parsing parameter '--filters': Expected: '=', received: %q", f)
			}
			var have string
			switch {
			case name == "private-ip-address":
				have = in.PrivateIP
			case name == "instance-id":
				have = in.ID
			case name == "instance-state-name":
				have = in.State
			case strings.HasPrefix(name, "tag:"):
				v, tagged := in.Tags[strings.TrimPrefix(name, "tag:")]
				if !tagged {
					ok = false
					continue
				}
				have = v
			default:
				return "", cliError(254, "\nAn error occurred (InvalidParameterValue) when calling the DescribeInstances operation: The filter '%s' is invalid", name)
			}
			if !slices.Contains(strings.Split(values, ","), have) {
				ok = false
			}
		}
		if ok {
			match = append(match, in)
		}
	}
	for _, id := range c.opts["instance-ids"] {
		if !slices.ContainsFunc(e.Instances, func(in *fakeInstance) bool { return in.ID == id }) {
			return "", cliError(254, "\nAn error occurred (InvalidInstanceID.NotFound) when calling the DescribeInstances operation: The instance ID '%s' does not exist", id)
		}
	}
	// Text output: a list of lists is a row per inner list, its values
	// separated by tabs; a list of strings is one row (awscli/formatter.py
	// TextFormatter); an empty list prints nothing.
	var b strings.Builder
	switch q := strings.Join(c.opts["query"], ""); q {
	case queryIDAndState:
		for _, in := range match {
			fmt.Fprintf(&b, "%s\t%s\t%s\n", in.ID, in.State, in.LaunchTime)
		}
	case queryState:
		var states []string
		for _, in := range match {
			states = append(states, in.State)
		}
		if states != nil {
			b.WriteString(strings.Join(states, "\t") + "\n")
		}
	default:
		return "", cliError(255, "fake aws: no model of --query %q", q)
	}
	return b.String(), nil
}

// terminate answers TerminateInstances: every instance must exist and the
// role must allow it on each, or nothing happens (one request, one answer).
func (e *fakeEC2) terminate(c awsCall) (string, error) {
	var targets []*fakeInstance
	for _, id := range c.opts["instance-ids"] {
		i := slices.IndexFunc(e.Instances, func(in *fakeInstance) bool { return in.ID == id })
		if i < 0 {
			return "", cliError(254, "\nAn error occurred (InvalidInstanceID.NotFound) when calling the TerminateInstances operation: The instance ID '%s' does not exist", id)
		}
		in := e.Instances[i]
		if e.TerminateClusterID == "" || in.Tags[facts.TagClusterID] != e.TerminateClusterID || in.Tags[facts.TagRole] != facts.RoleAgent {
			// The shape of IAM's answer; the encoded message differs at
			// every call.
			return "", cliError(254, "\nAn error occurred (UnauthorizedOperation) when calling the TerminateInstances operation: You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/mha-master/i-0f00 is not authorized to perform: ec2:TerminateInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/%s because no identity-based policy allows the ec2:TerminateInstances action. Encoded authorization failure message: %d", id, os.Getpid())
		}
		targets = append(targets, in)
	}
	var b strings.Builder
	for _, in := range targets {
		prev := in.State
		in.Terminations++
		in.SkippedOSShutdown = slices.Equal(c.opts["skip-os-shutdown"], []string{"true"})
		if in.State != "terminated" && in.State != "shutting-down" {
			in.State, in.PollsLeft = "shutting-down", e.ShutdownPolls
			if e.ShutdownPolls == 0 {
				in.State = "terminated"
			}
		}
		fmt.Fprintf(&b, "TERMINATINGINSTANCES\t%s\nCURRENTSTATE\t32\t%s\nPREVIOUSSTATE\t16\t%s\n", in.ID, in.State, prev)
	}
	return b.String(), nil
}
