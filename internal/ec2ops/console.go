package ec2ops

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// ConsoleAPI is the part of *ec2.Client that reads serial consoles.
type ConsoleAPI interface {
	GetConsoleOutput(ctx context.Context, in *ec2.GetConsoleOutputInput, optFns ...func(*ec2.Options)) (*ec2.GetConsoleOutputOutput, error)
}

// ConnectConsoles returns the EC2 API of region, as ConnectAs does, for
// reading consoles.
func ConnectConsoles(ctx context.Context, region, profile string) (ConsoleAPI, error) {
	cfg, err := loadConfig(ctx, region, profile)
	if err != nil {
		return nil, err
	}
	return ec2.NewFromConfig(cfg), nil
}

// Console is one read of an instance's console.
type Console struct {
	InstanceID string
	Text       string    // decoded; "" when EC2 has none yet
	Updated    time.Time // EC2's timestamp, zero when none
	// Buffered is true when EC2 would not give the latest output (an
	// instance type without the Nitro hypervisor): Text is then what EC2
	// posted around the instance's last state change and lags the boot.
	Buffered bool
}

// ConsoleReader reads consoles with Latest=true, the console as it is now
// ("supported on instance types that use the Nitro hypervisor", EC2 API
// reference, GetConsoleOutput), and falls back to the buffered output for
// an instance whose type refuses it, remembered per instance.
type ConsoleReader struct {
	api     ConsoleAPI
	timeout time.Duration

	mu       sync.Mutex
	buffered map[string]bool
}

// NewConsoleReader returns a reader whose every call is bounded by timeout
// (0: APICallTimeout).
func NewConsoleReader(api ConsoleAPI, timeout time.Duration) *ConsoleReader {
	if timeout <= 0 {
		timeout = APICallTimeout
	}
	return &ConsoleReader{api: api, timeout: timeout, buffered: map[string]bool{}}
}

// Read returns the instance's console.
func (r *ConsoleReader) Read(ctx context.Context, id string) (Console, error) {
	r.mu.Lock()
	buffered := r.buffered[id]
	r.mu.Unlock()
	if !buffered {
		c, err := r.read(ctx, id, true)
		var ae smithy.APIError
		if err == nil || !errors.As(err, &ae) || ctx.Err() != nil || noFallback(ae.ErrorCode()) {
			return c, err
		}
		// virt-s1/avocado-cloud PR #8 does the same: not every instance
		// type takes Latest, and what EC2 answers then is not documented.
	}
	c, err := r.read(ctx, id, false)
	if err == nil && !buffered {
		r.mu.Lock()
		r.buffered[id] = true
		r.mu.Unlock()
	}
	c.Buffered = true
	return c, err
}

// noFallback are the errors that Latest=false would meet as well.
func noFallback(code string) bool {
	switch code {
	case "UnauthorizedOperation", "AuthFailure", "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed":
		return true
	}
	return false
}

func (r *ConsoleReader) read(ctx context.Context, id string, latest bool) (Console, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	in := &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)}
	if latest {
		in.Latest = aws.Bool(true)
	}
	out, err := r.api.GetConsoleOutput(ctx, in)
	if err != nil {
		if code := errorCode(err); code == "UnauthorizedOperation" || strings.HasPrefix(code, "AccessDenied") {
			return Console{InstanceID: id}, fmt.Errorf("reading the console of %s: %w; the AWS credentials in use may not call ec2:GetConsoleOutput: grant it to see the nodes' boot", id, err)
		}
		return Console{InstanceID: id}, callError("GetConsoleOutput", "reading the console of "+id, err)
	}
	c := Console{InstanceID: id}
	if out.Timestamp != nil {
		c.Updated = *out.Timestamp
	}
	if s := aws.ToString(out.Output); s != "" {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return c, fmt.Errorf("reading the console of %s: the output is not base64: %w", id, err)
		}
		c.Text = string(b)
	}
	return c, nil
}

// ClusterInstances returns the instances of cluster clusterID (tag
// facts.TagClusterID), every role, that are not shutting down or
// terminated, for reading their consoles.
func (c *Client) ClusterInstances(ctx context.Context, clusterID string) ([]Instance, error) {
	if clusterID == "" || strings.ContainsAny(clusterID, `*?\`) {
		return nil, fmt.Errorf("listing the instances of a cluster: cluster id %q is empty or an EC2 filter wildcard", clusterID)
	}
	return c.describeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		tagFilter(facts.TagClusterID, clusterID),
		{Name: aws.String("instance-state-name"), Values: liveStates},
	}}, "listing the instances of cluster "+clusterID)
}

// What NodeBoot.Console says EC2 gave.
const (
	ConsoleLatest     = "latest"     // the console as it is now (Latest=true)
	ConsoleBuffered   = "buffered"   // EC2's buffered copy, which lags
	ConsoleEmpty      = "empty"      // EC2 has no output for it yet
	ConsoleUnreadable = "unreadable" // the read failed: see NodeBoot.Error
)

// NodeBoot is one cluster instance's boot as its console tells it: the
// steps its boot script announced (bootlog), when EC2 launched it, and
// what EC2 gave of its console.
type NodeBoot struct {
	InstanceID string `json:"instanceId,omitempty"`
	Role       string `json:"role,omitempty"`
	// LaunchTime is EC2's DescribeInstances launchTime.
	LaunchTime time.Time `json:"launchTime,omitzero"`
	Console    string    `json:"console,omitempty"`
	// Error is why the console could not be read (Console unreadable).
	Error string `json:"consoleError,omitempty"`
	bootlog.Timeline
}

// ClusterBoots reads the console of every live instance of cluster
// clusterID through reader and returns each one's boot timeline, masters
// first, then by node name. A console that cannot be read is not an error
// of the whole: that node's Console is ConsoleUnreadable and Error says
// why. An error means the instances could not be listed.
func (c *Client) ClusterBoots(ctx context.Context, clusterID string, reader *ConsoleReader) ([]NodeBoot, error) {
	insts, err := c.ClusterInstances(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	out := make([]NodeBoot, 0, len(insts))
	for _, in := range insts {
		n := NodeBoot{InstanceID: in.ID, Role: in.Role, LaunchTime: in.LaunchTime, Console: ConsoleLatest}
		con, err := reader.Read(ctx, in.ID)
		switch {
		case err != nil:
			n.Console, n.Error = ConsoleUnreadable, err.Error()
		case con.Text == "":
			n.Console = ConsoleEmpty
		case con.Buffered:
			n.Console = ConsoleBuffered
		}
		tls := bootlog.Timelines(con.Text)
		if len(tls) == 0 {
			n.Timeline = bootlog.Timeline{Node: in.Tags[facts.TagName], State: bootlog.Unknown}
		} else {
			n.Timeline = tls[0] // one node per console
		}
		out = append(out, n)
	}
	sort.SliceStable(out, func(i, j int) bool {
		mi, mj := out[i].Role == facts.RoleMaster, out[j].Role == facts.RoleMaster
		if mi != mj {
			return mi
		}
		return out[i].Node < out[j].Node
	})
	return out, nil
}

// OSStartSeconds is how long the node had been up when its boot script
// started: the uptime=<seconds> the boot step's start line carries
// (userdata's lib.sh), or -1 when the console does not say.
func (n NodeBoot) OSStartSeconds() int {
	for _, s := range n.Steps {
		if s.Name != bootlog.Boot {
			continue
		}
		for _, f := range strings.Fields(s.Detail) {
			if v, ok := strings.CutPrefix(f, "uptime="); ok {
				var secs int
				if _, err := fmt.Sscanf(strings.TrimSuffix(v, "s"), "%d", &secs); err == nil && secs >= 0 {
					return secs
				}
			}
		}
	}
	return -1
}
