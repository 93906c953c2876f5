package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/userdata"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestWritesTheImageUserData: the file is RenderImage's document for the
// driver, gzipped (it is over EC2's 16 KB raw), with every image a node of
// that driver pulls by default; the commands launch Canonical's AMI with it
// and make the image in the region asked for.
func TestWritesTheImageUserData(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "prepare.yaml.gz")
			var out, errOut bytes.Buffer
			if code := run([]string{"--volume-driver", driver, "--output", path}, deps{stdout: &out, stderr: &errOut, getenv: env(map[string]string{"AWS_REGION": "eu-west-1"})}); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			doc := gunzip(t, path)
			want, err := userdata.RenderImage(userdata.ImageInput{VolumeDriver: driver, Images: nodeImages(driver, config.DefaultOf)})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(doc, want) {
				t.Errorf("the file is not RenderImage's document for %s", driver)
			}
			for _, image := range []string{facts.ZooKeeperImage, facts.MesosMasterImage, facts.MarathonImage, facts.MesosAgentImage, facts.MesosExecutorImage, facts.AppImage} {
				if !bytes.Contains(doc, []byte("'"+image+"'")) {
					t.Errorf("%s is not pulled into the image", image)
				}
			}
			flockerImages := []string{facts.FlockerControlServiceImage, facts.FlockerDatasetAgentImage, facts.FlockerDockerPluginImage}
			for _, image := range flockerImages {
				if got := bytes.Contains(doc, []byte("'"+image+"'")); got != (driver == facts.VolumeDriverFlocker) {
					t.Errorf("%s in a %s image: %v", image, driver, got)
				}
			}
			for _, want := range []string{
				"--region eu-west-1 --owners " + facts.AMIOwnerCanonical, "Values=" + facts.AMINameFilter,
				"--user-data fileb://" + path, "VolumeSize=16", "aws ec2 wait instance-stopped", "aws ec2 create-image",
				"aws ec2 terminate-instances", `pulumi config set amiId "$IMAGE"`, "marathon-ha-" + driver + "-",
			} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// TestImagesAreTheConfigDefaults: the images are the image keys' defaults,
// which the stack's nodes pull unless the config overrides them.
func TestImagesAreTheConfigDefaults(t *testing.T) {
	images := nodeImages(facts.VolumeDriverFlocker, config.DefaultOf)
	for _, k := range config.Keys {
		if strings.HasSuffix(k.Name, "Image") && !slices.Contains(images, k.Default) {
			t.Errorf("%s's default %q is not in the image", k.Name, k.Default)
		}
	}
}

// TestRootVolumeFitsTheStacks: a node's root volume may not be smaller
// than its AMI's snapshot, so the image's must fit a default stack.
func TestRootVolumeFitsTheStacks(t *testing.T) {
	if rootVolumeGiB > config.DefaultRootVolumeGiB || rootVolumeGiB < config.MinRootVolumeGiB {
		t.Errorf("the image's root volume is %d GiB; a default stack's is %d, the AMI's own %d", rootVolumeGiB, config.DefaultRootVolumeGiB, config.MinRootVolumeGiB)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--volume-driver", "ceph", "--region", "eu-west-1"}, 2, `volume driver "ceph": want one of`},
		{[]string{"--stack", "dev", "--region", "us-east-1"}, 2, "with --stack the volume driver and the region are the stack's"},
		{[]string{"extra"}, 2, "unexpected argument"},
		{[]string{"--output", filepath.Join(t.TempDir(), "missing", "x.gz"), "--region", "eu-west-1"}, 1, "no such file or directory"},
		// No region known: asked for, rather than commands with a
		// literal <region> in them.
		{[]string{"--volume-driver", "rexray"}, 2, "pass --region R"},
	} {
		var out, errOut bytes.Buffer
		if code := run(tc.args, deps{stdout: &out, stderr: &errOut, getenv: env(nil)}); code != tc.code || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
}

// What `pulumi config --json --stack dev` prints for a Flocker stack with
// one image of its own (secrets stay hidden).
const devConfig = `{
  "aws:region": {"value": "eu-central-1", "secret": false},
  "marathon-ha:volumeDriver": {"value": "flocker", "secret": false},
  "marathon-ha:marathonImage": {"value": "mesosphere/marathon:v1.4.8", "secret": false},
  "marathon-ha:publicKey": {"secret": true}
}`

// TestFromAStacksConfig: with --stack the image is for the stack's volume
// driver, region and images, and the commands set that stack's amiId; a
// root volume smaller than the image's snapshot is refused first.
func TestFromAStacksConfig(t *testing.T) {
	var pulumiArgs []string
	pulumi := func(cfg string) func(context.Context, []string) ([]byte, error) {
		return func(_ context.Context, args []string) ([]byte, error) {
			pulumiArgs = args
			return []byte(cfg), nil
		}
	}
	path := filepath.Join(t.TempDir(), "prepare.yaml.gz")
	var out, errOut bytes.Buffer
	if code := run([]string{"--stack", "dev", "--cwd", "/p", "--output", path}, deps{stdout: &out, stderr: &errOut, getenv: env(nil), pulumi: pulumi(devConfig)}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if got := strings.Join(pulumiArgs, " "); got != "config --json --stack dev --cwd /p" {
		t.Errorf("pulumi %s", got)
	}
	doc := gunzip(t, path)
	if !bytes.Contains(doc, []byte("'mesosphere/marathon:v1.4.8'")) || bytes.Contains(doc, []byte("'"+facts.MarathonImage+"'")) {
		t.Errorf("the image does not pull the stack's own Marathon image")
	}
	if !bytes.Contains(doc, []byte("'"+facts.FlockerDatasetAgentImage+"'")) {
		t.Errorf("a flocker stack's image lacks Flocker's images")
	}
	for _, want := range []string{"--region eu-central-1", `pulumi config set amiId "$IMAGE" --stack dev`, "marathon-ha-flocker-"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}

	small := strings.Replace(devConfig, `"aws:region"`, `"marathon-ha:rootVolumeSizeGiB": {"value": "12", "secret": false}, "aws:region"`, 1)
	errOut.Reset()
	if code := run([]string{"--stack", "dev", "--output", path}, deps{stdout: &out, stderr: &errOut, getenv: env(nil), pulumi: pulumi(small)}); code != 1 ||
		!strings.Contains(errOut.String(), "stack dev's rootVolumeSizeGiB is 12 GiB, smaller than the image's 16 GiB snapshot") {
		t.Errorf("exit %d, stderr %q; want the small root volume refused", code, errOut.String())
	}
	noRegion := strings.Replace(devConfig, `"aws:region"`, `"aws:profile"`, 1)
	errOut.Reset()
	if code := run([]string{"--stack", "dev", "--output", path}, deps{stdout: &out, stderr: &errOut, getenv: env(nil), pulumi: pulumi(noRegion)}); code != 1 ||
		!strings.Contains(errOut.String(), "stack dev has no aws:region") {
		t.Errorf("exit %d, stderr %q; want the missing region named", code, errOut.String())
	}
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s is not gzip: %v", path, err)
	}
	doc, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
