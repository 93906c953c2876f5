package main

import (
	"bytes"
	"compress/gzip"
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
			if code := run([]string{"--volume-driver", driver, "--output", path}, &out, &errOut, env(map[string]string{"AWS_REGION": "eu-west-1"})); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
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
			want, err := userdata.RenderImage(userdata.ImageInput{VolumeDriver: driver, Images: nodeImages(driver)})
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
	images := nodeImages(facts.VolumeDriverFlocker)
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
		{[]string{"--volume-driver", "ceph"}, 2, `--volume-driver "ceph": want one of`},
		{[]string{"extra"}, 2, "unexpected arguments"},
		{[]string{"--output", filepath.Join(t.TempDir(), "missing", "x.gz")}, 1, "no such file or directory"},
	} {
		var out, errOut bytes.Buffer
		if code := run(tc.args, &out, &errOut, env(nil)); code != tc.code || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
}
