package fhir

import (
	"reflect"
	"strconv"
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
	reflect.TypeFor[Coding](): func(e *encoder, buf []byte, v unsafe.Pointer) []byte {
		return e.coding(buf, (*Coding)(v))
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
	reflect.TypeFor[Period](): func(e *encoder, buf []byte, v unsafe.Pointer) []byte {
		return e.period(buf, (*Period)(v))
	},
	reflect.TypeFor[HumanName](): func(e *encoder, buf []byte, v unsafe.Pointer) []byte {
		return e.humanName(buf, (*HumanName)(v))
	},
}

// Each appender opens its object (open, the depth a level down), writes
// its members with their commas and closes it (closeAt).

func (e *encoder) coding(buf []byte, c *Coding) []byte {
	open := len(buf)
	e.depth++
	if c.System != "" {
		buf = appendString(e.key(buf, `,"system":`), c.System)
	}
	if c.Version != "" {
		buf = appendString(e.key(buf, `,"version":`), c.Version)
	}
	if c.Code != "" {
		buf = appendString(e.key(buf, `,"code":`), c.Code)
	}
	if c.Display != "" {
		buf = appendString(e.key(buf, `,"display":`), c.Display)
	}
	return e.closeAt(buf, open, '}')
}

func (e *encoder) period(buf []byte, p *Period) []byte {
	open := len(buf)
	e.depth++
	if p.Start != "" {
		buf = appendString(e.key(buf, `,"start":`), p.Start)
	}
	if p.End != "" {
		buf = appendString(e.key(buf, `,"end":`), p.End)
	}
	return e.closeAt(buf, open, '}')
}

// strings appends a list of strings (not empty).
func (e *encoder) strings(buf []byte, l []string) []byte {
	open := len(buf)
	e.depth++
	for _, s := range l {
		buf = appendString(e.sep(buf), s)
	}
	return e.closeAt(buf, open, ']')
}

func (e *encoder) humanName(buf []byte, n *HumanName) []byte {
	open := len(buf)
	e.depth++
	if n.Use != "" {
		buf = appendString(e.key(buf, `,"use":`), n.Use)
	}
	if n.Text != "" {
		buf = appendString(e.key(buf, `,"text":`), n.Text)
	}
	if n.Family != "" {
		buf = appendString(e.key(buf, `,"family":`), n.Family)
	}
	if len(n.Given) > 0 {
		buf = e.strings(e.key(buf, `,"given":`), n.Given)
	}
	if len(n.Prefix) > 0 {
		buf = e.strings(e.key(buf, `,"prefix":`), n.Prefix)
	}
	if len(n.Suffix) > 0 {
		buf = e.strings(e.key(buf, `,"suffix":`), n.Suffix)
	}
	if n.Period != nil {
		buf = e.period(e.key(buf, `,"period":`), n.Period)
	}
	return e.closeAt(buf, open, '}')
}

// extensions appends a list of extensions (not empty).
func (e *encoder) extensions(buf []byte, l []Extension) []byte {
	open := len(buf)
	e.depth++
	for i := range l {
		buf = e.extension(e.sep(buf), &l[i])
	}
	return e.closeAt(buf, open, ']')
}

func (e *encoder) identifier(buf []byte, id *Identifier) []byte {
	open := len(buf)
	e.depth++
	if len(id.Extension) > 0 {
		buf = e.extensions(e.key(buf, `,"extension":`), id.Extension)
	}
	if id.Use != "" {
		buf = appendString(e.key(buf, `,"use":`), id.Use)
	}
	if id.System != "" {
		buf = appendString(e.key(buf, `,"system":`), id.System)
	}
	if id.Value != "" {
		buf = appendString(e.key(buf, `,"value":`), id.Value)
	}
	return e.closeAt(buf, open, '}')
}

func (e *encoder) reference(buf []byte, r *Reference) []byte {
	open := len(buf)
	e.depth++
	if len(r.Extension) > 0 {
		buf = e.extensions(e.key(buf, `,"extension":`), r.Extension)
	}
	if r.Reference != "" {
		buf = appendString(e.key(buf, `,"reference":`), r.Reference)
	}
	if r.Type != "" {
		buf = appendString(e.key(buf, `,"type":`), r.Type)
	}
	if r.Identifier != nil {
		buf = e.identifier(e.key(buf, `,"identifier":`), r.Identifier)
	}
	if r.Display != "" {
		buf = appendString(e.key(buf, `,"display":`), r.Display)
	}
	return e.closeAt(buf, open, '}')
}

func (e *encoder) codeableConcept(buf []byte, cc *CodeableConcept) []byte {
	open := len(buf)
	e.depth++
	if len(cc.Extension) > 0 {
		buf = e.extensions(e.key(buf, `,"extension":`), cc.Extension)
	}
	if len(cc.Coding) > 0 {
		buf = e.key(buf, `,"coding":`)
		list := len(buf)
		e.depth++
		for i := range cc.Coding {
			buf = e.coding(e.sep(buf), &cc.Coding[i])
		}
		buf = e.closeAt(buf, list, ']')
	}
	if cc.Text != "" {
		buf = appendString(e.key(buf, `,"text":`), cc.Text)
	}
	return e.closeAt(buf, open, '}')
}

func (e *encoder) quantity(buf []byte, q *Quantity) []byte {
	open := len(buf)
	e.depth++
	if len(q.Extension) > 0 {
		buf = e.extensions(e.key(buf, `,"extension":`), q.Extension)
	}
	if q.Value != "" {
		buf = e.number(e.key(buf, `,"value":`), string(q.Value))
	}
	if q.Comparator != "" {
		buf = appendString(e.key(buf, `,"comparator":`), q.Comparator)
	}
	if q.Unit != "" {
		buf = appendString(e.key(buf, `,"unit":`), q.Unit)
	}
	if q.System != "" {
		buf = appendString(e.key(buf, `,"system":`), q.System)
	}
	if q.Code != "" {
		buf = appendString(e.key(buf, `,"code":`), q.Code)
	}
	return e.closeAt(buf, open, '}')
}

func (e *encoder) extension(buf []byte, x *Extension) []byte {
	open := len(buf)
	e.depth++
	buf = appendString(e.key(buf, `,"url":`), x.URL)
	if len(x.Extension) > 0 {
		buf = e.extensions(e.key(buf, `,"extension":`), x.Extension)
	}
	if x.ValueCoding != nil {
		buf = e.coding(e.key(buf, `,"valueCoding":`), x.ValueCoding)
	}
	if x.ValueCodeableConcept != nil {
		buf = e.codeableConcept(e.key(buf, `,"valueCodeableConcept":`), x.ValueCodeableConcept)
	}
	if x.ValueIdentifier != nil {
		buf = e.identifier(e.key(buf, `,"valueIdentifier":`), x.ValueIdentifier)
	}
	if x.ValueReference != nil {
		buf = e.reference(e.key(buf, `,"valueReference":`), x.ValueReference)
	}
	if x.ValueString != nil {
		buf = appendString(e.key(buf, `,"valueString":`), *x.ValueString)
	}
	if x.ValueCode != nil {
		buf = appendString(e.key(buf, `,"valueCode":`), *x.ValueCode)
	}
	if x.ValueBoolean != nil {
		buf = strconv.AppendBool(e.key(buf, `,"valueBoolean":`), *x.ValueBoolean)
	}
	if x.ValueInteger != nil {
		buf = e.number(e.key(buf, `,"valueInteger":`), string(*x.ValueInteger))
	}
	if x.ValueUnsignedInt != nil {
		buf = e.number(e.key(buf, `,"valueUnsignedInt":`), string(*x.ValueUnsignedInt))
	}
	if x.ValueDecimal != nil {
		buf = e.number(e.key(buf, `,"valueDecimal":`), string(*x.ValueDecimal))
	}
	if x.ValueDateTime != nil {
		buf = appendString(e.key(buf, `,"valueDateTime":`), *x.ValueDateTime)
	}
	if x.ValueDate != nil {
		buf = appendString(e.key(buf, `,"valueDate":`), *x.ValueDate)
	}
	if x.ValueInstant != nil {
		buf = appendString(e.key(buf, `,"valueInstant":`), *x.ValueInstant)
	}
	if x.ValueQuantity != nil {
		buf = e.quantity(e.key(buf, `,"valueQuantity":`), x.ValueQuantity)
	}
	if x.ValuePeriod != nil {
		buf = e.period(e.key(buf, `,"valuePeriod":`), x.ValuePeriod)
	}
	if x.ValueDuration != nil {
		buf = e.quantity(e.key(buf, `,"valueDuration":`), x.ValueDuration)
	}
	if x.ValueHumanName != nil {
		buf = e.humanName(e.key(buf, `,"valueHumanName":`), x.ValueHumanName)
	}
	return e.closeAt(buf, open, '}')
}
