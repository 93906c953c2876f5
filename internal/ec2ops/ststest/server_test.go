package ststest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ststest"
)

var (
	alice = ststest.Identity{AccessKeyID: "AKIDALICE", SecretAccessKey: "alice-secret", Account: "111111111111"}
	role  = ststest.Identity{AccessKeyID: "ASIAROLE", SecretAccessKey: "role-secret", SessionToken: "token-1",
		Account: "222222222222", ARN: "arn:aws:sts::222222222222:assumed-role/deployer/session"}
)

func code(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an AWS API error", err)
	}
	return ae.ErrorCode()
}

func TestGetCallerIdentityThroughSDK(t *testing.T) {
	srv := ststest.NewServer(alice, role)
	defer srv.Close()
	for _, tc := range []struct {
		id              ststest.Identity
		region, wantARN string
		wantAccount     string
	}{
		{alice, "eu-west-1", "arn:aws:iam::111111111111:user/operator", "111111111111"},
		{role, "us-east-1", role.ARN, "222222222222"},
	} {
		out, err := srv.Client(tc.id, tc.region).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("%s: %v", tc.id.AccessKeyID, err)
		}
		if aws.ToString(out.Account) != tc.wantAccount || aws.ToString(out.Arn) != tc.wantARN || aws.ToString(out.UserId) == "" {
			t.Errorf("%s: account %s arn %s user %s", tc.id.AccessKeyID, aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId))
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Region != "eu-west-1" || reqs[1].AccessKeyID != "ASIAROLE" {
		t.Errorf("requests %+v: want the signing region and key of each", reqs)
	}
}

func TestRefusesWhatSTSRefuses(t *testing.T) {
	srv := ststest.NewServer(alice, role)
	defer srv.Close()
	ctx := context.Background()
	tests := map[string]struct {
		client *sts.Client
		want   string
	}{
		"unknown access key":    {srv.Client(ststest.Identity{AccessKeyID: "AKIDNOBODY", SecretAccessKey: "x"}, "us-east-1"), "InvalidClientTokenId"},
		"wrong secret":          {srv.Client(ststest.Identity{AccessKeyID: alice.AccessKeyID, SecretAccessKey: "guess"}, "us-east-1"), "SignatureDoesNotMatch"},
		"session token missing": {srv.Client(ststest.Identity{AccessKeyID: role.AccessKeyID, SecretAccessKey: role.SecretAccessKey}, "us-east-1"), "InvalidClientTokenId"},
		"stray session token":   {srv.Client(ststest.Identity{AccessKeyID: alice.AccessKeyID, SecretAccessKey: alice.SecretAccessKey, SessionToken: "t"}, "us-east-1"), "InvalidClientTokenId"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := tc.client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if got := code(t, err); got != tc.want {
				t.Errorf("code %s, want %s", got, tc.want)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d refused requests were recorded as served", n)
	}
}

func TestRefusesUnsignedAndUnknownActions(t *testing.T) {
	srv := ststest.NewServer(alice)
	defer srv.Close()
	post := func(form url.Values) (*http.Response, string) {
		t.Helper()
		resp, err := http.PostForm(srv.URL, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := post(url.Values{"Action": {"GetCallerIdentity"}, "Version": {ststest.APIVersion}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<Code>MissingAuthenticationToken</Code>") {
		t.Errorf("unsigned request: %d %s", resp.StatusCode, body)
	}

	// A signed request for an action STS does not have, through the SDK's
	// own signing middleware.
	var got error
	c := srv.Client(alice, "us-east-1")
	_, got = c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}, func(o *sts.Options) {
		o.APIOptions = append(o.APIOptions, renameAction("GetCallerIdentities"))
	})
	if code(t, got) != "InvalidAction" || !strings.Contains(got.Error(), "Could not find operation GetCallerIdentities for version 2011-06-15") {
		t.Errorf("unknown action: %v", got)
	}
}

// renameAction rewrites the Action of the serialized request before the
// SDK signs it, so the stand-in sees a correctly signed unknown action.
func renameAction(action string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Build.Add(middleware.BuildMiddlewareFunc("renameAction", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			req := in.Request.(*smithyhttp.Request)
			body, err := io.ReadAll(req.GetStream())
			if err != nil {
				return middleware.BuildOutput{}, middleware.Metadata{}, err
			}
			body = bytes.Replace(body, []byte("Action=GetCallerIdentity"), []byte("Action="+action), 1)
			req.ContentLength = int64(len(body))
			if req, err = req.SetStream(bytes.NewReader(body)); err != nil {
				return middleware.BuildOutput{}, middleware.Metadata{}, err
			}
			in.Request = req
			return next.HandleBuild(ctx, in)
		}), middleware.After)
	}
}
