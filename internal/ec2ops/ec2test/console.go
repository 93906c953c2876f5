package ec2test

import (
	"encoding/base64"
	"encoding/xml"
	"net/url"
	"time"
)

// GetConsoleOutput as the EC2 API reference describes it
// (docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetConsoleOutput.html)
// and aws-sdk-go-v2 service/ec2 v1.344.2 sends and reads it
// (serializers.go awsEc2query_serializeOpDocumentGetConsoleOutputInput:
// DryRun, InstanceId, Latest; deserializers.go
// awsEc2query_deserializeOpDocumentGetConsoleOutputOutput: instanceId,
// output, timestamp):
//   - output is the console text, base64-encoded ("The console output,
//     base64-encoded", api_op_GetConsoleOutput.go);
//   - "Only the most recent 64 KB of console output is available";
//   - without Latest the answer is "buffered information that was posted
//     shortly after an instance transition state", so it lags the console;
//     with Latest=true it is the console now, which "is supported on
//     instance types that use the Nitro hypervisor". What EC2 answers
//     Latest=true on a Xen type is not documented; the stand-in refuses it
//     with UnsupportedOperation (UNVERIFIED code; virt-s1/avocado-cloud
//     PR #8 falls back to Latest=false on any error, as ec2ops does);
//   - a fresh instance's console is empty: the answer then has no output.
func init() {
	params["GetConsoleOutput"] = patterns(`DryRun`, `InstanceId`, `Latest`)
}

// ConsoleLimit is how much of the console the API returns, its end.
const ConsoleLimit = 64 * 1024

type console struct {
	live, posted       string
	liveAt, postedAt   time.Time
	noLatest, buffered bool
}

type getConsoleOutputResponse struct {
	XMLName    xml.Name `xml:"GetConsoleOutputResponse"`
	Xmlns      string   `xml:"xmlns,attr"`
	RequestID  string   `xml:"requestId"`
	InstanceID string   `xml:"instanceId"`
	Timestamp  string   `xml:"timestamp,omitempty"`
	Output     string   `xml:"output,omitempty"`
}

func (s *Server) consoleOf(id string) *console {
	if s.consoles == nil {
		s.consoles = map[string]*console{}
	}
	c := s.consoles[id]
	if c == nil {
		c = &console{}
		s.consoles[id] = c
	}
	return c
}

// AppendConsole adds text to an instance's console, as the node writes it;
// with Latest=true it is seen at once. Unless the console is buffered
// (SetConsoleBuffered), it is also posted for calls without Latest.
func (s *Server) AppendConsole(id, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.consoleOf(id)
	c.live += text
	c.liveAt = s.now()
	if !c.buffered {
		c.posted, c.postedAt = c.live, c.liveAt
	}
}

// SetConsoleBuffered makes calls without Latest see the console only as of
// the last PostConsole, as EC2's buffered output.
func (s *Server) SetConsoleBuffered(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consoleOf(id).buffered = true
}

// PostConsole publishes the console to calls without Latest (EC2 posts it
// around state transitions).
func (s *Server) PostConsole(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.consoleOf(id)
	c.posted, c.postedAt = c.live, s.now()
}

// SetConsoleLatestUnsupported makes Latest=true fail for the instance, as
// on an instance type without the Nitro hypervisor.
func (s *Server) SetConsoleLatestUnsupported(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consoleOf(id).noLatest = true
}

func (s *Server) getConsoleOutput(form url.Values) (any, *apiError) {
	id := form.Get("InstanceId")
	if id == "" {
		return nil, badRequest("MissingParameter", "The request must contain the parameter InstanceId")
	}
	latest, err := boolParam(form, "Latest")
	if err != nil {
		return nil, err
	}
	if s.findInstance(id) == nil {
		return nil, badRequest("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	c := s.consoleOf(id)
	text, at := c.posted, c.postedAt
	if latest {
		if c.noLatest {
			return nil, badRequest("UnsupportedOperation", "The instance '%s' does not support retrieving the latest console output", id)
		}
		text, at = c.live, c.liveAt
	}
	if len(text) > ConsoleLimit {
		text = text[len(text)-ConsoleLimit:]
	}
	resp := getConsoleOutputResponse{Xmlns: namespace, RequestID: s.requestID(), InstanceID: id}
	if text != "" {
		resp.Output = base64.StdEncoding.EncodeToString([]byte(text))
		resp.Timestamp = timestamp(at)
	}
	return resp, nil
}
