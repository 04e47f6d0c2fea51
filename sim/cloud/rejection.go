package cloud

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Rejection is the payload AWS publishes on a .../rejected topic. It is also
// the error the Go API returns for a refused operation.
type Rejection struct {
	StatusCode   int    `json:"statusCode"`
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// Error implements error.
func (r *Rejection) Error() string {
	return fmt.Sprintf("cloud: rejected %d %s: %s", r.StatusCode, r.ErrorCode, r.ErrorMessage)
}

// JSON renders the payload as AWS sends it.
func (r *Rejection) JSON() []byte {
	b, _ := json.Marshal(r)
	return b
}

// Error codes this cloud puts in rejections.
const (
	CodeInvalidToken      = "InvalidCertificateOwnershipToken"
	CodeNotFound          = "ResourceNotFoundException"
	CodeInvalidRequest    = "InvalidRequestException"
	CodeInvalidParameter  = "InvalidParameterException"
	CodeAccessDenied      = "AccessDenied"
	CodeThrottling        = "ThrottlingException"
	CodeInternalFailure   = "InternalFailure"
	CodeConflict          = "ResourceAlreadyExistsException"
	CodeInvalidPayload    = "InvalidPayload"
	CodeUnsupportedFormat = "UnsupportedFormat"
)

func reject(status int, code, format string, args ...any) *Rejection {
	return &Rejection{StatusCode: status, ErrorCode: code, ErrorMessage: fmt.Sprintf(format, args...)}
}

func throttled() *Rejection {
	return reject(http.StatusTooManyRequests, CodeThrottling, "Rate exceeded")
}
