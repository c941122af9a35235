package compare

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// uuidRe matches a UUID anywhere in a value.
var uuidRe = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// tsRe matches an HL7 TS with a time of day (YYYYMMDDHHMM[SS][.f][+zzzz]).
var tsRe = regexp.MustCompile(`^\d{12}(\d{2})?(\.\d+)?([+-]\d{4})?$`)

// ignoredAttrs are human-text attributes: wording is not compared (a
// coded value's originalText element is left out by skipped).
var ignoredAttrs = map[string]bool{"displayName": true, "originalText": true}

// Facts are a normalised answer: "path=value" facts, sorted.
type Facts []string

// Normalise turns a v3 answer into Facts following the package rules;
// request is the legacy request both answers answer (its UUIDs and
// timestamps are kept).
func Normalise(answer, request []byte) (Facts, error) {
	root, err := readRoot(answer)
	if err != nil {
		return nil, err
	}
	keep := requestValues(request)
	out := Facts{"interaction=" + root.Tag, rootNamespaceFact(root)}
	for _, c := range comparedChildren(root) {
		walkFacts(c, "/"+root.Tag+"/"+c.Tag, keep, false, &out)
	}
	sort.Strings(out)
	return out, nil
}

// readRoot reads an answer's root element.
func readRoot(answer []byte) (*etree.Element, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(answer); err != nil {
		return nil, fmt.Errorf("compare: answer is not XML: %w", err)
	}
	root := doc.Root()
	if root == nil {
		return nil, fmt.Errorf("compare: answer has no root element")
	}
	return root, nil
}

// namespaceAttr names the fact that says an element's namespace (its URI,
// not the prefix it is written with): the root's, and any other element's
// whose namespace is not its parent's. HL7 v3 is read by namespace
// (urn:hl7-org:v3): an element of the same local name in another
// namespace, or none, is not the element a receiver looks for.
const namespaceAttr = "@(namespace)"

// noNamespace stands for no namespace in a namespaceAttr fact.
const noNamespace = "(none)"

// namespaceValue is ns as a namespaceAttr fact's value.
func namespaceValue(ns string) string {
	if ns == "" {
		return noNamespace
	}
	return ns
}

// rootNamespaceFact is the namespaceAttr fact of the answer's root.
func rootNamespaceFact(root *etree.Element) string {
	return "/" + root.Tag + namespaceAttr + "=" + namespaceValue(root.NamespaceURI())
}

// xsiNS is the XML Schema instance namespace (xsi:type, xsi:schemaLocation).
const xsiNS = "http://www.w3.org/2001/XMLSchema-instance"

// attrName is a's name as compared: its local name when it has no prefix
// (an unprefixed attribute is in no namespace); with a prefix, its
// namespace's: "xsi:" for XML Schema instance's whatever the prefix, else
// "{URI}", or the prefix as written when it is not declared (xml:lang).
func attrName(a *etree.Attr) string {
	if a.Space == "" {
		return a.Key
	}
	switch ns := a.NamespaceURI(); ns {
	case xsiNS:
		return "xsi:" + a.Key
	case "":
		return a.Space + ":" + a.Key
	default:
		return "{" + ns + "}" + a.Key
	}
}

// comparedChildren are the root's children that are compared: all but the
// transmission wrapper's own id, creationTime and sending device.
func comparedChildren(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	for _, c := range root.ChildElements() {
		switch c.Tag {
		case "id", "creationTime", "communicationFunctionSnd":
			continue
		}
		out = append(out, c)
	}
	return out
}

// requestValues collects the UUIDs and timestamps of the request.
func requestValues(request []byte) map[string]bool {
	keep := map[string]bool{}
	for _, u := range uuidRe.FindAll(request, -1) {
		keep[strings.ToUpper(string(u))] = true
	}
	doc := etree.NewDocument()
	if doc.ReadFromBytes(request) == nil && doc.Root() != nil {
		var walk func(*etree.Element)
		walk = func(e *etree.Element) {
			for _, a := range e.Attr {
				if tsRe.MatchString(a.Value) {
					keep[a.Value] = true
				}
			}
			for _, c := range e.ChildElements() {
				walk(c)
			}
		}
		walk(doc.Root())
	}
	return keep
}

// walkFacts adds the facts of e (at path) and its children; data says e
// is inside a released prescription (isData).
func walkFacts(e *etree.Element, path string, keep map[string]bool, data bool, out *Facts) {
	if skipped(e, path) {
		return
	}
	data = data || isData(e)
	*out = append(*out, ownFacts(e, path, keep, data)...)
	for _, c := range e.ChildElements() {
		walkFacts(c, path+"/"+c.Tag, keep, data, out)
	}
}

// isData reports whether e holds a prescription as both environments keep
// it: a ParentPrescription inside an answer (a release response's). Its
// ids and times are the prescriber's (prescription, line item, author
// time), not the answering system's, though the request (a release
// request) does not carry them: they are compared as they are.
func isData(e *etree.Element) bool {
	return e.Tag == "ParentPrescription"
}

// skipped reports whether e (at path) is left out of the comparison: the
// ControlActEvent's author, the answering system; and a coded value's
// originalText, which in HL7 v3 is an element (not an attribute, as
// displayName is): its wording, not a code.
func skipped(e *etree.Element, path string) bool {
	return e.Tag == "originalText" ||
		e.Tag == "author" && strings.HasSuffix(path, "/ControlActEvent/author") ||
		e.Tag == "author1" && strings.HasSuffix(path, "/ControlActEvent/author1")
}

// ownFacts are the facts of e itself (at path): its attributes, its text
// when it is a leaf, or its bare presence.
func ownFacts(e *etree.Element, path string, keep map[string]bool, data bool) []string {
	attrs := make([]string, 0, len(e.Attr)+1)
	for i := range e.Attr {
		a := &e.Attr[i]
		if a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns" || ignoredAttrs[a.Key] {
			continue
		}
		name := attrName(a)
		if name == "xsi:schemaLocation" {
			continue
		}
		attrs = append(attrs, "@"+name+"="+normValue(a.Value, name == "value", keep, data))
	}
	if ns, parent := e.NamespaceURI(), e.Parent(); parent == nil || ns != parent.NamespaceURI() {
		attrs = append(attrs, namespaceAttr+"="+namespaceValue(ns))
	}
	if pos := partPosition(e); pos > 0 {
		attrs = append(attrs, positionAttr+"="+strconv.Itoa(pos))
	}
	sort.Strings(attrs)
	out := make([]string, 0, len(attrs)+1)
	for _, a := range attrs {
		out = append(out, path+a)
	}
	if t := strings.TrimSpace(e.Text()); t != "" && len(e.ChildElements()) == 0 {
		out = append(out, path+"="+normValue(t, false, keep, data))
	}
	if len(out) == 0 && len(e.ChildElements()) == 0 && strings.TrimSpace(e.Text()) == "" {
		out = append(out, path)
	}
	return out
}

// positionAttr names the fact that says where a name or address part
// stands among its parent's parts of its kind (partPosition).
const positionAttr = "@(position)"

// sequenceTags are the elements whose parts are an ordered sequence (HL7
// v3 data types: an entity name EN/PN/ON and an address AD are each "a
// sequence of parts"): the first given name is the one a person is known
// by, and address lines are read in order.
var sequenceTags = map[string]bool{"name": true, "addr": true}

// partPosition is e's 1-based position among its siblings of its tag when
// its parent is a name or an address (sequenceTags), else 0: two answers
// that hold the same parts in another order differ.
func partPosition(e *etree.Element) int {
	parent := e.Parent()
	if parent == nil || !sequenceTags[parent.Tag] {
		return 0
	}
	n := 0
	for _, c := range parent.ChildElements() {
		if c.Tag == e.Tag {
			n++
		}
		if c == e {
			return n
		}
	}
	return 0
}

// normValue replaces generated ids and fresh timestamps; in data (isData)
// it only writes UUIDs in one case. ts says v is where an HL7 TS is
// written (a value attribute): only there is it taken for a timestamp —
// an identifier's extension of twelve digits (an SDS user or role profile
// id) has a timestamp's shape but is compared.
func normValue(v string, ts bool, keep map[string]bool, data bool) string {
	if ts && isTimestamp(v) && !keep[v] && !data {
		return "<timestamp>"
	}
	return uuidRe.ReplaceAllStringFunc(v, func(u string) string {
		if data || keep[strings.ToUpper(u)] {
			return strings.ToUpper(u)
		}
		return "<generated>"
	})
}

// isTimestamp reports whether v is an HL7 TS with a time of day whose
// date and time are real ones (a month 01-12, an hour 00-23 ...).
func isTimestamp(v string) bool {
	if !tsRe.MatchString(v) {
		return false
	}
	_, err := time.Parse("200601021504", v[:12])
	return err == nil
}

// Diff says how two normalised answers differ: facts only in a (prefixed
// with nameA) and only in b, paired by path where both have one. Empty:
// they match.
func Diff(a, b Facts, nameA, nameB string) []string {
	ca, cb := count(a), count(b)
	onlyA, onlyB := map[string][]string{}, map[string][]string{}
	var paths []string
	seen := map[string]bool{}
	note := func(f string) {
		p := pathOf(f)
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	for f, n := range ca {
		for range n - cb[f] {
			onlyA[pathOf(f)] = append(onlyA[pathOf(f)], valueOf(f))
			note(f)
		}
	}
	for f, n := range cb {
		for range n - ca[f] {
			onlyB[pathOf(f)] = append(onlyB[pathOf(f)], valueOf(f))
			note(f)
		}
	}
	sort.Strings(paths)
	var out []string
	for _, p := range paths {
		va, vb := onlyA[p], onlyB[p]
		sort.Strings(va)
		sort.Strings(vb)
		switch {
		case len(va) > 0 && len(vb) > 0:
			out = append(out, fmt.Sprintf("%s: %s has %s, %s has %s", p, nameA, strings.Join(va, ", "), nameB, strings.Join(vb, ", ")))
		case len(va) > 0:
			out = append(out, fmt.Sprintf("%s: only %s has %s", p, nameA, strings.Join(va, ", ")))
		default:
			out = append(out, fmt.Sprintf("%s: only %s has %s", p, nameB, strings.Join(vb, ", ")))
		}
	}
	return out
}

// count counts each fact.
func count(f Facts) map[string]int {
	m := make(map[string]int, len(f))
	for _, x := range f {
		m[x]++
	}
	return m
}

// pathOf is a fact's path (up to its value).
func pathOf(f string) string {
	if i := strings.Index(f, "="); i >= 0 {
		return f[:i]
	}
	return f
}

// valueOf is a fact's value ("(present)" for a bare element).
func valueOf(f string) string {
	if i := strings.Index(f, "="); i >= 0 {
		return strings.TrimSpace(f[i+1:])
	}
	return "(present)"
}

// Compare normalises both answers and diffs them element by element
// (compareTrees): sibling order is not significant, which values belong
// to one element is. err says which answer could not be read.
func Compare(a, b, request []byte, nameA, nameB string) ([]string, error) {
	keep := requestValues(request)
	ta, err := readTree(a, keep)
	if err != nil {
		return nil, fmt.Errorf("%s answer: %w", nameA, err)
	}
	tb, err := readTree(b, keep)
	if err != nil {
		return nil, fmt.Errorf("%s answer: %w", nameB, err)
	}
	return compareTrees(ta, tb, nameA, nameB), nil
}
