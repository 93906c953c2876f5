// Package ststest is an in-process stand-in for the one AWS STS action
// marathon-ha's tools call, GetCallerIdentity, so tests can drive the real
// aws-sdk-go-v2 sts client (and the SDK's credential chain: profiles,
// environment keys) against it and see which account a tool really acts as.
//
// It speaks the Query protocol the SDK uses for STS (service/sts v1.52.0
// api_client.go: awsquery; request_snapshot/GetCallerIdentity.request.snap:
// POST / with Action=GetCallerIdentity&Version=2011-06-15) and refuses what
// STS refuses, by default: each rule below names its source, the STS API
// reference (docs.aws.amazon.com/STS/latest/APIReference/): CommonErrors.html
// for the codes and HTTP statuses, API_GetCallerIdentity.html for the answer.
// Requests must be signed with Signature Version 4 by a known access key and
// its secret: the signature is recomputed and compared, as AWS does (AWS
// General Reference, "Signature Version 4 signing process").
package ststest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// APIVersion is the only STS API version (sts.Client sends Version=2011-06-15).
const APIVersion = "2011-06-15"

// namespace is the XML namespace of STS answers (API_GetCallerIdentity.html,
// "Sample Response").
const namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// Identity is one set of credentials the stand-in knows and whom they belong to.
type Identity struct {
	AccessKeyID, SecretAccessKey string
	SessionToken                 string // temporary credentials only; then it must be sent
	Account                      string // 12 digits
	ARN, UserID                  string // "" derives an IAM user's from Account
	// Expired makes STS answer as for temporary credentials past their
	// expiry: ExpiredToken, HTTP 403 (the Query error document an expired
	// session gets, as the AWS CLI and SDKs report it: "An error occurred
	// (ExpiredToken) when calling the GetCallerIdentity operation: The
	// security token included in the request is expired";
	// aws/aws-sdk-java-v2#1649 shows its status, 403).
	Expired bool
}

// Request is one call as the stand-in received it, after authentication.
type Request struct {
	Action      string
	AccessKeyID string
	Region      string // the region of the signature's credential scope
}

// Server is a running STS stand-in. Its methods are safe for concurrent use.
type Server struct {
	// URL is the endpoint to give the SDK (BaseEndpoint or AWS_ENDPOINT_URL_STS).
	URL string

	srv        *httptest.Server
	identities map[string]Identity

	mu       sync.Mutex
	requests []Request
	seq      int
}

// NewServer starts a stand-in that knows the given identities; Close stops it.
func NewServer(ids ...Identity) *Server {
	s := &Server{identities: map[string]Identity{}}
	for _, id := range ids {
		if id.ARN == "" {
			id.ARN = "arn:aws:iam::" + id.Account + ":user/operator"
		}
		if id.UserID == "" {
			id.UserID = "AIDA" + strings.ToUpper(id.AccessKeyID)
		}
		s.identities[id.AccessKeyID] = id
	}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// Client returns an sts client signing with id's credentials in region.
func (s *Server) Client(id Identity, region string) *sts.Client {
	cfg := aws.Config{Region: region,
		Credentials: credentials.NewStaticCredentialsProvider(id.AccessKeyID, id.SecretAccessKey, id.SessionToken)}
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

// Requests returns the authenticated calls received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

type apiError struct {
	status        int
	code, message string
}

// Errors of CommonErrors.html, with the messages STS writes.
var (
	errMissingToken = &apiError{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"}
	errBadToken     = &apiError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
	errExpired      = &apiError{http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired"}
	errSignature    = &apiError{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
)

func incomplete(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "IncompleteSignature", fmt.Sprintf(format, args...)}
}

// ServeHTTP answers one Query-API call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seq++
	s.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeError(w, &apiError{http.StatusBadRequest, "MalformedQueryString", err.Error()})
		return
	}
	// Only the form POST the SDK sends is modelled; STS also takes GET with
	// the query in the URL, which nothing here uses, so it is refused.
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.writeError(w, &apiError{http.StatusBadRequest, "InvalidAction", "only form-encoded POST requests are modelled"})
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.writeError(w, &apiError{http.StatusNotFound, "MalformedQueryString", err.Error()})
		return
	}
	id, region, aerr := s.authenticate(r, body)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	action := form.Get("Action")
	switch {
	case action == "":
		s.writeError(w, &apiError{http.StatusBadRequest, "MissingAction", "Missing Action"})
		return
	case form.Get("Version") != APIVersion || action != "GetCallerIdentity":
		// STS answers an action it lacks, or a version it lacks, this way.
		s.writeError(w, &apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", action, form.Get("Version"))})
		return
	}
	for k := range form {
		if k != "Action" && k != "Version" {
			// GetCallerIdentity takes no parameters (API_GetCallerIdentity.html).
			s.writeError(w, &apiError{http.StatusBadRequest, "InvalidParameterValue", "GetCallerIdentity takes no parameter " + k})
			return
		}
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Action: action, AccessKeyID: id.AccessKeyID, Region: region})
	s.mu.Unlock()
	s.writeXML(w, http.StatusOK, getCallerIdentityResponse{Xmlns: namespace,
		Result:    callerIdentity{Arn: id.ARN, UserID: id.UserID, Account: id.Account},
		RequestID: s.requestID()})
}

// authenticate checks the SigV4 Authorization header and returns the
// identity and the region it was signed for.
func (s *Server) authenticate(r *http.Request, body []byte) (Identity, string, *apiError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return Identity{}, "", errMissingToken
	}
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return Identity{}, "", incomplete("Authorization header requires the AWS4-HMAC-SHA256 algorithm")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if fields[k] == "" {
			return Identity{}, "", incomplete("Authorization header requires '%s' parameter", k)
		}
	}
	// Credential=<key>/<yyyymmdd>/<region>/<service>/aws4_request
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return Identity{}, "", incomplete("Credential %q is not <key>/<date>/<region>/<service>/aws4_request", fields["Credential"])
	}
	key, region, service := scope[0], scope[2], scope[3]
	if service != "sts" {
		return Identity{}, "", &apiError{http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'."}
	}
	id, known := s.identities[key]
	if !known || r.Header.Get("X-Amz-Security-Token") != id.SessionToken {
		return Identity{}, "", errBadToken
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || when.Format("20060102") != scope[1] {
		return Identity{}, "", incomplete("X-Amz-Date %q does not match the credential scope date %s", r.Header.Get("X-Amz-Date"), scope[1])
	}
	if want, err := resign(r, body, strings.Split(fields["SignedHeaders"], ";"), id, region, when); err != nil || want != fields["Signature"] {
		return Identity{}, "", errSignature
	}
	if id.Expired {
		return Identity{}, "", errExpired
	}
	return id, region, nil
}

// resign signs a copy of r holding only its signed headers with id's secret
// and returns the signature AWS would expect.
func resign(r *http.Request, body []byte, signed []string, id Identity, region string, when time.Time) (string, error) {
	req, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.ContentLength = r.ContentLength
	for _, h := range signed {
		if h == "host" || h == "content-length" {
			continue // from r.Host and r.ContentLength
		}
		req.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: id.AccessKeyID, SecretAccessKey: id.SecretAccessKey, SessionToken: id.SessionToken}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, req, hex.EncodeToString(sum[:]), "sts", region, when); err != nil {
		return "", err
	}
	_, sig, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	return sig, nil
}

func (s *Server) requestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", s.seq)
}

type callerIdentity struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

type getCallerIdentityResponse struct {
	XMLName   xml.Name       `xml:"GetCallerIdentityResponse"`
	Xmlns     string         `xml:"xmlns,attr"`
	Result    callerIdentity `xml:"GetCallerIdentityResult"`
	RequestID string         `xml:"ResponseMetadata>RequestId"`
}

// errorResponse is the Query-protocol error document
// (<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>),
// which the SDK reads with smithy-go transport/http/protocol/internal/xml
// GetProtocolErrorInfo.
type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	kind := "Sender"
	if e.status >= 500 {
		kind = "Receiver"
	}
	s.writeXML(w, e.status, errorResponse{Xmlns: namespace, Type: kind, Code: e.code, Message: e.message, RequestID: s.requestID()})
}

func (s *Server) writeXML(w http.ResponseWriter, status int, body any) {
	out, err := xml.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), out...))
}
