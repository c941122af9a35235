package core

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// ExpectModel is ExpectChildren with the model's repetition: each name in
// model is a child element the MIM allows at most once (0..1 or 1..1), a
// name ending in "*" one it allows many times (0..* or 1..*). A child not in
// the model, or a second occurrence of a once-only child, is recorded on n's
// Reader (the second at its indexed path, e.g. …/replacementOf[2]), so that
// a reader taking the first of an element never drops a repeated one unsaid:
// the XML schema, and Spine with it, refuses such a message. One pass over
// the children; nothing is allocated unless there is a problem.
func ExpectModel(n v3.Node, model ...string) {
	if !n.Exists() {
		return
	}
	var small [16]uint8
	seen := small[:0]
	if len(model) <= len(small) {
		seen = small[:len(model)]
	} else {
		seen = make([]uint8, len(model))
	}
	for _, t := range n.El.Child {
		c, ok := t.(*etree.Element)
		if !ok {
			continue
		}
		i := modelIndex(model, c.Tag)
		if i < 0 {
			n.Opt(c.Tag).Fail("unexpected element")
			return
		}
		if seen[i] < 2 {
			seen[i]++
		}
	}
	for i, m := range model {
		if seen[i] > 1 && !strings.HasSuffix(m, "*") && n.Reader() != nil {
			n.Reader().FailRule(n.All(m)[1].Path(), v3.RuleCardinality, v3.MsgRepeated)
		}
	}
}

// modelIndex returns the index of tag's entry in an ExpectModel model, or -1.
func modelIndex(model []string, tag string) int {
	for i, m := range model {
		if strings.TrimSuffix(m, "*") == tag {
			return i
		}
	}
	return -1
}

// Once describes the elements under a v3 element that the MIM allows at
// most once (Tags), and, by child tag, the Once of each child element (Kids;
// every occurrence of a repeating child is checked alike). It names no
// element as unexpected: it suits the readers that carry what they do not
// map (a ParentPrescription), where ExpectModel's refusal of unknown
// elements would refuse what Spine takes. Neither Tags nor Kids may change
// once the Once has been checked.
type Once struct {
	Tags []string
	Kids map[string]*Once

	// table is Tags and Kids as CheckOnce looks a child's tag up, made
	// the first time the Once is checked (see lookup): neither may change
	// after that.
	table onceTable
}

// CheckOnce records on n's Reader, with the cardinality rule, the second
// occurrence of every element spec allows once, under n and the children
// spec describes (at its indexed path, e.g. …/recordTarget[2]): the MIM's
// schema, and Spine with it, refuses such a message, where a reader taking
// the first would act on one of two values and drop the other unsaid. One
// pass over the elements spec describes; paths are made only for a problem.
func CheckOnce(n v3.Node, spec *Once) {
	if !n.Exists() || n.Reader() == nil || spec == nil {
		return
	}
	var depth [16]*etree.Element
	w := onceWalk{r: n.Reader(), root: n, stack: append(depth[:0], n.El)}
	w.check(n.El, spec)
}

// onceWalk is CheckOnce's walk: the elements from the root to the one
// being checked, whose path is made only for a problem.
type onceWalk struct {
	r     *v3.Reader
	root  v3.Node
	stack []*etree.Element
}

// path returns the element path of the top of the stack.
func (w *onceWalk) path() string {
	p := w.root.Path()
	for i := 1; i < len(w.stack); i++ {
		p += "/" + siblingStep(w.stack[i-1], w.stack[i])
	}
	return p
}

// check is CheckOnce on el, the top of the stack.
func (w *onceWalk) check(el *etree.Element, spec *Once) {
	tab := spec.lookup()
	var small [24]uint8
	seen := small[:0]
	if len(spec.Tags) <= len(small) {
		seen = small[:len(spec.Tags)]
	} else {
		seen = make([]uint8, len(spec.Tags))
	}
	for _, t := range el.Child {
		c, ok := t.(*etree.Element)
		if !ok {
			continue
		}
		e := tab.find(c.Tag)
		if e == nil {
			continue
		}
		if i := e.once; i >= 0 {
			if seen[i] < 2 {
				seen[i]++
			}
			if seen[i] == 2 {
				seen[i] = 3 // one report per tag
				w.r.FailRule(w.path()+"/"+c.Tag+"[2]", v3.RuleCardinality, v3.MsgRepeated)
			}
		}
		// A child without child elements has nothing for a kid's spec to
		// check.
		if e.kid != nil && hasChildElement(c) {
			w.stack = append(w.stack, c)
			w.check(c, e.kid)
			w.stack = w.stack[:len(w.stack)-1]
		}
	}
}

// hasChildElement reports whether el has a child element.
func hasChildElement(el *etree.Element) bool {
	for _, t := range el.Child {
		if _, ok := t.(*etree.Element); ok {
			return true
		}
	}
	return false
}

// siblingStep is c's step in an element path under its parent el: its tag,
// with its 1-based index among the siblings of its tag when there are more
// than one (as v3.Node.All writes it).
func siblingStep(el, c *etree.Element) string {
	n, at := 0, 0
	for _, t := range el.Child {
		if s, ok := t.(*etree.Element); ok && s.Tag == c.Tag {
			n++
			if s == c {
				at = n
			}
		}
	}
	if n < 2 {
		return c.Tag
	}
	return c.Tag + "[" + strconv.Itoa(at) + "]"
}
