package ec2ops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// STSAPI is the part of *sts.Client this package uses, so tests can pass a
// client pointed at a stand-in (internal/ec2ops/ststest).
type STSAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Identity is whom a tool's AWS credentials belong to.
type Identity struct {
	Account, ARN, UserID string
}

// CallerIdentity asks STS whom the credentials of api belong to.
// GetCallerIdentity needs no permission and cannot be denied by a policy
// (STS API reference, GetCallerIdentity), so it works with any valid
// credentials and fails only on bad ones.
func CallerIdentity(ctx context.Context, api STSAPI) (Identity, error) {
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, callError("GetCallerIdentity", "asking AWS STS whom the credentials belong to", err)
	}
	return Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn), UserID: aws.ToString(out.UserId)}, nil
}

// ErrWrongAccount is matched (errors.Is) by every *AccountError.
var ErrWrongAccount = errors.New("credentials of another AWS account")

// AccountError is the refusal to act with credentials of an account other
// than the stack's: a search there finds nothing, and "nothing found" would
// pass for "nothing to delete".
type AccountError struct {
	Want   string   // the stack's account, recorded at `pulumi up`
	Caller Identity // whom the credentials belong to
}

func (e *AccountError) Error() string {
	return fmt.Sprintf("these AWS credentials belong to account %s (%s), but the stack's resources are in account %s (recorded at `pulumi up`); a search in account %s would find nothing and leave the stack's volumes behind",
		e.Caller.Account, e.Caller.ARN, e.Want, e.Caller.Account)
}

// Is makes errors.Is(err, ErrWrongAccount) true.
func (e *AccountError) Is(target error) bool { return target == ErrWrongAccount }

// CheckAccount returns the caller's identity, and an *AccountError when its
// account is not want.
func CheckAccount(ctx context.Context, api STSAPI, want string) (Identity, error) {
	id, err := CallerIdentity(ctx, api)
	if err != nil {
		return id, err
	}
	if id.Account != want {
		return id, &AccountError{Want: want, Caller: id}
	}
	return id, nil
}

// CredentialError is an AWS credential that is missing, expired or not
// valid, named as such with its fix, rather than the SDK's chain of
// attempts (an instance-metadata lookup, "no EC2 IMDS role found", ...).
type CredentialError struct {
	Problem string // what is wrong, e.g. "no AWS credentials found"
	Fix     string // what to do
	Err     error  // the SDK's error
}

func (e *CredentialError) Error() string {
	s := e.Problem + ": " + e.Fix
	if code := errorCode(e.Err); code != "" {
		s += " (STS: " + code + ")"
	}
	return s
}

func (e *CredentialError) Unwrap() error { return e.Err }

// CheckCredentials asks STS whom the credentials of api belong to, once,
// before a tool's work, and names a missing, expired or invalid credential
// with its fix. profile is the shared-config profile in use ("" for the
// SDK's default chain), for the fix.
func CheckCredentials(ctx context.Context, api STSAPI, profile string) (Identity, error) {
	return checkCredentials(ctx, api, profile, toolsProfile)
}

// profileSetting is how a user names the shared-config profile, for the
// fix of a credential error: the tools' flag, or the stack's aws:profile
// (the Pulumi program's own reads, AccountSettings).
type profileSetting struct{ name, how string }

var (
	toolsProfile   = profileSetting{name: "--aws-profile", how: "pass --aws-profile"}
	programProfile = profileSetting{name: "aws:profile", how: "`pulumi config set aws:profile <profile>`"}
)

func checkCredentials(ctx context.Context, api STSAPI, profile string, setting profileSetting) (Identity, error) {
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		if ce := credentialError(err, profile, setting); ce != nil {
			return Identity{}, ce
		}
		return Identity{}, callError("GetCallerIdentity", "asking AWS STS whom the credentials belong to", err)
	}
	return Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn), UserID: aws.ToString(out.UserId)}, nil
}

// credentialError names what is wrong with the credentials behind err, or
// returns nil when err is about something else (the network, the region).
func credentialError(err error, profile string, setting profileSetting) *CredentialError {
	if err == nil {
		return nil
	}
	which := "AWS_PROFILE or " + setting.name
	login := "`aws sso login`"
	if profile != "" {
		which = fmt.Sprintf("profile %q", profile)
		login = fmt.Sprintf("`aws sso login --profile %s`", profile)
	}
	var sso *ssocreds.InvalidTokenError
	var noProfile config.SharedConfigProfileNotExistError
	switch code := errorCode(err); {
	case errors.As(err, &noProfile):
		return &CredentialError{Problem: fmt.Sprintf("AWS profile %q does not exist in ~/.aws/config or ~/.aws/credentials", noProfile.Profile),
			Fix: fmt.Sprintf("create it (`aws configure --profile %s`, or `aws configure sso`) or name another with %s", noProfile.Profile, setting.name), Err: err}
	case errors.As(err, &sso):
		return &CredentialError{Problem: "the AWS SSO session of " + which + " has expired or was never started", Fix: "run " + login + " and try again", Err: err}
	case code == "ExpiredToken" || code == "ExpiredTokenException":
		return &CredentialError{Problem: "the AWS credentials (" + which + ") have expired",
			Fix: "renew them: " + login + " for an SSO profile, or fresh temporary keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)", Err: err}
	case code == "InvalidClientTokenId" || code == "SignatureDoesNotMatch" || code == "AuthFailure" || code == "UnrecognizedClientException":
		return &CredentialError{Problem: "the AWS credentials (" + which + ") are not valid: an unknown access key or a wrong secret",
			Fix: "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile's keys (`aws configure`); `aws sts get-caller-identity` tries them", Err: err}
	case code == "" && noCredentials(err):
		return &CredentialError{Problem: "no AWS credentials found (no keys in the environment, no profile with keys, no SSO session, no instance role)",
			Fix: "set AWS_PROFILE (or " + setting.how + ") to a profile of ~/.aws/config, run `aws configure` to store keys, or " + login + " for an SSO profile", Err: err}
	}
	return nil
}

// noCredentials reports whether err is the SDK's credential chain finding
// nothing: aws.CredentialsCache wraps the last provider's failure as
// "failed to refresh cached credentials" (aws-sdk-go-v2 v1.48.0
// aws/credential_cache.go), the last provider being the instance role's
// ("no EC2 IMDS role found", credentials v1.21.0 ec2rolecreds/provider.go).
func noCredentials(err error) bool {
	s := err.Error()
	return strings.Contains(s, "failed to refresh cached credentials") || strings.Contains(s, "no EC2 IMDS role found") ||
		strings.Contains(s, "static credentials are empty") || strings.Contains(s, "failed to retrieve credentials")
}
