package core

import (
	"fmt"
	"unicode/utf8"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// Validate checks that a code can be written at path: codeSystem, code
// and displayName XML can carry unchanged, codeSystem and code present,
// a severity of ER, WG or IF.
func (c SpineCode) Validate(path, interaction string) error {
	for _, f := range [...]struct{ attr, v string }{{"codeSystem", c.System}, {"code", c.Code}, {"displayName", c.Display}} {
		if err := AckXMLText(interaction, path+"/code/@"+f.attr, f.v); err != nil {
			return err
		}
	}
	switch {
	case c.System == "":
		return &v3.Error{Interaction: interaction, Path: path + "/code/@codeSystem", Msg: "missing mandatory value"}
	case c.Code == "":
		return &v3.Error{Interaction: interaction, Path: path + "/code/@code", Msg: "missing mandatory value"}
	case !ackSeverityOK(c.Severity):
		return &v3.Error{Interaction: interaction, Path: path, Msg: fmt.Sprintf("severity %q is not ER, WG or IF", c.Severity)}
	}
	return nil
}

// AckXMLText fails on a value XML cannot carry unchanged: invalid UTF-8, a
// character outside XML's Char production (most control characters), or a
// carriage return (every XML parser reads CR and CR LF as a line feed).
func AckXMLText(interaction, path, s string) error {
	if !utf8.ValidString(s) {
		return &v3.Error{Interaction: interaction, Path: path, Msg: "not valid UTF-8"}
	}
	for _, r := range s {
		if r == '\r' {
			return &v3.Error{Interaction: interaction, Path: path, Msg: "a carriage return cannot be written unchanged (XML reads it as a line feed)"}
		}
		if !(r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000) {
			return &v3.Error{Interaction: interaction, Path: path, Msg: fmt.Sprintf("character %U cannot be written in XML", r)}
		}
	}
	return nil
}

// AckTypeCodeOK reports whether tc is an acknowledgement typeCode porxgate
// reads and writes back: AA, AE, AR, or Spine's ER (AckErrorAlternative).
func AckTypeCodeOK(tc string) bool {
	return tc == AckAccepted || tc == AckError || tc == AckRejected || tc == AckErrorAlternative
}

func ackSeverityOK(s string) bool {
	return s == AckSeverityError || s == AckSeverityWarning || s == AckSeverityInformation
}

// AckAddDevice adds to parent (a communicationFunctionRcv or Snd) the
// device element naming the system by its ASID.
func AckAddDevice(parent *etree.Element, asid string) {
	v3.AddII(v3.Add(parent, "device", "classCode", "DEV", "determinerCode", "INSTANCE"), "id", v3.OIDASID, asid)
}
