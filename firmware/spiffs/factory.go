package spiffs

// The file layout of fleetline's factory data on SPIFFS, for firmware that
// reads its claim credentials from files. The names are longer than the 31
// characters ESP-IDF's default CONFIG_SPIFFS_OBJ_NAME_LEN of 32 holds, so
// such firmware must be built with CONFIG_SPIFFS_OBJ_NAME_LEN of at least
// 40 (and images made with the same ObjNameLen).
const (
	ProvisioningDir  = "/provisioning"
	ClaimCertFile    = ProvisioningDir + "/claim_certificate.pem"
	ClaimKeyFile     = ProvisioningDir + "/claim_private_key.pem"
	TemplateFile     = ProvisioningDir + "/provisioning_template.txt"
	SerialNumberFile = ProvisioningDir + "/serial_number.txt"
	EndpointFile     = ProvisioningDir + "/iot_endpoint.txt"
	// FactoryObjNameLen is the smallest object-name length that holds every
	// factory file name (the longest is 39 bytes, plus the NUL).
	FactoryObjNameLen = 40
)

// FactoryFiles lays out the factory data as files: the claim certificate
// and key (PEM, as given), the template name and the SN (text, no
// newline), and the endpoint when there is one.
func FactoryFiles(claimCertPEM, claimKeyPEM []byte, template, sn, endpoint string) []File {
	files := []File{
		{Name: ClaimCertFile, Data: claimCertPEM},
		{Name: ClaimKeyFile, Data: claimKeyPEM},
		{Name: TemplateFile, Data: []byte(template)},
		{Name: SerialNumberFile, Data: []byte(sn)},
	}
	if endpoint != "" {
		files = append(files, File{Name: EndpointFile, Data: []byte(endpoint)})
	}
	return files
}
