package ec2ops_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ststest"
)

// isolateAWS leaves the SDK's chain nothing to find but what the test
// gives it: no keys, no profile files, an instance-metadata service that
// has no role (it refuses the IMDSv2 token with 404, as one with IMDSv2
// off does, which makes the SDK log "falling back to IMDSv1", then has no
// credentials path), and STS at the stand-in.
func isolateAWS(t *testing.T, sts *ststest.Server) {
	t.Helper()
	dir := t.TempDir()
	imds := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(imds.Close)
	for k, v := range map[string]string{
		"HOME": dir, "AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.URL, "AWS_ENDPOINT_URL_STS": sts.URL,
	} {
		t.Setenv(k, v)
	}
}

// captureStderr returns what fn wrote to os.Stderr.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	fn()
	os.Stderr = old
	w.Close()
	return <-done
}

func TestNoCredentialsNamedWithoutSDKLogLines(t *testing.T) {
	srv := ststest.NewServer()
	t.Cleanup(srv.Close)
	isolateAWS(t, srv)
	var err error
	logged := captureStderr(t, func() { _, err = ec2ops.Whoami(context.Background(), "eu-west-1", "") })
	var ce *ec2ops.CredentialError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a CredentialError", err)
	}
	for _, want := range []string{"no AWS credentials found", "AWS_PROFILE", "aws configure", "aws sso login"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "IMDS") || logged != "" {
		t.Errorf("the SDK's own lines leaked: error %q, stderr %q", err, logged)
	}
	if len(srv.Requests()) != 0 {
		t.Error("STS was asked without credentials")
	}
}

func TestCredentialProblemsNamed(t *testing.T) {
	good := ststest.Identity{AccessKeyID: "AKIDGOOD", SecretAccessKey: "s", Account: "123456789012"}
	expired := ststest.Identity{AccessKeyID: "ASIAOLD", SecretAccessKey: "s", SessionToken: "tok", Account: "123456789012", Expired: true}
	srv := ststest.NewServer(good, expired)
	t.Cleanup(srv.Close)
	isolateAWS(t, srv)
	ctx := context.Background()
	cases := []struct {
		name    string
		id      ststest.Identity
		profile string
		want    []string
	}{
		{"expired", expired, "ops", []string{"have expired", "aws sso login --profile ops", "ExpiredToken"}},
		{"wrong secret", ststest.Identity{AccessKeyID: "AKIDGOOD", SecretAccessKey: "stale"}, "", []string{"not valid", "aws configure", "SignatureDoesNotMatch"}},
		{"unknown key", ststest.Identity{AccessKeyID: "AKIDNOBODY", SecretAccessKey: "s"}, "", []string{"not valid", "InvalidClientTokenId"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ec2ops.CheckCredentials(ctx, srv.Client(tc.id, "eu-west-1"), tc.profile)
			var ce *ec2ops.CredentialError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a CredentialError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}
	id, err := ec2ops.CheckCredentials(ctx, srv.Client(good, "eu-west-1"), "")
	if err != nil || id.Account != "123456789012" {
		t.Errorf("good credentials: %+v, %v", id, err)
	}
	_, err = ec2ops.Whoami(ctx, "eu-west-1", "nope")
	if err == nil || !strings.Contains(err.Error(), `profile "nope" does not exist`) {
		t.Errorf("a missing profile: %v", err)
	}
}
