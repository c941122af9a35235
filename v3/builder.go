package v3

import "github.com/beevik/etree"

// Add appends a child element to parent with attributes given as name,
// value pairs (in the order given, which is the order they are written).
func Add(parent *etree.Element, tag string, attrs ...string) *etree.Element {
	el := parent.CreateElement(tag)
	for i := 0; i+1 < len(attrs); i += 2 {
		el.CreateAttr(attrs[i], attrs[i+1])
	}
	return el
}

// AddText appends a child element holding text.
func AddText(parent *etree.Element, tag, text string) *etree.Element {
	el := parent.CreateElement(tag)
	el.SetText(text)
	return el
}

// AddII appends an instance identifier <tag root=".." extension=".."/>;
// the extension is left out when empty.
func AddII(parent *etree.Element, tag, root, extension string) *etree.Element {
	if extension == "" {
		return Add(parent, tag, "root", root)
	}
	return Add(parent, tag, "root", root, "extension", extension)
}

// AddCV appends a coded value <tag code=".." codeSystem=".." displayName=".."/>;
// displayName is left out when empty.
func AddCV(parent *etree.Element, tag, code, system, display string) *etree.Element {
	if display == "" {
		return Add(parent, tag, "code", code, "codeSystem", system)
	}
	return Add(parent, tag, "code", code, "codeSystem", system, "displayName", display)
}

// AddValue appends <tag value=".."/>, the shape of TS, BL and INT values.
func AddValue(parent *etree.Element, tag, value string) *etree.Element {
	return Add(parent, tag, "value", value)
}

// NewDocument returns a document whose root element is in the v3 namespace,
// preceded by the XML declaration Spine writes.
func NewDocument(rootTag string) (*etree.Document, *etree.Element) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement(rootTag)
	root.CreateAttr("xmlns", Namespace)
	return doc, root
}

// Bytes serialises a document with two-space indentation.
func Bytes(doc *etree.Document) []byte {
	doc.Indent(2)
	b, _ := doc.WriteToBytes()
	return b
}
