package v3

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// The prescriber's signature covers not the whole ParentPrescription but the
// FragmentsToBeHashed that EPS derives from it (see SignatureFragments). The
// files signature*.go build those fragments, canonicalise them (Exclusive
// C14N), digest them, wrap the digest in the SignedInfo that $prepare returns
// and verify the XML-DSig signatures that legacy prescribers send.

// ParentPrescriptionInput is what the signature functions accept: a Node (its
// path prefixes error paths) or a bare element. Either may be the
// ParentPrescription itself or an interaction root that holds one under
// ControlActEvent/subject.
type ParentPrescriptionInput interface {
	Node | *etree.Element
}

// FragmentsOption adjusts how SignatureFragments builds the fragments.
type FragmentsOption func(*fragmentsConfig)

type fragmentsConfig struct {
	authorTime string
	space      *Space
}

// WithAuthorTime makes the fragments carry t (in UTC, as YYYYMMDDHHmmss) as
// the author time instead of the prescription's author/time. EPS does this
// for $prepare on an unsigned bundle: it signs "now", and returns that time
// as the response's timestamp parameter.
func WithAuthorTime(t time.Time) FragmentsOption {
	ts := HL7DateTime(t)
	return func(c *fragmentsConfig) { c.authorTime = ts }
}

// InSpace makes SignatureFragments build the fragments in sp (see Space):
// they are then the caller's only until it gives sp back. A nil sp builds
// them in fresh memory, as without the option.
func InSpace(sp *Space) FragmentsOption {
	return func(c *fragmentsConfig) { c.space = sp }
}

// HL7DateTime formats t in UTC as an HL7 v3 TS of second precision
// (YYYYMMDDHHmmss), the form EPS gives the author time.
func HL7DateTime(t time.Time) string {
	return t.UTC().Format(TimeLayout)
}

// Element names used in the fragments.
const (
	fragmentsRootTag = "FragmentsToBeHashed"
	fragmentTag      = "Fragment"
)

// SignatureFragments builds the FragmentsToBeHashed element EPS hashes for a
// prescription's signature, in EPS's layout:
//
//	<FragmentsToBeHashed>
//	  <Fragment><time xmlns="urn:hl7-org:v3" .../><id xmlns="urn:hl7-org:v3" .../></Fragment>
//	  <Fragment><AgentPerson xmlns="urn:hl7-org:v3" ...>...</AgentPerson></Fragment>
//	  <Fragment><recordTarget xmlns="urn:hl7-org:v3" ...>...</recordTarget></Fragment>
//	  <Fragment><pertinentLineItem xmlns="urn:hl7-org:v3" ...>...</pertinentLineItem></Fragment> (one per line item)
//	</FragmentsToBeHashed>
//
// time is pertinentPrescription/author/time (or the WithAuthorTime value), id
// the first pertinentPrescription/id, AgentPerson the author's, recordTarget
// the ParentPrescription's, and each pertinentLineItem loses
// repeatNumber/low (repeatNumber keeps only its high) and its item-status
// pertinentInformation4.
//
// The copies follow how EPS holds XML as objects (xml-js compact form), so
// that the bytes hashed are the ones EPS hashes: element prefixes and
// namespace declarations are dropped and each fragment is put in
// urn:hl7-org:v3; attributes are sorted by name; tab, form feed, line
// breaks (CR, NEL, LS and PS too) in attribute values become spaces; those
// line ends in text become LF (EPS parses the XML it writes before
// canonicalising it, and its parser reads them all as LF);
// white-space-only text and comments are dropped, processing instructions
// kept (as Exclusive C14N keeps them: EPS FHIR cannot carry one, so a signed
// fragment holding one never verifies after FHIR); and repeated siblings of
// one name are gathered at the place of the first (a no-op for PORX
// messages, whose repeated elements are adjacent). A prefixed attribute
// (e.g. xsi:type) is refused: none occurs in PORX prescriptions and EPS
// cannot hash one.
//
// Problems are returned as *Error naming the element path.
func SignatureFragments[T ParentPrescriptionInput](parentPrescription T, opts ...FragmentsOption) (*etree.Element, error) {
	p, err := signatureParts(parentPrescription, opts)
	if err != nil {
		return nil, err
	}
	return p.fragments()
}

// fragmentParts are the parts of a ParentPrescription its fragments are
// copies of (see SignatureFragments).
type fragmentParts struct {
	cfg                           fragmentsConfig
	r                             *Reader
	time, id, agent, recordTarget Node // time: none when cfg.authorTime is set
	items                         []Node
}

// signatureParts finds the parts of the ParentPrescription the fragments
// are made of, or says what is missing.
func signatureParts[T ParentPrescriptionInput](parentPrescription T, opts []FragmentsOption) (*fragmentParts, error) {
	p := &fragmentParts{}
	for _, o := range opts {
		o(&p.cfg)
	}
	r, pp, err := parentPrescriptionNode(parentPrescription)
	if err != nil {
		return nil, err
	}
	p.r = r
	presc := pp.Child("pertinentInformation1").Child("pertinentPrescription")
	p.id = presc.Child("id")
	author := presc.Child("author")
	if p.cfg.authorTime == "" {
		p.time = author.Child("time")
		p.time.Attr("value")
	}
	p.agent = author.Child("AgentPerson")
	p.recordTarget = pp.Child("recordTarget")
	if presc.Exists() {
		pi2 := presc.All("pertinentInformation2")
		if len(pi2) == 0 {
			presc.r.Fail(presc.Path()+"/pertinentInformation2", "no line items: a prescription needs at least one pertinentInformation2/pertinentLineItem")
		}
		for _, n := range pi2 {
			p.items = append(p.items, n.Child("pertinentLineItem"))
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// fragments builds the FragmentsToBeHashed element of the parts.
func (p *fragmentParts) fragments() (*etree.Element, error) {
	root := etree.NewElement(fragmentsRootTag)
	head := root.CreateElement(fragmentTag)
	slabs := new(docSlabs) // the copies' elements, for all the fragments
	if p.cfg.space != nil {
		// Taken from the Space's slabs as they stand: a tree built in it
		// before (the ParentPrescription, say) keeps what it took.
		slabs = &p.cfg.space.build
	}
	path := &fragPath{steps: make([]fragStep, 0, 16)} // one for all the fragments
	if p.cfg.authorTime != "" {
		t := head.CreateElement("time")
		t.CreateAttr("xmlns", Namespace)
		t.CreateAttr("value", p.cfg.authorTime)
	} else if err := appendFragment(slabs, path, head, p.time, nil); err != nil {
		return nil, err
	}
	if err := appendFragment(slabs, path, head, p.id, nil); err != nil {
		return nil, err
	}
	if err := appendFragment(slabs, path, root.CreateElement(fragmentTag), p.agent, nil); err != nil {
		return nil, err
	}
	if err := appendFragment(slabs, path, root.CreateElement(fragmentTag), p.recordTarget, nil); err != nil {
		return nil, err
	}
	for _, item := range p.items {
		if err := appendFragment(slabs, path, root.CreateElement(fragmentTag), item, lineItemEdit); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// parentPrescriptionNode turns the input into a Node on a fresh Reader (so an
// error recorded earlier on the caller's Reader cannot hide ours), stepping
// from an interaction root down to its ParentPrescription.
func parentPrescriptionNode[T ParentPrescriptionInput](in T) (*Reader, Node, error) {
	var n Node
	var path string
	switch v := any(in).(type) {
	case Node:
		n, path = v, v.Path()
	case *etree.Element:
		n = Node{El: v}
		if v != nil {
			path = elementPath(v)
		}
	}
	if n.El == nil {
		if path == "" {
			path = "/ParentPrescription"
		}
		return nil, Node{}, &Error{Path: path, Msg: "no ParentPrescription element"}
	}
	interaction := ""
	if n.r != nil {
		interaction = n.r.interaction
	}
	if interaction == "" {
		interaction = rootTag(n.El)
	}
	r := &Reader{interaction: interaction}
	n = r.rootAt(n.El, path)
	if n.El.Tag != "ParentPrescription" {
		pp := n.Opt("ControlActEvent").Opt("subject").Opt("ParentPrescription")
		if !pp.Exists() {
			return nil, Node{}, &Error{Interaction: interaction, Path: n.Path(),
				Msg: "want a ParentPrescription or an interaction holding one at ControlActEvent/subject/ParentPrescription"}
		}
		n = pp
	}
	return r, n, nil
}

// elementPath is the /-separated path of local names from the document
// root, with a 1-based [index] where an element has same-named siblings
// (as Node.All writes it).
func elementPath(el *etree.Element) string {
	var parts []string
	for e := el; e != nil && e.Tag != ""; e = e.Parent() { // Tag "" is the etree.Document itself
		part := e.Tag
		if p := e.Parent(); p != nil {
			same, at := 0, 0
			for _, c := range p.ChildElements() {
				if c.Tag == e.Tag {
					same++
					if c == e {
						at = same
					}
				}
			}
			if same > 1 {
				part += "[" + strconv.Itoa(at) + "]"
			}
		}
		parts = append(parts, part)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}

// rootTag is the local name of the outermost element above el. It names the
// interaction in errors when the caller did not give one.
func rootTag(el *etree.Element) string {
	top := el
	for p := el.Parent(); p != nil && p.Tag != ""; p = p.Parent() {
		top = p
	}
	return top.Tag
}

// childEdit rewrites one direct child of a fragment root while it is
// copied: it returns the element to copy in its place, or nil to drop it.
type childEdit func(child *etree.Element) *etree.Element

// lineItemEdit applies EPS's two line-item edits: every pertinentInformation4
// (the item status) goes, and repeatNumber keeps only its high (and loses
// any attributes of its own).
func lineItemEdit(c *etree.Element) *etree.Element {
	switch c.Tag {
	case "pertinentInformation4":
		return nil
	case "repeatNumber":
		rn := etree.NewElement("repeatNumber")
		for _, h := range c.ChildElements() {
			if h.Tag == "high" {
				rn.AddChild(h.Copy())
			}
		}
		return rn
	}
	return c
}

// appendFragment copies n's element under parent as a fragment root: in the
// v3 namespace and normalised as SignatureFragments describes. edit, when
// not nil, rewrites the root's direct children. path is reused: it is set
// to n's.
func appendFragment(s *docSlabs, path *fragPath, parent *etree.Element, n Node, edit childEdit) error {
	path.base, path.steps = n.Path(), path.steps[:0]
	el, err := s.copyNormalisedAt(n.El, path, true, edit)
	if err != nil {
		err.Interaction = n.r.interaction
		return err
	}
	parent.AddChild(el)
	return nil
}

// attrSpaces applies EPS's attribute clean-up before canonicalising: each
// run of tabs and form feeds becomes one space, then each line break (LF or
// CR LF) becomes a space.
func attrSpaces(v string) string {
	if !strings.ContainsAny(v, "\t\f\n") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\t', '\f':
			for i+1 < len(v) && (v[i+1] == '\t' || v[i+1] == '\f') {
				i++
			}
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	v = strings.ReplaceAll(b.String(), "\r\n", " ")
	return strings.ReplaceAll(v, "\n", " ")
}

// attrCRSpaces is the rest of an attribute's clean-up: EPS writes its
// fragments as XML and parses them again before canonicalising, and the
// parser (xmldom) reads the line ends attrSpaces leaves (a lone CR, as a
// legacy sender's &#xD; gives, NEL, LS, PS) as LF, and a line end in an
// attribute as a space.
func attrCRSpaces(v string) string {
	if !hasLineEnd(v) {
		return v
	}
	return strings.ReplaceAll(xmlLineEnds(v), "\n", " ")
}

// eolNormalised is text as EPS hashes it: the same parse reads each line
// end (CR LF, CR NEL, a lone CR, NEL, LS, PS) as LF. (Exclusive C14N alone
// would keep a legacy sender's &#xD; as &#xD;.)
func eolNormalised(v string) string {
	if plainPrintable(v) || !hasLineEnd(v) {
		return v
	}
	return xmlLineEnds(v)
}

// plainPrintable reports whether v is printable ASCII only (space to
// DEL): none of the characters attrSpaces, attrCRSpaces and eolNormalised
// rewrite, which are control characters or outside ASCII. One loop over
// the bytes tells it for most values, which are codes, ids and words.
func plainPrintable(v string) bool {
	i := 0
	for ; i+8 <= len(v); i += 8 { // eight bytes at a time (load8)
		// A byte below 0x20 (which alone borrows in x - 0x20 in every
		// byte) or from 0x80 (its top bit).
		if x := load8(v[i : i+8]); (x|(x-0x20*eachByte))&highBits != 0 {
			return false
		}
	}
	for ; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasLineEnd reports whether v holds a character xmlLineEnds rewrites:
// CR, or NEL, LS or PS (in UTF-8, C2 85, E2 80 A8 and E2 80 A9). It looks
// for their first bytes with IndexByte: strings.ContainsAny takes a slow
// rune-by-rune path for a set with non-ASCII characters, and this runs on
// every text of every signed part.
func hasLineEnd(v string) bool {
	if strings.IndexByte(v, '\r') >= 0 {
		return true
	}
	for i := strings.IndexByte(v, 0xC2); i >= 0 && i+1 < len(v); {
		if v[i+1] == 0x85 {
			return true
		}
		j := strings.IndexByte(v[i+1:], 0xC2)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	for i := strings.IndexByte(v, 0xE2); i >= 0 && i+2 < len(v); {
		if v[i+1] == 0x80 && (v[i+2] == 0xA8 || v[i+2] == 0xA9) {
			return true
		}
		j := strings.IndexByte(v[i+1:], 0xE2)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// xmlLineEnds is xmldom's normalizeLineEndings, which EPS's parser applies
// to the whole XML text: CR LF and CR NEL become LF, then every CR, NEL,
// LS and PS left becomes LF.
func xmlLineEnds(v string) string {
	v = strings.ReplaceAll(v, "\r\n", "\n")
	v = strings.ReplaceAll(v, "\r\u0085", "\n")
	return strings.NewReplacer("\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n").Replace(v)
}

// fragPath is the path of the element being copied: the fragment root's
// and the steps below it, pushed and popped as the copy goes down and up
// again, so that the path string is only made for an error (and the copy
// makes no link of a path for each element).
type fragPath struct {
	base  string // the path of the fragment root
	steps []fragStep
}

// fragStep is one step of a fragPath below the fragment root.
type fragStep struct {
	tag string
	idx int // 1-based index among same-named siblings; 0 when alone
}

// String returns the path as SignatureFragments' errors give it.
func (p *fragPath) String() string {
	s := p.base
	for _, st := range p.steps {
		s += "/" + st.tag
		if st.idx > 0 {
			s += "[" + strconv.Itoa(st.idx) + "]"
		}
	}
	return s
}

// copyNormalised deep-copies src the way EPS's object model would carry it
// (see SignatureFragments); top adds xmlns="urn:hl7-org:v3" first.
func copyNormalised(src *etree.Element, path string, top bool, edit childEdit) (*etree.Element, *Error) {
	return new(docSlabs).copyNormalisedAt(src, &fragPath{base: path}, top, edit)
}

// childKey is one child kept by copyNormalisedAt, with its group key.
type childKey struct {
	key  string
	el   *etree.Element
	text *etree.CharData
	pi   *etree.ProcInst
}

// copyNormalisedAt is copyNormalised of src at path, the copy's elements,
// attribute and child lists and text taken from s: what etree.NewElement,
// NewText and AddChild would make, without an allocation each.
func (s *docSlabs) copyNormalisedAt(src *etree.Element, path *fragPath, top bool, edit childEdit) (*etree.Element, *Error) {
	// Unmarked (see slabElement): Add under a copy walks to its root.
	dst := &slabNew(&s.elems, slabElems).el
	dst.Tag = src.Tag // a local name, as etree.NewElement(src.Tag) makes it
	n := len(src.Attr)
	if top {
		n++
	}
	dst.Attr = SlabSlice(&s.attrs, n, slabAttrs)
	if top {
		dst.Attr = append(dst.Attr, etree.Attr{Key: "xmlns", Value: Namespace})
	}
	first := len(dst.Attr)
	for _, a := range src.Attr {
		switch {
		case a.Space == "" && a.Key == "xmlns", a.Space == "xmlns":
			continue
		case a.Space != "":
			return nil, &Error{Path: path.String() + "/@" + a.Space + ":" + a.Key,
				Msg: "namespaced attribute not supported inside signature fragments"}
		}
		v := a.Value
		if !plainPrintable(v) { // else neither clean-up changes it
			v = attrCRSpaces(attrSpaces(v))
		}
		dst.Attr = append(dst.Attr, etree.Attr{Key: a.Key, Value: v})
	}
	slices.SortStableFunc(dst.Attr[first:], func(a, b etree.Attr) int { return strings.Compare(a.Key, b.Key) })

	// The children kept, each with its group key. When each key's children
	// are adjacent (as in every PORX message) they are copied in order;
	// otherwise they are gathered by key at the place of the first.
	var keysBuf [16]childKey
	kept := keysBuf[:0]
	adjacent := true
	for _, tok := range src.Child {
		var k childKey
		switch t := tok.(type) {
		case *etree.CharData:
			k.key, k.text = "#text", t
			if t.IsCData() {
				k.key = "#cdata"
			} else if jsBlankToken(t) {
				continue
			}
		case *etree.ProcInst:
			// Exclusive C14N keeps a processing instruction, and EPS's
			// reader keeps it too; EPS FHIR has no place for one, so a
			// signed fragment holding one cannot verify after FHIR.
			k.key, k.pi = "#instruction", t
		case *etree.Element:
			c := t
			if edit != nil {
				if c = edit(t); c == nil {
					continue
				}
			}
			k.key, k.el = c.Tag, c
		default:
			continue
		}
		if adjacent && len(kept) > 0 && kept[len(kept)-1].key != k.key {
			for _, p := range kept {
				if p.key == k.key {
					adjacent = false
					break
				}
			}
		}
		kept = append(kept, k)
	}
	dst.Child = s.tokens(groups(kept))
	if !adjacent {
		return s.copyGrouped(dst, kept, path)
	}
	for i := 0; i < len(kept); {
		j := i + 1
		for j < len(kept) && kept[j].key == kept[i].key {
			j++
		}
		if err := s.copyGroup(dst, kept[i:j], path); err != nil {
			return nil, err
		}
		i = j
	}
	return dst, nil
}

// groups returns how many children the copy of kept has: one per element,
// one per run of text of one key.
func groups(kept []childKey) int {
	n := 0
	for i, k := range kept {
		if k.el != nil || k.pi != nil || i == 0 || kept[i-1].key != k.key {
			n++
		}
	}
	return n
}

// copyGroup copies one key's children (all of one key) under dst.
func (s *docSlabs) copyGroup(dst *etree.Element, group []childKey, path *fragPath) *Error {
	switch group[0].key {
	case "#text", "#cdata":
		data := group[0].text.Data
		if len(group) > 1 {
			parts := make([]string, len(group))
			for i, k := range group {
				parts[i] = k.text.Data
			}
			data = strings.Join(parts, "")
		}
		data = eolNormalised(data)
		if group[0].key == "#text" {
			t := slabNew(&s.texts, slabTexts) // etree.NewText's: plain, no flags
			t.Data = data
			dst.AddChild(t)
		} else {
			dst.AddChild(etree.NewCData(data))
		}
		return nil
	case "#instruction":
		for _, k := range group {
			dst.AddChild(etree.NewProcInst(k.pi.Target, k.pi.Inst))
		}
		return nil
	}
	for i, k := range group {
		st := fragStep{tag: k.el.Tag}
		if len(group) > 1 {
			st.idx = i + 1
		}
		path.steps = append(path.steps, st)
		cc, err := s.copyNormalisedAt(k.el, path, false, nil)
		if err != nil {
			return err
		}
		path.steps = path.steps[:len(path.steps)-1]
		dst.AddChild(cc)
	}
	return nil
}

// copyGrouped copies the kept children gathered by key, each key's at the
// place of its first.
func (s *docSlabs) copyGrouped(dst *etree.Element, kept []childKey, path *fragPath) (*etree.Element, *Error) {
	var order []string
	members := map[string][]childKey{}
	for _, k := range kept {
		if _, ok := members[k.key]; !ok {
			order = append(order, k.key)
		}
		members[k.key] = append(members[k.key], k)
	}
	for _, key := range order {
		if err := s.copyGroup(dst, members[key], path); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// jsBlankToken is jsBlank of a text token's data, told at once from the
// flag etree's reader and CreateText set on text of XML white space only
// (which is JavaScript white space too).
func jsBlankToken(t *etree.CharData) bool { return t.IsWhitespace() || jsBlank(t.Data) }

// jsBlank reports whether s is empty after JavaScript's String.prototype.trim,
// the test by which EPS's XML reader (xml-js) drops white space between
// elements: JavaScript white space and line terminators (which, unlike Go's
// unicode.IsSpace, include U+FEFF and exclude U+0085).
func jsBlank(s string) bool {
	for _, r := range s {
		if !IsJSSpace(r) {
			return false
		}
	}
	return true
}

// IsJSSpace reports whether r is white space to JavaScript: what its
// String.prototype.trim removes and a regular expression's \s matches (the
// tab, line feed, vertical tab, form feed and carriage return, the space
// separators of Unicode's Zs, U+FEFF and the line terminators U+2028 and
// U+2029; not U+0085).
func IsJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff':
		return true
	}
	return r >= '\u2000' && r <= '\u200a'
}
