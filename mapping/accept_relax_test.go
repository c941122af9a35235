package mapping

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestRelaxV3 checks what RelaxV3 sets aside and what it leaves: coded-value
// extras go, an acknowledgement's severity qualifier and a PQ's dm+d
// translation stay, and a ParentPrescription is left whole.
func TestRelaxV3(t *testing.T) {
	tests := []struct {
		name, in, want string
		changed        bool
	}{
		{"plain", `<r><code code="1" codeSystem="2.1"/></r>`, `<r><code code="1" codeSystem="2.1"/></r>`, false},
		{"coded extras", `<r><code code="1" codeSystem="2.1"><originalText>t</originalText><qualifier><name code="n"/><value code="v"/></qualifier><translation code="x" codeSystem="9"/></code></r>`,
			`<r><code code="1" codeSystem="2.1"/></r>`, true},
		{"severity qualifier stays", `<r><code code="1" codeSystem="2.1"><qualifier code="ER"/><originalText>t</originalText></code></r>`,
			`<r><code code="1" codeSystem="2.1"><qualifier code="ER"/></code></r>`, true},
		{"quantity keeps dm+d", `<r><quantity value="2" unit="1"><translation value="2" code="{x}" codeSystem="2.16.840.1.113883.6.8"/><translation value="2" code="428673006" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"><originalText>tab</originalText></translation></quantity></r>`,
			`<r><quantity value="2" unit="1"><translation value="2" code="428673006" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"/></quantity></r>`, true},
		{"quantity without dm+d", `<r><value value="100" unit="1"><translation value="100" code="{x}" codeSystem="2.16.840.1.113883.6.8"/></value></r>`,
			`<r><value value="100" unit="1"/></r>`, true},
		{"prescription whole", `<r><ParentPrescription><code code="1" codeSystem="2.1"><originalText>t</originalText></code></ParentPrescription></r>`,
			`<r><ParentPrescription><code code="1" codeSystem="2.1"><originalText>t</originalText></code></ParentPrescription></r>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := v3.ReadXML([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if changed := core.RelaxV3(doc.Root()); changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
			want, _ := v3.ReadXML([]byte(tt.want))
			if d := v3.CompareElements(want.Root(), doc.Root(), v3.Rules{}); d != nil {
				t.Errorf("relaxed: %s", d)
			}
		})
	}
}
