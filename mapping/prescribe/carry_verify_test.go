package prescribe

import (
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestWritesBackAlikeAgreesWithComparison holds writesBackAlike, which
// checks the ParentPrescription as it is written back instead of building
// it, to the comparison of the tree written back (writtenBackAlike): for
// each corpus Send message, each signed variant and each of them changed
// in the ways below, writtenAlike must come only where the tree
// regenerateParentPrescription builds is alike, and notWritten exactly
// where it builds none. Each corpus Send message as it is must be told
// alike without the tree (the way PrescribeToFHIR takes).
func TestWritesBackAlikeAgreesWithComparison(t *testing.T) {
	lineItem := func(pp *etree.Element) *etree.Element {
		return v3.FindPath(pp, "pertinentInformation1", "pertinentPrescription", "pertinentInformation2", "pertinentLineItem")
	}
	changes := []struct {
		name string
		// alike: the change leaves the original alike by the Verifier's
		// rules (false: it must not be told alike).
		alike bool
		apply func(pp *etree.Element) bool // false: the change cannot be made
	}{
		{"as read", true, func(*etree.Element) bool { return true }},
		{"child elements of signatureText changed", true, func(pp *etree.Element) bool {
			st := signatureText(pp)
			if st == nil {
				return false
			}
			st.CreateElement("extra")
			return true
		}},
		{"text changed in a line item", false, func(pp *etree.Element) bool {
			c := firstText(lineItem(pp))
			if c == nil {
				return false
			}
			c.Data += "x"
			return true
		}},
		{"text in CDATA", false, func(pp *etree.Element) bool {
			c := firstText(lineItem(pp))
			if c == nil {
				return false
			}
			p, i := c.Parent(), c.Index()
			p.RemoveChildAt(i)
			p.InsertChildAt(i, etree.NewCData(c.Data))
			return true
		}},
		{"comment in the patient", false, func(pp *etree.Element) bool {
			pp.SelectElement("recordTarget").CreateComment("note")
			return true
		}},
		{"processing instruction in a line item", false, func(pp *etree.Element) bool {
			li := lineItem(pp)
			if li == nil {
				return false
			}
			li.CreateProcInst("x", "y")
			return true
		}},
		{"text beside the child elements", false, func(pp *etree.Element) bool {
			pp.CreateText("x")
			return true
		}},
		{"attribute added", false, func(pp *etree.Element) bool {
			pp.SelectElement("effectiveTime").CreateAttr("nullFlavor", "NA")
			return true
		}},
		{"attribute changed", false, func(pp *etree.Element) bool {
			pp.SelectElement("effectiveTime").CreateAttr("value", "20000101")
			return true
		}},
		{"attribute dropped", false, func(pp *etree.Element) bool {
			return pp.SelectElement("code").RemoveAttr("displayName") != nil
		}},
		{"attributes reversed", false, func(pp *etree.Element) bool {
			code := pp.SelectElement("code")
			if len(code.Attr) < 3 {
				return false
			}
			for i, j := 0, len(code.Attr)-1; i < j; i, j = i+1, j-1 {
				code.Attr[i], code.Attr[j] = code.Attr[j], code.Attr[i]
			}
			return true
		}},
		{"namespace declared on a child", false, func(pp *etree.Element) bool {
			pp.SelectElement("recordTarget").CreateAttr("xmlns", v3.Namespace)
			return true
		}},
		{"prefixed attribute in a line item", false, func(pp *etree.Element) bool {
			li := lineItem(pp)
			if li == nil {
				return false
			}
			li.CreateAttr("xsi:type", "PORX_MT000000UK00.LineItem")
			return true
		}},
		{"prefixed element", false, func(pp *etree.Element) bool {
			pp.SelectElement("recordTarget").Space = "hl7"
			return true
		}},
		{"element dropped", false, func(pp *etree.Element) bool {
			return pp.RemoveChild(pp.SelectElement("effectiveTime")) != nil
		}},
		{"element added at the end", false, func(pp *etree.Element) bool {
			pp.CreateElement("extra")
			return true
		}},
		{"element duplicated in a line item", false, func(pp *etree.Element) bool {
			li := lineItem(pp)
			if li == nil || li.SelectElement("id") == nil {
				return false
			}
			id := li.SelectElement("id")
			li.InsertChildAt(id.Index(), id.Copy())
			return true
		}},
		{"children swapped", false, func(pp *etree.Element) bool {
			kids := pp.ChildElements()
			pp.RemoveChild(kids[0])
			pp.InsertChildAt(kids[1].Index()+1, kids[0])
			return true
		}},
		{"element renamed", false, func(pp *etree.Element) bool {
			pp.SelectElement("typeId").Tag = "typeID"
			return true
		}},
		{"signed part missing", false, func(pp *etree.Element) bool {
			if !IsSigned(pp) {
				return false
			}
			author := v3.FindPath(pp, "pertinentInformation1", "pertinentPrescription", "author")
			return author.RemoveChild(author.SelectElement("time")) != nil
		}},
	}
	msgs := scratchMessages(t)
	sends := 0
	if corpustest.Present() {
		_, corpus := sendPairs(t)
		sends = len(corpus)
	}
	told := 0
	for k, m := range msgs {
		_, root, _, err := core.OpenV3(m, benchEnv(), "Parent Prescription", v3.ParentPrescription, v3.ParentPrescriptionNonUrgent)
		if err != nil {
			continue // the refused message
		}
		_, subject := v3.ReadWrapper(root)
		read := subject.Child("ParentPrescription")
		b := ReadParentPrescription(read, m, benchEnv())
		for _, c := range changes {
			pp := read.El.Copy()
			if !c.apply(pp) {
				continue
			}
			signed := IsSigned(pp)
			for _, sp := range []*v3.Space{nil, v3.NewScratch().Get()} {
				got := writesBackAlike(pp, signed, b, benchEnv(), sp)
				regen := regenerateParentPrescription(b, benchEnv(), nil)
				switch {
				case (got == notWritten) != (regen == nil):
					t.Errorf("message %d, %s: writesBackAlike %d, written back: %t", k, c.name, got, regen != nil)
				case got == writtenAlike && !writtenBackAlike(pp, regen, signed):
					t.Errorf("message %d, %s: told alike, the comparison differs", k, c.name)
				case got == writtenAlike && !c.alike:
					t.Errorf("message %d, %s: told alike", k, c.name)
				case got != writtenAlike && c.alike && k < sends:
					t.Errorf("corpus Send message %d, %s: not told alike without the tree", k, c.name)
				}
				if got == writtenAlike {
					told++
				}
			}
		}
	}
	if told == 0 {
		t.Fatal("no message was told alike")
	}
}

// firstText returns the first text under e (in document order) that is
// not flagged as white space, or nil (nil for a nil e).
func firstText(e *etree.Element) *etree.CharData {
	var found *etree.CharData
	var walk func(*etree.Element)
	walk = func(e *etree.Element) {
		for _, tok := range e.Child {
			if found != nil {
				return
			}
			switch c := tok.(type) {
			case *etree.CharData:
				if !c.IsWhitespace() {
					found = c
				}
			case *etree.Element:
				walk(c)
			}
		}
	}
	if e != nil {
		walk(e)
	}
	return found
}
