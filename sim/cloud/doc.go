// Package cloud is a local stand-in for AWS IoT fleet provisioning by claim,
// for virtual boards and for a firmware developer's real board on the same
// network.
//
// It holds one CA (RootCAPEM) that signs the MQTT server certificate, the
// claim certificates CreateClaim issues and the device certificates the
// fleet-provisioning operations issue, so a board needs one trust anchor,
// as it needs the Amazon Root CA for the real endpoint. Device certificates
// look like AWS's: ECDSA P-256 or the CSR's key, random serials, valid until
// 2049-12-31T23:59:59Z, the CSR's subject (CreateCertificateFromCsr) or
// "CN=AWS IoT Certificate" (CreateKeysAndCertificate); a certificate's ID
// is the hex SHA-256 of its DER.
//
// Transport is MQTT 3.1.1 over TLS with client-certificate authentication,
// served by a small broker in this package that knows only the
// fleet-provisioning topics (json format):
//
//	$aws/certificates/create-from-csr/json              CreateCertificateFromCsr
//	$aws/certificates/create/json                       CreateKeysAndCertificate
//	$aws/provisioning-templates/<name>/provision/json   RegisterThing
//
// each answered on <topic>/accepted or <topic>/rejected, the rejected payload
// being AWS's {"statusCode","errorCode","errorMessage"} triple (Rejection).
//
// Where each failure shows, and why:
//
//   - An expired or not-yet-valid claim certificate fails the TLS handshake
//     (the server checks client certificates against the cloud's clock and
//     sends a certificate_expired alert), as AWS IoT refuses the connection.
//   - A board whose own clock is wrong fails verifying the server's
//     certificate ("certificate has expired or is not yet valid"); nothing
//     reaches the cloud.
//   - A certificate signed by the CA but never registered as a claim or
//     issued as a device certificate is refused at CONNECT (return code 5,
//     not authorized).
//   - A claim client publishing or subscribing outside the provisioning
//     topics is disconnected (publish) or refused (SUBACK 0x80), as AWS
//     enforces the claim policy.
//   - Everything else is a rejected reply: template missing (404
//     ResourceNotFoundException) or inactive (400 InvalidRequestException),
//     claim not registered for the template or pre-provisioning check denied
//     (403 AccessDenied), throttled (429 ThrottlingException), bad, used or
//     expired ownership token (400 InvalidCertificateOwnershipToken),
//     missing parameters or bad CSR (400 InvalidParameterException).
//
// SetClientFault gives one client (by MQTT client ID; the factory firmware
// uses its SN) one of these failures while its neighbours provision
// normally. Events records every connection and operation, never keys.
//
// The ownership token expires an hour after it is issued; a certificate
// still PENDING_ACTIVATION when its token expires is deleted. The cloud's
// time comes from Config.Clock, so tests move it.
package cloud
