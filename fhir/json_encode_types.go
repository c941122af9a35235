package fhir

import (
	"reflect"
	"unsafe"
)

// Hand-written appenders of the data types most members of a resource
// are (codings, identifiers, references, extensions...): each writes its
// type's members in the order of its fields, each omitempty, as its plan
// would, but without looking the fields up in the plan. They stand in for
// their types' plans (encPlan.write); TestEncodeBuiltAsCodec holds them to
// the codec with every field set, so that a field added to one of these
// types and not here fails it.

// handWritten are the appenders, by the type they write.
var handWritten = map[reflect.Type]func(e *encoder, buf []byte, v unsafe.Pointer) []byte{
	reflect.TypeFor[Coding](): func(_ *encoder, buf []byte, v unsafe.Pointer) []byte {
		return appendCoding(buf, (*Coding)(v))
	},
	reflect.TypeFor[Identifier](): func(e *encoder, buf []byte, v unsafe.Pointer) []byte {
		return e.identifier(buf, (*Identifier)(v))
	},
	reflect.TypeFor[Reference](): func(e *encoder, buf []byte, v unsafe.Pointer) []byte {
		return e.reference(buf, (*Reference)(v))
	},
	reflect.TypeFor[CodeableConcept](): func(e *encoder, buf []byte, v unsafe.Pointer) []byte {
		return e.codeableConcept(buf, (*CodeableConcept)(v))
	},
	reflect.TypeFor[Extension](): func(e *encoder, buf []byte, v unsafe.Pointer) []byte {
		return e.extension(buf, (*Extension)(v))
	},
	reflect.TypeFor[Quantity](): func(e *encoder, buf []byte, v unsafe.Pointer) []byte {
		return e.quantity(buf, (*Quantity)(v))
	},
	reflect.TypeFor[Period](): func(_ *encoder, buf []byte, v unsafe.Pointer) []byte {
		return appendPeriod(buf, (*Period)(v))
	},
	reflect.TypeFor[HumanName](): func(_ *encoder, buf []byte, v unsafe.Pointer) []byte {
		return appendHumanName(buf, (*HumanName)(v))
	},
}

// closeObject ends the object whose members were written from buf[open]
// on, each after a comma: the first comma is made its brace.
func closeObject(buf []byte, open int) []byte {
	if len(buf) == open {
		return append(buf, '{', '}')
	}
	buf[open] = '{'
	return append(buf, '}')
}

// appendMember appends a string member, its key `,"name":` given.
func appendMember(buf []byte, key, s string) []byte {
	return appendString(append(buf, key...), s)
}

func appendCoding(buf []byte, c *Coding) []byte {
	open := len(buf)
	if c.System != "" {
		buf = appendMember(buf, `,"system":`, c.System)
	}
	if c.Version != "" {
		buf = appendMember(buf, `,"version":`, c.Version)
	}
	if c.Code != "" {
		buf = appendMember(buf, `,"code":`, c.Code)
	}
	if c.Display != "" {
		buf = appendMember(buf, `,"display":`, c.Display)
	}
	return closeObject(buf, open)
}

func appendPeriod(buf []byte, p *Period) []byte {
	open := len(buf)
	if p.Start != "" {
		buf = appendMember(buf, `,"start":`, p.Start)
	}
	if p.End != "" {
		buf = appendMember(buf, `,"end":`, p.End)
	}
	return closeObject(buf, open)
}

// appendStrings appends a list of strings (not empty).
func appendStrings(buf []byte, l []string) []byte {
	buf = append(buf, '[')
	for _, s := range l {
		buf = append(appendString(buf, s), ',')
	}
	buf[len(buf)-1] = ']'
	return buf
}

func appendHumanName(buf []byte, n *HumanName) []byte {
	open := len(buf)
	if n.Use != "" {
		buf = appendMember(buf, `,"use":`, n.Use)
	}
	if n.Text != "" {
		buf = appendMember(buf, `,"text":`, n.Text)
	}
	if n.Family != "" {
		buf = appendMember(buf, `,"family":`, n.Family)
	}
	if len(n.Given) > 0 {
		buf = appendStrings(append(buf, `,"given":`...), n.Given)
	}
	if len(n.Prefix) > 0 {
		buf = appendStrings(append(buf, `,"prefix":`...), n.Prefix)
	}
	if len(n.Suffix) > 0 {
		buf = appendStrings(append(buf, `,"suffix":`...), n.Suffix)
	}
	if n.Period != nil {
		buf = appendPeriod(append(buf, `,"period":`...), n.Period)
	}
	return closeObject(buf, open)
}

// extensions appends a list of extensions (not empty).
func (e *encoder) extensions(buf []byte, l []Extension) []byte {
	buf = append(buf, '[')
	for i := range l {
		buf = append(e.extension(buf, &l[i]), ',')
	}
	buf[len(buf)-1] = ']'
	return buf
}

func (e *encoder) identifier(buf []byte, id *Identifier) []byte {
	open := len(buf)
	if len(id.Extension) > 0 {
		buf = e.extensions(append(buf, `,"extension":`...), id.Extension)
	}
	if id.Use != "" {
		buf = appendMember(buf, `,"use":`, id.Use)
	}
	if id.System != "" {
		buf = appendMember(buf, `,"system":`, id.System)
	}
	if id.Value != "" {
		buf = appendMember(buf, `,"value":`, id.Value)
	}
	return closeObject(buf, open)
}

func (e *encoder) reference(buf []byte, r *Reference) []byte {
	open := len(buf)
	if len(r.Extension) > 0 {
		buf = e.extensions(append(buf, `,"extension":`...), r.Extension)
	}
	if r.Reference != "" {
		buf = appendMember(buf, `,"reference":`, r.Reference)
	}
	if r.Type != "" {
		buf = appendMember(buf, `,"type":`, r.Type)
	}
	if r.Identifier != nil {
		buf = e.identifier(append(buf, `,"identifier":`...), r.Identifier)
	}
	if r.Display != "" {
		buf = appendMember(buf, `,"display":`, r.Display)
	}
	return closeObject(buf, open)
}

func (e *encoder) codeableConcept(buf []byte, cc *CodeableConcept) []byte {
	open := len(buf)
	if len(cc.Extension) > 0 {
		buf = e.extensions(append(buf, `,"extension":`...), cc.Extension)
	}
	if len(cc.Coding) > 0 {
		buf = append(buf, `,"coding":[`...)
		for i := range cc.Coding {
			buf = append(appendCoding(buf, &cc.Coding[i]), ',')
		}
		buf[len(buf)-1] = ']'
	}
	if cc.Text != "" {
		buf = appendMember(buf, `,"text":`, cc.Text)
	}
	return closeObject(buf, open)
}

func (e *encoder) quantity(buf []byte, q *Quantity) []byte {
	open := len(buf)
	if len(q.Extension) > 0 {
		buf = e.extensions(append(buf, `,"extension":`...), q.Extension)
	}
	if q.Value != "" {
		buf = e.number(append(buf, `,"value":`...), string(q.Value))
	}
	if q.Comparator != "" {
		buf = appendMember(buf, `,"comparator":`, q.Comparator)
	}
	if q.Unit != "" {
		buf = appendMember(buf, `,"unit":`, q.Unit)
	}
	if q.System != "" {
		buf = appendMember(buf, `,"system":`, q.System)
	}
	if q.Code != "" {
		buf = appendMember(buf, `,"code":`, q.Code)
	}
	return closeObject(buf, open)
}

func (e *encoder) extension(buf []byte, x *Extension) []byte {
	buf = appendMember(append(buf, '{'), `"url":`, x.URL)
	if len(x.Extension) > 0 {
		buf = e.extensions(append(buf, `,"extension":`...), x.Extension)
	}
	if x.ValueCoding != nil {
		buf = appendCoding(append(buf, `,"valueCoding":`...), x.ValueCoding)
	}
	if x.ValueCodeableConcept != nil {
		buf = e.codeableConcept(append(buf, `,"valueCodeableConcept":`...), x.ValueCodeableConcept)
	}
	if x.ValueIdentifier != nil {
		buf = e.identifier(append(buf, `,"valueIdentifier":`...), x.ValueIdentifier)
	}
	if x.ValueReference != nil {
		buf = e.reference(append(buf, `,"valueReference":`...), x.ValueReference)
	}
	if x.ValueString != nil {
		buf = appendMember(buf, `,"valueString":`, *x.ValueString)
	}
	if x.ValueCode != nil {
		buf = appendMember(buf, `,"valueCode":`, *x.ValueCode)
	}
	if x.ValueBoolean != nil {
		if *x.ValueBoolean {
			buf = append(buf, `,"valueBoolean":true`...)
		} else {
			buf = append(buf, `,"valueBoolean":false`...)
		}
	}
	if x.ValueInteger != nil {
		buf = e.number(append(buf, `,"valueInteger":`...), string(*x.ValueInteger))
	}
	if x.ValueUnsignedInt != nil {
		buf = e.number(append(buf, `,"valueUnsignedInt":`...), string(*x.ValueUnsignedInt))
	}
	if x.ValueDecimal != nil {
		buf = e.number(append(buf, `,"valueDecimal":`...), string(*x.ValueDecimal))
	}
	if x.ValueDateTime != nil {
		buf = appendMember(buf, `,"valueDateTime":`, *x.ValueDateTime)
	}
	if x.ValueDate != nil {
		buf = appendMember(buf, `,"valueDate":`, *x.ValueDate)
	}
	if x.ValueInstant != nil {
		buf = appendMember(buf, `,"valueInstant":`, *x.ValueInstant)
	}
	if x.ValueQuantity != nil {
		buf = e.quantity(append(buf, `,"valueQuantity":`...), x.ValueQuantity)
	}
	if x.ValuePeriod != nil {
		buf = appendPeriod(append(buf, `,"valuePeriod":`...), x.ValuePeriod)
	}
	if x.ValueDuration != nil {
		buf = e.quantity(append(buf, `,"valueDuration":`...), x.ValueDuration)
	}
	if x.ValueHumanName != nil {
		buf = appendHumanName(append(buf, `,"valueHumanName":`...), x.ValueHumanName)
	}
	return append(buf, '}')
}
