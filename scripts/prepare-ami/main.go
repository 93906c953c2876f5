// Command prepare-ami writes the cloud-init user data that makes an
// instance of Canonical's Ubuntu 20.04 AMI into an image for marathon-ha's
// nodes (userdata.RenderImage), and prints the AWS CLI commands that make
// the image from it. A stack whose amiId is such an image boots without
// its package and image downloads, the longest steps of its boot.
package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/userdata"
)

const usage = `Usage:
    prepare-ami [--volume-driver D] [--region R] [--output FILE]

Writes the cloud-init user data that prepares an image for marathon-ha's
nodes of one volume driver: Docker and the other pinned packages, and every
container image a master or an agent pulls at boot (the defaults of the
image config keys), then powers the instance off. Nothing of a node is in
it: no address, certificate, service, or REX-Ray plugin (its settings name a
region). Then it prints the AWS CLI commands that launch the instance from
Canonical's newest Ubuntu 20.04 AMI, wait for it to stop, make the image and
terminate the instance; set the image as the stack's amiId.

Options:
    --volume-driver D   rexray (default) or flocker.
    --region R          The region to make the image in, for the printed
                        commands (default $AWS_REGION).
    --output FILE       Where to write the user data, gzipped: the document is
                        over EC2's 16 KB raw, and cloud-init inflates gzip
                        (default prepare-ami-<driver>.yaml.gz).`

const program = "prepare-ami"

// rootVolumeGiB is the prepared instance's root volume, and so the image's
// snapshot: the Ubuntu AMI's 8 GiB cannot hold the images (Marathon alone
// is 1.6 GB unpacked, d2iq-archive/marathon#5159). A node's root volume may
// not be smaller than its AMI's snapshot, so a stack using the image needs
// rootVolumeSizeGiB of at least this (the default is 30).
const rootVolumeGiB = 16

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet(program, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	driver := fs.String("volume-driver", facts.VolumeDriverRexRay, "")
	region := fs.String("region", getenv("AWS_REGION"), "")
	output := fs.String("output", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q; see --help\n", program, fs.Args())
		return 2
	}
	if !slices.Contains(facts.VolumeDrivers, *driver) {
		fmt.Fprintf(stderr, "%s: --volume-driver %q: want one of %s\n", program, *driver, strings.Join(facts.VolumeDrivers, ", "))
		return 2
	}
	if *region == "" {
		*region = "<region>"
	}
	doc, err := userdata.RenderImage(userdata.ImageInput{VolumeDriver: *driver, Images: nodeImages(*driver)})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	path := *output
	if path == "" {
		path = "prepare-ami-" + *driver + ".yaml.gz"
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
	fmt.Fprintf(stdout, "%s: wrote the user data of a %s image to %s (%d bytes gzipped, %d raw).\n", program, *driver, path, len(gz), len(doc))
	fmt.Fprint(stdout, commands(*driver, *region, path))
	return 0
}

// nodeImages are the images every node of driver pulls, each the default
// of its config key: a stack that overrides one pulls that one at boot.
func nodeImages(driver string) []string {
	def := config.DefaultOf
	return userdata.NodeImages(driver,
		userdata.MasterImages{ZooKeeper: def(config.KeyZooKeeperImage), MesosMaster: def(config.KeyMesosMasterImage),
			Marathon: def(config.KeyMarathonImage), FlockerControl: def(config.KeyFlockerControlImage)},
		userdata.AgentImages{MesosAgent: def(config.KeyMesosAgentImage), MesosExecutor: def(config.KeyMesosExecutorImage),
			FlockerDatasetAgent: def(config.KeyFlockerAgentImage), FlockerDockerPlugin: def(config.KeyFlockerPluginImage)},
		def(config.KeyAppImage))
}

// commands are the AWS CLI commands that make the image from the user data
// at path. The instance stops itself once prepared (power_state; EC2's
// default instance-initiated shutdown behaviour is stop), so waiting for
// "stopped" waits for the preparation; a failed one never stops, and its
// console says why.
func commands(driver, region, path string) string {
	r := "--region " + region
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
  pulumi config set amiId "$IMAGE"    # with rootVolumeSizeGiB %[5]d or more (default 30)

If the instance does not stop, the console shows '%[7]s<step>: <reason>'.
`, r, facts.AMIOwnerCanonical, facts.AMINameFilter, path, rootVolumeGiB, driver, facts.BootFailedPrefix)
}
