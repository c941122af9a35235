package v3

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/beevik/etree"
)

// Reader walks a parsed v3 document and remembers the first problem it meets,
// so mapping code can read a message top-down and check Err once at the end.
// A Reader is not safe for concurrent use.
type Reader struct {
	interaction string
	err         *Error
}

// Node is one element reached through a Reader, with its element path. The
// zero Node stands for an element that is absent; reading from it yields
// empty values (and, for required reads, the error was already recorded).
type Node struct {
	El   *etree.Element
	Path string
	r    *Reader
}

// Parse reads a v3 document from bytes and returns a Reader and the root Node.
// The root element's local name becomes the Reader's interaction name.
func Parse(data []byte) (*Reader, Node, error) {
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = false
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, Node{}, &Error{Path: "/", Msg: fmt.Sprintf("not well-formed XML: %v", err)}
	}
	root := doc.Root()
	if root == nil {
		return nil, Node{}, &Error{Path: "/", Msg: "no root element"}
	}
	if ns := root.NamespaceURI(); ns != Namespace {
		return nil, Node{}, &Error{Interaction: root.Tag, Path: "/" + root.Tag, Msg: fmt.Sprintf("namespace %q, want %q", ns, Namespace)}
	}
	r := &Reader{interaction: root.Tag}
	return r, Node{El: root, Path: "/" + root.Tag, r: r}, nil
}

// NewReader returns a Reader for an element already parsed elsewhere (for
// example a payload inside a larger document), with its path starting at
// the element's own tag.
func NewReader(interaction string, el *etree.Element) (*Reader, Node) {
	r := &Reader{interaction: interaction}
	return r, Node{El: el, Path: "/" + el.Tag, r: r}
}

// Err returns the first problem met, or nil.
func (r *Reader) Err() error {
	if r.err == nil {
		return nil
	}
	return r.err
}

// Interaction returns the interaction name the Reader reports errors under.
func (r *Reader) Interaction() string { return r.interaction }

// Fail records a problem at a path unless one is already recorded.
func (r *Reader) Fail(path, format string, args ...any) {
	if r.err == nil {
		r.err = &Error{Interaction: r.interaction, Path: path, Msg: fmt.Sprintf(format, args...)}
	}
}

// Exists reports whether the node stands for a present element.
func (n Node) Exists() bool { return n.El != nil }

// Fail records a problem at this node's path.
func (n Node) Fail(format string, args ...any) {
	if n.r != nil {
		n.r.Fail(n.Path, format, args...)
	}
}

// Child returns the first child element with the given local name; a missing
// one is recorded as an error.
func (n Node) Child(tag string) Node {
	c := n.Opt(tag)
	if !c.Exists() && n.Exists() {
		n.r.Fail(n.Path+"/"+tag, "missing mandatory element")
	}
	return c
}

// Opt returns the first child element with the given local name, or the
// zero-element Node (Exists false) when there is none.
func (n Node) Opt(tag string) Node {
	if n.El == nil {
		return Node{r: n.r, Path: n.Path + "/" + tag}
	}
	for _, c := range n.El.ChildElements() {
		if c.Tag == tag {
			return Node{El: c, Path: n.Path + "/" + tag, r: n.r}
		}
	}
	return Node{r: n.r, Path: n.Path + "/" + tag}
}

// All returns every child element with the given local name, in document order.
// Paths carry a 1-based index when there is more than one.
func (n Node) All(tag string) []Node {
	if n.El == nil {
		return nil
	}
	var out []Node
	for _, c := range n.El.ChildElements() {
		if c.Tag == tag {
			out = append(out, Node{El: c, r: n.r})
		}
	}
	for i := range out {
		if len(out) == 1 {
			out[i].Path = n.Path + "/" + tag
		} else {
			out[i].Path = n.Path + "/" + tag + "[" + strconv.Itoa(i+1) + "]"
		}
	}
	return out
}

// Elements returns every child element in document order.
func (n Node) Elements() []Node {
	if n.El == nil {
		return nil
	}
	kids := n.El.ChildElements()
	out := make([]Node, len(kids))
	for i, c := range kids {
		out[i] = Node{El: c, Path: n.Path + "/" + c.Tag, r: n.r}
	}
	return out
}

// Attr returns a mandatory attribute's value; a missing one is an error.
func (n Node) Attr(name string) string {
	if n.El == nil {
		return ""
	}
	a := n.El.SelectAttr(name)
	if a == nil {
		n.r.Fail(n.Path+"/@"+name, "missing mandatory attribute")
		return ""
	}
	return a.Value
}

// OptAttr returns an attribute's value, or "" when absent.
func (n Node) OptAttr(name string) string {
	if n.El == nil {
		return ""
	}
	return n.El.SelectAttrValue(name, "")
}

// HasAttr reports whether the attribute is present.
func (n Node) HasAttr(name string) bool {
	return n.El != nil && n.El.SelectAttr(name) != nil
}

// Text returns the element's character data.
func (n Node) Text() string {
	if n.El == nil {
		return ""
	}
	return n.El.Text()
}

// Value returns the mandatory @value attribute.
func (n Node) Value() string { return n.Attr("value") }

// XML serialises the element (and its subtree) as it stands.
func (n Node) XML() []byte {
	if n.El == nil {
		return nil
	}
	doc := etree.NewDocument()
	doc.SetRoot(n.El.Copy())
	var buf bytes.Buffer
	doc.WriteSettings.CanonicalEndTags = false
	_, _ = doc.WriteTo(&buf)
	return buf.Bytes()
}
