package ec2ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
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
