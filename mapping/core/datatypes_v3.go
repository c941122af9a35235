package core

import (
	v3 "github.com/porxgate/porxgate/v3"
)

// Small readers of v3 datatypes that check the code system or identifier
// root, so an unknown system is reported at its element path.

// V3Code returns the @code of a mandatory coded element whose @codeSystem
// must be system (or absent, leaving the element's default system); a
// different system is recorded as an unknown code system.
func V3Code(n v3.Node, system string) string {
	if !n.Exists() {
		return ""
	}
	code := n.Attr("code")
	if cs := n.OptAttr("codeSystem"); cs != "" && cs != system {
		n.Fail("unknown code system %q (want %s)", cs, system)
	}
	return code
}

// V3OptCode is V3Code for an optional element: "" when it is absent.
func V3OptCode(n v3.Node, system string) string {
	if !n.Exists() {
		return ""
	}
	return V3Code(n, system)
}

// V3ID returns the @extension of an II whose @root must be root; another
// root is recorded as an unknown identifier system.
func V3ID(n v3.Node, root string) string {
	if !n.Exists() {
		return ""
	}
	if r := n.Attr("root"); r != "" && r != root {
		n.Fail("unknown identifier root %q (want %s)", r, root)
	}
	return n.Attr("extension")
}

// V3FixedCode checks a coded element that always carries the same code and
// code system (a template's fixed value) and records any other value.
func V3FixedCode(n v3.Node, code, system string) {
	if !n.Exists() {
		return
	}
	if got := V3Code(n, system); got != "" && got != code {
		n.Fail("unexpected code %q (want %s)", got, code)
	}
}

// V3Bool reads the @value of a BL element ("true" or "false").
func V3Bool(n v3.Node) bool {
	if !n.Exists() {
		return false
	}
	switch v := n.Value(); v {
	case "true":
		return true
	case "false", "":
		return false
	default:
		n.Fail("boolean value %q is neither true nor false", v)
		return false
	}
}
