package ec2ops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
)

// The classic ELB is not an EC2 resource: it has its own Query API
// (elasticloadbalancing, version 2012-06-01), whose DescribeLoadBalancers
// takes no tag filter. A sweep therefore lists the region's classic load
// balancers and reads their tags with DescribeTags, at most
// maxTagNamesPerCall at a time.

// ELBAPI is the part of *elasticloadbalancing.Client a sweep uses.
type ELBAPI interface {
	DescribeLoadBalancers(ctx context.Context, in *elb.DescribeLoadBalancersInput, optFns ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error)
	DescribeTags(ctx context.Context, in *elb.DescribeTagsInput, optFns ...func(*elb.Options)) (*elb.DescribeTagsOutput, error)
	DeleteLoadBalancer(ctx context.Context, in *elb.DeleteLoadBalancerInput, optFns ...func(*elb.Options)) (*elb.DeleteLoadBalancerOutput, error)
}

// maxTagNamesPerCall: DescribeTags takes 1 to 20 load balancer names (ELB
// API reference 2012-06-01, DescribeTags: LoadBalancerNames.member.N).
const maxTagNamesPerCall = 20

// errLBNotFound is the classic ELB's error code for an unknown name
// (AccessPointNotFoundException; ELB API reference, DescribeTags errors).
const errLBNotFound = "LoadBalancerNotFound"

func newELBClient(cfg aws.Config) *elb.Client { return elb.NewFromConfig(cfg) }

type loadBalancer struct {
	name, dnsName string
	instances     int
}

func (lb loadBalancer) describe() string {
	return fmt.Sprintf("%s (%s, %s registered)", lb.name, lb.dnsName, plural(lb.instances, "instance"))
}

func deleteLBInput(name string) *elb.DeleteLoadBalancerInput {
	return &elb.DeleteLoadBalancerInput{LoadBalancerName: aws.String(name)}
}

// loadBalancers returns the region's classic ELBs whose tags put them in
// scope.
func (s *Sweeper) loadBalancers(ctx context.Context, scope SweepScope) ([]loadBalancer, error) {
	var all []loadBalancer
	p := elb.NewDescribeLoadBalancersPaginator(s.elb, &elb.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, elbCallError("DescribeLoadBalancers", "listing the classic load balancers", err)
		}
		for _, d := range page.LoadBalancerDescriptions {
			all = append(all, loadBalancer{name: aws.ToString(d.LoadBalancerName), dnsName: aws.ToString(d.DNSName), instances: len(d.Instances)})
		}
	}
	var out []loadBalancer
	for start := 0; start < len(all); start += maxTagNamesPerCall {
		batch := all[start:min(start+maxTagNamesPerCall, len(all))]
		tags, err := s.lbTags(ctx, batch)
		if err != nil {
			return nil, err
		}
		for _, lb := range batch {
			if t, ok := tags[lb.name]; ok && scope.owns(t) {
				out = append(out, lb)
			}
		}
	}
	return out, nil
}

// lbTags reads the tags of a batch. One name deleted since the listing
// fails the whole call with LoadBalancerNotFound; the batch is then read
// one name at a time and the vanished ones skipped.
func (s *Sweeper) lbTags(ctx context.Context, batch []loadBalancer) (map[string]map[string]string, error) {
	names := make([]string, len(batch))
	for i, lb := range batch {
		names[i] = lb.name
	}
	read := func(names []string) (map[string]map[string]string, error) {
		res, err := s.elb.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: names})
		if err != nil {
			return nil, err
		}
		out := map[string]map[string]string{}
		for _, d := range res.TagDescriptions {
			t := map[string]string{}
			for _, tag := range d.Tags {
				t[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
			out[aws.ToString(d.LoadBalancerName)] = t
		}
		return out, nil
	}
	out, err := read(names)
	switch {
	case err == nil:
		return out, nil
	case errorCode(err) != errLBNotFound:
		return nil, elbCallError("DescribeTags", "reading the tags of load balancers "+strings.Join(names, ", "), err)
	}
	out = map[string]map[string]string{}
	for _, n := range names {
		one, err := read([]string{n})
		if errorCode(err) == errLBNotFound {
			continue
		}
		if err != nil {
			return nil, elbCallError("DescribeTags", "reading the tags of load balancer "+n, err)
		}
		for k, v := range one {
			out[k] = v
		}
	}
	return out, nil
}

// elbCallError is callError for the ELB API, whose permissions and error
// codes differ from EC2's (ELB API reference, Common Errors).
func elbCallError(call, doing string, err error) error {
	code := errorCode(err)
	switch {
	case code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation":
		return fmt.Errorf("%s: %w; the AWS credentials in use may not call elasticloadbalancing:%s: grant elasticloadbalancing:DescribeLoadBalancers, elasticloadbalancing:DescribeTags and elasticloadbalancing:DeleteLoadBalancer to the user or role running this tool", doing, err, call)
	case code == "Throttling":
		return fmt.Errorf("%s: %w; Elastic Load Balancing is throttling this account's API calls: run again in a minute", doing, err)
	case code == "" && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w; check the network, the region and any AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING setting", doing, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}
