// Command prepare-ami writes the cloud-init user data that makes an
// instance of Canonical's Ubuntu 20.04 AMI into an image for marathon-ha's
// nodes (userdata.RenderImage), and prints the AWS CLI commands that make
// the image from it. A stack whose amiId is such an image boots without
// its package and image downloads, the longest steps of its boot.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/opflags"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
	"github.com/marathon-ha/marathon-ha/userdata"
)

const usage = `Usage:
    prepare-ami --stack NAME [--cwd DIR] [--output FILE]
    prepare-ami --region R [--volume-driver D] [--output FILE]

Writes the cloud-init user data that prepares an image for marathon-ha's
nodes of one volume driver: Docker and the other pinned packages, and every
container image a master or an agent pulls at boot, then powers the
instance off. With --stack, the volume driver, the region and the images
are the stack's config (` + "`pulumi config --json`" + `); without, the
image config keys' defaults. Nothing of a node is in
it: no address, certificate, service, or REX-Ray plugin (its settings name a
region). Then it prints the AWS CLI commands that launch the instance from
Canonical's newest Ubuntu 20.04 AMI, wait for it to stop, make the image and
terminate the instance; set the image as the stack's amiId.

Without --stack, --region (or MHA_REGION, AWS_REGION) names the region the
commands make the image in: the stack's amiId must be an image of its own
region. --volume-driver is rexray by default. --output is where the user
data goes, gzipped: the document is over EC2's 16 KB raw, and cloud-init
inflates gzip (default prepare-ami-<driver>.yaml.gz).`

const program = "prepare-ami"

// rootVolumeGiB is the prepared instance's root volume, and so the image's
// snapshot: the Ubuntu AMI's 8 GiB cannot hold the images (Marathon alone
// is 1.6 GB unpacked, d2iq-archive/marathon#5159). A node's root volume may
// not be smaller than its AMI's snapshot, so a stack using the image needs
// rootVolumeSizeGiB of at least this (the default is 30).
const rootVolumeGiB = 16

func main() {
	os.Exit(run(os.Args[1:], deps{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, pulumi: stackoutputs.RunPulumi}))
}

// newFlags is the tool's flag set (opflags.Tools["prepare-ami"]).
func newFlags(stderr io.Writer, getenv func(string) string) *opflags.FlagSet {
	return opflags.New(program, opflags.Tools[program], usage, stderr, getenv)
}

// deps are what run reaches outside the process, replaced in tests.
type deps struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	pulumi         func(ctx context.Context, args []string) ([]byte, error)
}

func run(args []string, d deps) int {
	stdout, stderr := d.stdout, d.stderr
	fs := newFlags(stderr, d.getenv)
	err := fs.Parse(args)
	if err == nil {
		err = fs.NoArgs()
	}
	if err == nil && fs.Stack != "" && (fs.IsSet("volume-driver") || fs.IsSet("region")) {
		err = opflags.Usagef("with --stack the volume driver and the region are the stack's: drop --volume-driver and --region")
	}
	if err == nil && fs.Stack == "" && fs.Region == "" {
		err = opflags.Usagef("which region is the image for? pass --region R (the stack's aws:region), or --stack NAME to read it from the stack")
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "%s: %v\n", program, err)
		}
		return opflags.ExitCode(err)
	}
	get := config.DefaultOf
	region, driverFlag := fs.Region, fs.VolumeDriver
	if fs.Stack != "" {
		driverFlag = ""
		cfg, err := fs.LoadConfig(context.Background(), d.pulumi)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", program, err)
			return 1
		}
		get = func(key string) string { return firstOf(cfg[facts.Project+":"+key], config.DefaultOf(key)) }
		if region = cfg["aws:region"]; region == "" {
			fmt.Fprintf(stderr, "%s: stack %s has no aws:region: set it with pulumi config set aws:region REGION --stack %s\n", program, fs.Stack, fs.Stack)
			return 1
		}
		if size, err := strconv.Atoi(get(config.KeyRootVolumeSize)); err != nil || size < rootVolumeGiB {
			fmt.Fprintf(stderr, "%s: stack %s's %s is %s GiB, smaller than the image's %d GiB snapshot, which EC2 refuses: set it to %d or more first\n",
				program, fs.Stack, config.KeyRootVolumeSize, get(config.KeyRootVolumeSize), rootVolumeGiB, rootVolumeGiB)
			return 1
		}
	}
	stack, output := fs.Stack, &fs.OutputFile
	driver := firstOf(driverFlag, get(config.KeyVolumeDriver))
	if !slices.Contains(facts.VolumeDrivers, driver) {
		fmt.Fprintf(stderr, "%s: volume driver %q: want one of %s\n", program, driver, strings.Join(facts.VolumeDrivers, ", "))
		return 2
	}
	doc, err := userdata.RenderImage(userdata.ImageInput{VolumeDriver: driver, Images: nodeImages(driver, get)})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	path := *output
	if path == "" {
		path = "prepare-ami-" + driver + ".yaml.gz"
	}
	// EncodeForEC2 gzips within EC2's limit; the AWS CLI base64-encodes a
	// fileb:// user data itself.
	var gz []byte
	encoded, err := userdata.EncodeForEC2(doc)
	if err == nil {
		if gz, err = base64.StdEncoding.DecodeString(encoded); err == nil {
			err = os.WriteFile(path, gz, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: wrote the user data of a %s image to %s (%d bytes gzipped, %d raw).\n", program, driver, path, len(gz), len(doc))
	fmt.Fprint(stdout, commands(driver, region, path, stack))
	return 0
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// nodeImages are the images every node of driver pulls, each the value
// get gives its config key (a stack's, or the default).
func nodeImages(driver string, def func(key string) string) []string {
	return userdata.NodeImages(driver,
		userdata.MasterImages{ZooKeeper: def(config.KeyZooKeeperImage), MesosMaster: def(config.KeyMesosMasterImage),
			Marathon: def(config.KeyMarathonImage), FlockerControl: def(config.KeyFlockerControlImage),
			AWSCLI: def(config.KeyAWSCLIImage)},
		userdata.AgentImages{MesosAgent: def(config.KeyMesosAgentImage), MesosExecutor: def(config.KeyMesosExecutorImage),
			FlockerDatasetAgent: def(config.KeyFlockerAgentImage), FlockerDockerPlugin: def(config.KeyFlockerPluginImage)},
		def(config.KeyAppImage))
}

// commands are the AWS CLI commands that make the image from the user data
// at path. The instance stops itself once prepared (power_state; EC2's
// default instance-initiated shutdown behaviour is stop), so waiting for
// "stopped" waits for the preparation; a failed one never stops, and its
// console says why.
func commands(driver, region, path, stack string) string {
	r := "--region " + region
	setAMI := `pulumi config set amiId "$IMAGE"`
	if stack != "" {
		setAMI += " --stack " + stack
	}
	return fmt.Sprintf(`Make the image (the instance needs internet access: the default VPC's subnets have it):

  AMI=$(aws ec2 describe-images %[1]s --owners %[2]s --filters 'Name=name,Values=%[3]s' \
        --query 'sort_by(Images,&CreationDate)[-1].ImageId' --output text)
  ID=$(aws ec2 run-instances %[1]s --image-id "$AMI" --instance-type m5.large --user-data fileb://%[4]s \
        --block-device-mappings 'DeviceName=/dev/sda1,Ebs={VolumeSize=%[5]d,VolumeType=gp3,Encrypted=true}' \
        --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=marathon-ha-prepare-%[6]s}]' \
        --query 'Instances[0].InstanceId' --output text)
  aws ec2 wait instance-stopped %[1]s --instance-ids "$ID"   # about 5 minutes
  aws ec2 get-console-output %[1]s --instance-id "$ID" --latest --output text | grep 'marathon-ha'
  IMAGE=$(aws ec2 create-image %[1]s --instance-id "$ID" --name "marathon-ha-%[6]s-$(date +%%Y%%m%%d%%H%%M)" \
        --query ImageId --output text)
  aws ec2 wait image-available %[1]s --image-ids "$IMAGE"
  aws ec2 terminate-instances %[1]s --instance-ids "$ID"
  %[8]s    # with rootVolumeSizeGiB %[5]d or more (default 30)

If the instance does not stop, the console shows '%[7]s<step>: <reason>'.
`, r, facts.AMIOwnerCanonical, facts.AMINameFilter, path, rootVolumeGiB, driver, facts.BootFailedPrefix, setAMI)
}
