package compare

import (
	"strings"
	"testing"
)

// TestCompareNamespaces: namespace prefixes are not compared, namespaces
// are (the root's, and any element's that is not its parent's). An answer whose elements or attributes are in another namespace
// (or none) than the other's, under the same local names, matched it: a
// receiver reading HL7 v3 by namespace (a schema, XPath over urn:hl7-org:v3)
// does not find them, or reads an xsi:type that is not one.
func TestCompareNamespaces(t *testing.T) {
	base := ack("11111111-0000-4000-8000-000000000001", "20260301101502", "AE", "0004", "With another dispenser")
	const xsi = `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`
	typed := strings.Replace(base, `<hl7:quantity value="28"/>`, `<hl7:quantity xsi:type="PQ" value="28"/>`, 1)
	typed = strings.Replace(typed, `xmlns:hl7="urn:hl7-org:v3"`, `xmlns:hl7="urn:hl7-org:v3" `+xsi, 1)
	runDiffCases(t, base, []diffCase{
		{"the HL7 namespace as the default one", strings.NewReplacer("hl7:", "", `xmlns:hl7=`, `xmlns=`).Replace(base), nil},
		{"the HL7 namespace under another prefix", strings.NewReplacer("hl7:", "v3:", `xmlns:hl7=`, `xmlns:v3=`).Replace(base), nil},
		{"the elements below the root in no namespace", strings.NewReplacer("<MCCI", "<hl7:MCCI", "</MCCI", "</hl7:MCCI").Replace(
			strings.ReplaceAll(base, "hl7:", "")),
			[]string{"/MCCI_IN010000UK13/acknowledgement@(namespace): only b has (none)"}},
		{"one element in another namespace", strings.Replace(base, `<hl7:quantity value="28"/>`, `<q:quantity xmlns:q="urn:other" value="28"/>`, 1),
			[]string{"item/quantity@(namespace): only b has urn:other"}},
		{"the whole answer in no namespace", strings.NewReplacer("hl7:", "", ` xmlns:hl7="urn:hl7-org:v3"`, "").Replace(base),
			[]string{"/MCCI_IN010000UK13@(namespace): a has urn:hl7-org:v3, b has (none)"}},
	})
	runDiffCases(t, typed, []diffCase{
		{"xsi under another prefix", strings.NewReplacer("xsi:type", "s:type", `xmlns:xsi=`, `xmlns:s=`).Replace(typed), nil},
		{"a type attribute of no namespace for xsi:type", strings.Replace(typed, "xsi:type", "type", 1),
			[]string{"item/quantity@type: only b has PQ", "item/quantity@xsi:type: only a has PQ"}},
	})
}
