package cloud

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// ParamCertificateID is the built-in parameter AWS fills with the new
// certificate's ID.
const ParamCertificateID = "AWS::IoT::Certificate::Id"

// Template is a fleet-provisioning template, reduced to what a factory line
// exercises: its parameters, the thing it creates and the thing's attributes.
type Template struct {
	Name   string // 1–36 characters of [0-9A-Za-z_-]
	Active bool   // an inactive template rejects RegisterThing
	// Parameters the device must send in RegisterThing, e.g. "SerialNumber".
	// ParamCertificateID is always available and need not be listed.
	Parameters []string
	// ThingNamePattern builds the thing name from parameters: "{SerialNumber}"
	// or "fl-{SerialNumber}" (AWS writes these as Ref and Fn::Join).
	ThingNamePattern string
	// Attributes maps attribute names to patterns over parameters, e.g.
	// {"mac": "{MAC}", "claim_serial": "{ClaimCertificateSerial}"}. A
	// pattern naming a parameter the device did not send yields "".
	Attributes map[string]string
	// DeviceConfiguration is returned to the device in RegisterThing's reply.
	DeviceConfiguration map[string]string
}

var (
	templateName = regexp.MustCompile(`^[0-9A-Za-z_-]{1,36}$`)
	placeholder  = regexp.MustCompile(`\{([^{}]+)\}`)
)

// validate checks the template's shape before it is stored.
func (t Template) validate() error {
	if !templateName.MatchString(t.Name) {
		return fmt.Errorf("cloud: template name %q: want 1-36 characters of [0-9A-Za-z_-]", t.Name)
	}
	if t.ThingNamePattern == "" {
		return fmt.Errorf("cloud: template %s: no thing-name pattern", t.Name)
	}
	declared := map[string]bool{ParamCertificateID: true}
	for _, p := range t.Parameters {
		declared[p] = true
	}
	for _, m := range placeholder.FindAllStringSubmatch(t.ThingNamePattern, -1) {
		if !declared[m[1]] {
			return fmt.Errorf("cloud: template %s: thing name uses undeclared parameter %s", t.Name, m[1])
		}
	}
	return nil
}

// missing returns the declared parameters absent from params, sorted.
func (t Template) missing(params map[string]string) []string {
	var out []string
	for _, p := range t.Parameters {
		if params[p] == "" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// expand fills a pattern's {Name} placeholders from params.
func expand(pattern string, params map[string]string) string {
	return placeholder.ReplaceAllStringFunc(pattern, func(m string) string {
		return params[strings.Trim(m, "{}")]
	})
}

// thingName is the name RegisterThing creates.
func (t Template) thingName(params map[string]string) string {
	return expand(t.ThingNamePattern, params)
}

// attributes renders the thing's attributes.
func (t Template) attributes(params map[string]string) map[string]string {
	out := make(map[string]string, len(t.Attributes))
	for k, pat := range t.Attributes {
		out[k] = expand(pat, params)
	}
	return out
}
