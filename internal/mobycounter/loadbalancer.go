package mobycounter

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
)

// ELBAPI is the part of *elasticloadbalancing.Client LoadBalancer uses, so
// tests can point it at the stand-in (mobycountertest.ELB's APIURL).
type ELBAPI interface {
	DescribeLoadBalancers(ctx context.Context, in *elb.DescribeLoadBalancersInput, optFns ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error)
	DescribeInstanceHealth(ctx context.Context, in *elb.DescribeInstanceHealthInput, optFns ...func(*elb.Options)) (*elb.DescribeInstanceHealthOutput, error)
}

// InService is the state of an instance the ELB sends requests to
// (Elastic Load Balancing API reference, InstanceState: InService |
// OutOfService | Unknown).
const InService = "InService"

// InstanceHealth is one registered instance as the ELB describes it.
type InstanceHealth struct {
	InstanceID, State, ReasonCode, Description string
}

// LoadBalancer tells which EC2 instances the classic ELB in front of the
// app sends requests to. Moby Counter's answers do not say which agent
// gave them, and the ELB adds nothing that does, so an answer through the
// ELB is known to come from an agent only when the ELB has that agent in
// service and no other.
type LoadBalancer struct {
	api    ELBAPI
	appURL string

	mu   sync.Mutex
	name string // found on first use
}

// NewLoadBalancer returns a LoadBalancer for the ELB whose address is
// appURL (the stack output appUrl, http://<the ELB's DNS name>).
func NewLoadBalancer(api ELBAPI, appURL string) *LoadBalancer {
	return &LoadBalancer{api: api, appURL: appURL}
}

// ELBAPICallTimeout bounds one HTTP exchange with the ELB API, as
// ec2ops.APICallTimeout does for EC2.
const ELBAPICallTimeout = 30 * time.Second

// ConnectLoadBalancer returns the LoadBalancer of appURL in region with the
// SDK's default configuration (credentials from its usual chain,
// AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING if set). The credentials need
// elasticloadbalancing:DescribeLoadBalancers and DescribeInstanceHealth.
func ConnectLoadBalancer(ctx context.Context, region, appURL string) (*LoadBalancer, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(ELBAPICallTimeout)))
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration for region %s: %w; check AWS_PROFILE and ~/.aws/config", region, err)
	}
	return NewLoadBalancer(elb.NewFromConfig(cfg), appURL), nil
}

// Name returns the load balancer's name: the one whose DNSName is appURL's
// host, read once with DescribeLoadBalancers (the tools read names, they
// never recompute them).
func (l *LoadBalancer) Name(ctx context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.name != "" {
		return l.name, nil
	}
	u, err := url.Parse(l.appURL)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("finding the load balancer of %q: not an http URL: pass the stack output appUrl", l.appURL)
	}
	host := u.Hostname()
	var seen []string
	p := elb.NewDescribeLoadBalancersPaginator(l.api, &elb.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("finding the load balancer of %s: elasticloadbalancing:DescribeLoadBalancers: %w", l.appURL, err)
		}
		for _, d := range page.LoadBalancerDescriptions {
			if strings.EqualFold(aws.ToString(d.DNSName), host) {
				l.name = aws.ToString(d.LoadBalancerName)
				return l.name, nil
			}
			seen = append(seen, aws.ToString(d.DNSName))
		}
	}
	return "", fmt.Errorf("finding the load balancer of %s: no classic load balancer in this region has the DNS name %s (found %d: %s); check the region", l.appURL, host, len(seen), strings.Join(seen, ", "))
}

// Health returns the ELB's view of its registered instances now. AWS leaves
// terminated instances out ("The state of terminated instances is not
// returned", API reference, DescribeInstanceHealth).
func (l *LoadBalancer) Health(ctx context.Context) ([]InstanceHealth, error) {
	name, err := l.Name(ctx)
	if err != nil {
		return nil, err
	}
	out, err := l.api.DescribeInstanceHealth(ctx, &elb.DescribeInstanceHealthInput{LoadBalancerName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("reading the instance health of load balancer %s: elasticloadbalancing:DescribeInstanceHealth: %w", name, err)
	}
	hs := make([]InstanceHealth, 0, len(out.InstanceStates))
	for _, s := range out.InstanceStates {
		hs = append(hs, InstanceHealth{InstanceID: aws.ToString(s.InstanceId), State: aws.ToString(s.State),
			ReasonCode: aws.ToString(s.ReasonCode), Description: aws.ToString(s.Description)})
	}
	return hs, nil
}

// OnlyInService reports whether id is the one instance in service among hs:
// then every answer through the ELB comes from it.
func OnlyInService(hs []InstanceHealth, id string) bool {
	found := false
	for _, h := range hs {
		if h.State != InService {
			continue
		}
		if h.InstanceID != id {
			return false
		}
		found = true
	}
	return found
}

// StateOf returns id's state among hs, "" if the ELB does not list it.
func StateOf(hs []InstanceHealth, id string) string {
	for _, h := range hs {
		if h.InstanceID == id {
			return h.State
		}
	}
	return ""
}
