package ec2ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/marathon-ha/marathon-ha/internal/ctxsleep"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// VolumeSelector says how the run-time EBS volumes of one cluster are
// recognised. The volume drivers, not the program, create and tag them:
//   - flocker tags each volume flocker-cluster-id=<Flocker cluster UUID>
//     (facts.TagFlockerClusterID); the UUID is unique to the cluster.
//   - rexray tags it Name=<Docker volume name> (facts.TagName); the program
//     makes that name unique by putting the cluster id in it.
//
// VolumeName is ignored for flocker: Flocker names volumes after its
// dataset ids, not after the Docker volume.
type VolumeSelector struct {
	Driver             string // facts.VolumeDriverFlocker or facts.VolumeDriverRexRay
	ClusterID          string // the stack's cluster id (stack output clusterId)
	FlockerClusterUUID string // flocker: the Flocker cluster's UUID
	VolumeName         string // rexray: the Docker volume name, which contains ClusterID
	AvailabilityZone   string // optional: only volumes in this zone
}

// flockerUUID is the form Flocker writes the tag in: Python's str(UUID),
// lower-case and hyphenated (ebs.py: unicode(self.cluster_id)).
var flockerUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// Filters returns the DescribeVolumes filters that select the cluster's
// run-time volumes, or an error when the selector could match more than
// that: an empty or underspecified selector is refused, never widened.
func (sel VolumeSelector) Filters() ([]types.Filter, error) {
	if err := sel.validate(); err != nil {
		return nil, err
	}
	var fs []types.Filter
	switch sel.Driver {
	case facts.VolumeDriverFlocker:
		fs = append(fs, tagFilter(facts.TagFlockerClusterID, strings.ToLower(sel.FlockerClusterUUID)))
	case facts.VolumeDriverRexRay:
		fs = append(fs, tagFilter(facts.TagName, sel.VolumeName))
	}
	if sel.AvailabilityZone != "" {
		fs = append(fs, types.Filter{Name: aws.String("availability-zone"), Values: []string{sel.AvailabilityZone}})
	}
	return fs, nil
}

func tagFilter(key, value string) types.Filter {
	return types.Filter{Name: aws.String("tag:" + key), Values: []string{value}}
}

func (sel VolumeSelector) validate() error {
	const doing = "selecting the cluster's run-time volumes"
	for name, v := range map[string]string{"cluster id": sel.ClusterID, "Flocker cluster UUID": sel.FlockerClusterUUID,
		"volume name": sel.VolumeName, "availability zone": sel.AvailabilityZone} {
		if strings.ContainsAny(v, `*?\`) {
			return fmt.Errorf("%s: the %s %q contains an EC2 filter wildcard (*, ? or \\), which could match other volumes; pass the exact value", doing, name, v)
		}
	}
	if sel.ClusterID == "" {
		return fmt.Errorf("%s: the cluster id is empty: pass the stack output clusterId", doing)
	}
	switch sel.Driver {
	case facts.VolumeDriverFlocker:
		if sel.FlockerClusterUUID == "" {
			return fmt.Errorf("%s: driver flocker needs the Flocker cluster UUID (the %s tag Flocker puts on its volumes); without it every Flocker volume in the account would match", doing, facts.TagFlockerClusterID)
		}
		if !flockerUUID.MatchString(strings.ToLower(sel.FlockerClusterUUID)) {
			return fmt.Errorf("%s: Flocker cluster UUID %q is not a UUID such as 3f1c7c2e-7d2a-4c55-9a53-0f5c2b1d9e41", doing, sel.FlockerClusterUUID)
		}
	case facts.VolumeDriverRexRay:
		if sel.VolumeName == "" {
			return fmt.Errorf("%s: driver rexray needs the Docker volume name (REX-Ray tags its volume %s=<volume name>): the stack output volumeName, which cleanup-volumes reads with --stack NAME, or give it with --volume-name", doing, facts.TagName)
		}
		if !strings.Contains(sel.VolumeName, sel.ClusterID) {
			return fmt.Errorf("%s: volume name %q does not contain the cluster id %q, so it may be shared with another cluster; refusing to delete by it", doing, sel.VolumeName, sel.ClusterID)
		}
	default:
		return fmt.Errorf("%s: unknown volume driver %q: use %s", doing, sel.Driver, strings.Join(facts.VolumeDrivers, " or "))
	}
	return nil
}

// owns re-checks a volume the API returned against the selector, so a
// filter the API ignored can never widen what is deleted.
func (sel VolumeSelector) owns(v types.Volume) bool {
	tags := map[string]string{}
	for _, t := range v.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if sel.AvailabilityZone != "" && aws.ToString(v.AvailabilityZone) != sel.AvailabilityZone {
		return false
	}
	switch sel.Driver {
	case facts.VolumeDriverFlocker:
		return tags[facts.TagFlockerClusterID] == strings.ToLower(sel.FlockerClusterUUID)
	case facts.VolumeDriverRexRay:
		return tags[facts.TagName] == sel.VolumeName
	}
	return false
}

// DefaultCleanupPoll is how often CleanupVolumes re-reads attached volumes.
// DescribeVolumes is a cheap read; the SDK's own VolumeAvailable waiter
// polls every 15 s (service/ec2 api_op_DescribeVolumes.go), a little slow
// for a destroy someone is watching.
const DefaultCleanupPoll = 5 * time.Second

// progressEvery is how often an unchanged wait is reported again.
const progressEvery = 30 * time.Second

// CleanupOptions tune CleanupVolumes.
type CleanupOptions struct {
	// Wait bounds the wait for attached volumes to detach; 0 does not wait.
	Wait time.Duration
	// Poll is the interval between re-reads (0 means DefaultCleanupPoll).
	Poll time.Duration
	// DryRun reports what would be deleted, deletes nothing, waits for nothing.
	DryRun bool
	// Progress receives one line per step (nil: discarded).
	Progress io.Writer
}

// CleanupReport lists volume ids by outcome.
type CleanupReport struct {
	Found         []string // every volume the selector matched
	Deleted       []string
	WouldDelete   []string // dry run: available volumes a real run deletes
	StillAttached []string // in-use when the wait ended (dry run: in-use now)
	Skipped       []string // neither deleted nor attached: already deleting, vanished, or failed (see the error)
}

// CleanupVolumes deletes the cluster's run-time volumes. Available volumes
// are deleted at once; in-use ones (attached to an instance, which detaches
// them when it terminates) are polled until they are available and then
// deleted, for at most opts.Wait. Volumes still attached after that are
// listed in the report and in the returned error, never skipped silently.
func (c *Client) CleanupVolumes(ctx context.Context, sel VolumeSelector, opts CleanupOptions) (CleanupReport, error) {
	var rep CleanupReport
	filters, err := sel.Filters()
	if err != nil {
		return rep, err
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultCleanupPoll
	}
	out := opts.Progress
	if out == nil {
		out = io.Discard
	}
	what := describeSelector(sel)
	vols, err := c.describeVolumes(ctx, filters, sel, "listing "+what)
	if err != nil {
		return rep, err
	}
	for _, v := range vols {
		rep.Found = append(rep.Found, aws.ToString(v.VolumeId))
	}
	if len(vols) == 0 {
		fmt.Fprintf(out, "no %s found: nothing to delete\n", what)
		return rep, nil
	}
	fmt.Fprintf(out, "found %d %s:\n", len(vols), what)
	for _, v := range vols {
		fmt.Fprintf(out, "  %s\n", describeVolume(v))
	}

	var errs []error
	start := time.Now()
	deadline := start.Add(opts.Wait)
	var lastState string
	var lastPrint time.Time
	pending := map[string]types.Volume{}
	for _, v := range vols {
		pending[aws.ToString(v.VolumeId)] = v
	}
	for {
		for _, id := range sortedKeys(pending) {
			done, err := c.settle(ctx, pending[id], opts.DryRun, &rep, out)
			if err != nil {
				errs = append(errs, err)
			}
			if done {
				delete(pending, id)
			}
		}
		if len(pending) == 0 || !time.Now().Before(deadline) {
			break
		}
		if state := describeAttachments(pending); state != lastState || time.Since(lastPrint) >= progressEvery {
			fmt.Fprintf(out, "waiting for %s to detach (%s of %s): %s\n", plural(len(pending), "volume"),
				time.Since(start).Round(time.Second), opts.Wait, state)
			lastState, lastPrint = state, time.Now()
		}
		if ctxsleep.Sleep(ctx, min(opts.Poll, time.Until(deadline))); ctx.Err() != nil { // also when the pause ended first
			errs = append(errs, fmt.Errorf("waiting for volumes to detach: %w", ctx.Err()))
			break
		}
		if err := c.refresh(ctx, pending, filters, sel, &rep, out); err != nil {
			errs = append(errs, err)
			break
		}
	}
	return finish(rep, pending, errs, sel, time.Since(start).Round(time.Millisecond), what)
}

// FindVolumes describes each volume the selector matches, one string per
// volume as the clean-up reports it: "vol-0... (100 GiB gp2 in us-east-1a,
// in-use, attached to i-0... as /dev/xvdf: attached)". It changes nothing.
func (c *Client) FindVolumes(ctx context.Context, sel VolumeSelector) ([]string, error) {
	filters, err := sel.Filters()
	if err != nil {
		return nil, err
	}
	vols, err := c.describeVolumes(ctx, filters, sel, "listing "+describeSelector(sel))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(vols))
	for i, v := range vols {
		out[i] = describeVolume(v)
	}
	return out, nil
}

// DescribeSelector says in words which volumes sel matches, e.g. "REX-Ray
// volumes of cluster mha-1a2b3c4d (tag Name=mha-1a2b3c4d-moby-counter)".
func DescribeSelector(sel VolumeSelector) string { return describeSelector(sel) }

// settle handles one volume as it is now and reports whether it is done with.
func (c *Client) settle(ctx context.Context, v types.Volume, dryRun bool, rep *CleanupReport, out io.Writer) (bool, error) {
	id := aws.ToString(v.VolumeId)
	switch v.State {
	case types.VolumeStateAvailable, types.VolumeStateError:
		if dryRun {
			fmt.Fprintf(out, "would delete %s\n", describeVolume(v))
			rep.WouldDelete = append(rep.WouldDelete, id)
			return true, nil
		}
		_, err := c.api.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)})
		switch code := errorCode(err); {
		case err == nil:
			fmt.Fprintf(out, "deleted %s\n", describeVolume(v))
			rep.Deleted = append(rep.Deleted, id)
			return true, nil
		case code == "VolumeInUse":
			return false, nil // attached again or not yet detached: keep waiting
		case code == "InvalidVolume.NotFound":
			fmt.Fprintf(out, "%s: already deleted\n", id)
			rep.Skipped = append(rep.Skipped, id)
			return true, nil
		default:
			rep.Skipped = append(rep.Skipped, id)
			return true, callError("DeleteVolume", "deleting EBS volume "+id, err)
		}
	case types.VolumeStateInUse:
		if dryRun {
			fmt.Fprintf(out, "would wait for %s to detach, then delete it\n", describeVolume(v))
			rep.StillAttached = append(rep.StillAttached, id)
			return true, nil
		}
		return false, nil
	case types.VolumeStateCreating:
		if dryRun {
			fmt.Fprintf(out, "would wait for %s to be created, then delete it\n", describeVolume(v))
			rep.Skipped = append(rep.Skipped, id)
			return true, nil
		}
		return false, nil
	default: // deleting, deleted
		fmt.Fprintf(out, "%s: already %s\n", id, v.State)
		rep.Skipped = append(rep.Skipped, id)
		return true, nil
	}
}

// refresh re-reads the pending volumes. Filtering on volume-id (rather than
// passing VolumeIds) keeps one vanished volume from failing the call.
func (c *Client) refresh(ctx context.Context, pending map[string]types.Volume, filters []types.Filter, sel VolumeSelector, rep *CleanupReport, out io.Writer) error {
	ids := sortedKeys(pending)
	fs := append(slices.Clone(filters), types.Filter{Name: aws.String("volume-id"), Values: ids})
	vols, err := c.describeVolumes(ctx, fs, sel, "re-reading volumes "+strings.Join(ids, ", "))
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, v := range vols {
		id := aws.ToString(v.VolumeId)
		if _, ok := pending[id]; ok {
			pending[id] = v
			seen[id] = true
		}
	}
	for _, id := range ids {
		if !seen[id] {
			fmt.Fprintf(out, "%s: gone (deleted by someone else)\n", id)
			rep.Skipped = append(rep.Skipped, id)
			delete(pending, id)
		}
	}
	return nil
}

func (c *Client) describeVolumes(ctx context.Context, filters []types.Filter, sel VolumeSelector, doing string) ([]types.Volume, error) {
	var out []types.Volume
	p := ec2.NewDescribeVolumesPaginator(c.api, &ec2.DescribeVolumesInput{Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, callError("DescribeVolumes", doing, err)
		}
		for _, v := range page.Volumes {
			if sel.owns(v) {
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// finish sorts what is left into the report and builds the error.
func finish(rep CleanupReport, pending map[string]types.Volume, errs []error, sel VolumeSelector, waited time.Duration, what string) (CleanupReport, error) {
	var attached []string
	for _, id := range sortedKeys(pending) {
		v := pending[id]
		if v.State == types.VolumeStateInUse || v.State == types.VolumeStateAvailable {
			rep.StillAttached = append(rep.StillAttached, id)
			attached = append(attached, describeVolume(v))
		} else {
			rep.Skipped = append(rep.Skipped, id)
			errs = append(errs, fmt.Errorf("volume %s is still %s after %s; run again once it is available", id, v.State, waited))
		}
	}
	if len(attached) > 0 {
		var instances []string
		for _, id := range sortedKeys(pending) {
			for _, a := range pending[id].Attachments {
				if i := aws.ToString(a.InstanceId); i != "" && !slices.Contains(instances, i) {
					instances = append(instances, i)
				}
			}
		}
		fix := "detach them"
		if len(instances) > 0 {
			fix = fmt.Sprintf("terminate the instance(s) they are attached to (aws ec2 terminate-instances --instance-ids %s) or detach them", strings.Join(instances, " "))
		}
		errs = append([]error{fmt.Errorf("%s of cluster %s still attached after waiting %s, so not deleted and still billing: %s; %s, then run the clean-up again",
			plural(len(attached), "volume"), sel.ClusterID, waited, strings.Join(attached, "; "), fix)}, errs...)
	}
	if len(errs) > 0 {
		return rep, fmt.Errorf("cleaning up %s: %w", what, errors.Join(errs...))
	}
	return rep, nil
}

func describeSelector(sel VolumeSelector) string {
	switch sel.Driver {
	case facts.VolumeDriverFlocker:
		return fmt.Sprintf("Flocker volumes of cluster %s (tag %s=%s)", sel.ClusterID, facts.TagFlockerClusterID, strings.ToLower(sel.FlockerClusterUUID))
	default:
		return fmt.Sprintf("REX-Ray volumes of cluster %s (tag %s=%s)", sel.ClusterID, facts.TagName, sel.VolumeName)
	}
}

func describeVolume(v types.Volume) string {
	s := fmt.Sprintf("%s (%d GiB %s in %s, %s", aws.ToString(v.VolumeId), aws.ToInt32(v.Size), v.VolumeType, aws.ToString(v.AvailabilityZone), v.State)
	for _, a := range v.Attachments {
		s += fmt.Sprintf(", attached to %s as %s: %s", aws.ToString(a.InstanceId), aws.ToString(a.Device), a.State)
	}
	return s + ")"
}

func describeAttachments(pending map[string]types.Volume) string {
	var parts []string
	for _, id := range sortedKeys(pending) {
		parts = append(parts, describeVolume(pending[id]))
	}
	return strings.Join(parts, "; ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
