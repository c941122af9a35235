package ebxml

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// mediaType is a Content-Type value read leniently: lower-case type and
// parameters with lower-case names, values quoted or not.
type mediaType struct {
	typ    string
	params map[string]string
}

// parseMediaType reads a Content-Type header value. Unlike
// mime.ParseMediaType it accepts unquoted values holding tspecials such as
// '@', '<', '/', '=' (start=<ebXMLHeader@spine.nhs.uk>, type=text/xml,
// boundary=----=_MIME-Boundary), stray semicolons and valueless tokens.
// The first occurrence of a repeated parameter wins.
func parseMediaType(v string) mediaType {
	typ, rest, _ := strings.Cut(v, ";")
	mt := mediaType{typ: strings.ToLower(strings.TrimSpace(typ)), params: map[string]string{}}
	for {
		rest = strings.TrimLeft(rest, " \t\r\n;")
		if rest == "" {
			return mt
		}
		j := strings.IndexAny(rest, "=;")
		if j < 0 {
			return mt // trailing token without a value
		}
		if rest[j] == ';' {
			rest = rest[j+1:] // valueless token
			continue
		}
		name := strings.ToLower(strings.TrimSpace(rest[:j]))
		rest = strings.TrimLeft(rest[j+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			val, rest = readQuoted(rest[1:])
		} else {
			val, rest, _ = strings.Cut(rest, ";")
			val = strings.TrimSpace(val)
		}
		if _, dup := mt.params[name]; name != "" && !dup {
			mt.params[name] = val
		}
	}
}

// readQuoted reads a quoted-string body (after the opening quote) with
// backslash escapes; it returns the value and what follows the closing
// quote. An unterminated string takes the rest of the input.
func readQuoted(s string) (val, rest string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// normalizeContentID strips white space, quotes and angle brackets from a
// Content-Id or start parameter.
func normalizeContentID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, `"`)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	return strings.TrimSpace(s)
}

// rawPart is one MIME body part: headers (lower-case names, first value
// wins, folded lines joined) and the body bytes, aliasing the input.
type rawPart struct {
	header map[string]string
	body   []byte
}

// errNoDelimiter, errNoParts and errTruncated describe broken multipart bodies.
var (
	errNoDelimiter  = errors.New("no boundary delimiter line in body")
	errNoParts      = errors.New("multipart body has no parts")
	errTruncated    = errors.New("multipart body truncated: no closing boundary delimiter")
	errTooManyParts = fmt.Errorf("multipart body has more than %d parts", MaxParts)
)

// MaxParts is the most MIME parts an ebXML message may have, the header
// part included: an HL7 message carries two, attachments a few more. Each
// part costs its reader far more than its bytes (a part of five bytes
// became an attachment kept, logged and journalled): 800,000 of them in 4
// MiB took 410 MB of heap (gateway's TestHostileBodiesMemory).
const MaxParts = 100

// splitMultipart splits a multipart body at the delimiter lines of
// boundary. It is lenient about line ends (LF or CRLF, per line), about
// white space before a delimiter and after it (transport padding), and it
// ignores preamble and epilogue. The first delimiter may follow junk on
// its line (the preamble is discarded anyway); later ones must start their
// line. Part bodies alias b: the line break that precedes a delimiter
// belongs to the delimiter and is not in the body.
//
// A body without its closing delimiter returns every part, the last one
// running to the end of the body less one line break (where the closing
// delimiter's line would have started), together with errTruncated: the
// caller decides whether that last part can be known to be whole. A body
// whose last delimiter lacks its two closing dashes, nothing but white
// space after it, is read as closed there.
func splitMultipart(b []byte, boundary string) ([]rawPart, error) {
	delim := []byte("--" + boundary)
	_, cur, closing, ok := findDelimiter(b, delim, 0, true)
	if !ok {
		return nil, errNoDelimiter
	}
	if closing {
		return nil, errNoParts
	}
	var parts []rawPart
	for {
		lineStart, next, closing, ok := findDelimiter(b, delim, cur, false)
		if len(parts) == MaxParts {
			return nil, errTooManyParts
		}
		if !ok && len(bytes.TrimSpace(b[cur:])) == 0 {
			// A delimiter without its two closing dashes ends the body:
			// it closes it, no part is cut short.
			if len(parts) == 0 {
				return nil, errNoParts
			}
			return parts, nil
		}
		if !ok {
			return append(parts, parsePart(trimOneEOL(b[cur:]))), errTruncated
		}
		content := trimOneEOL(b[cur:lineStart])
		parts = append(parts, parsePart(content))
		if closing {
			return parts, nil
		}
		cur = next
	}
}

// findDelimiter finds the next delimiter line at or after from. It returns
// the index where the delimiter's line starts, the index just past the
// line's end, and whether it is the closing delimiter. With anywhere set,
// the delimiter need not start its line.
func findDelimiter(b, delim []byte, from int, anywhere bool) (lineStart, next int, closing, ok bool) {
	for i := from; i <= len(b); {
		k := bytes.Index(b[i:], delim)
		if k < 0 {
			return 0, 0, false, false
		}
		s := i + k
		ls := s
		for ls > from && (b[ls-1] == ' ' || b[ls-1] == '\t') {
			ls--
		}
		if anywhere || ls == 0 || b[ls-1] == '\n' {
			e := s + len(delim)
			closing := bytes.HasPrefix(b[e:], []byte("--"))
			if closing {
				e += 2
			}
			for e < len(b) && (b[e] == ' ' || b[e] == '\t') {
				e++
			}
			switch {
			case e == len(b):
				return ls, e, closing, true
			case b[e] == '\n':
				return ls, e + 1, closing, true
			case b[e] == '\r' && (e+1 == len(b) || b[e+1] == '\n'):
				return ls, min(e+2, len(b)), closing, true
			case closing:
				return ls, e, true, true // epilogue on the closing line
			}
		}
		i = s + 1
	}
	return 0, 0, false, false
}

// trimOneEOL removes one trailing LF or CRLF.
func trimOneEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// parsePart reads a part's header lines up to the first blank line. Header
// lines may be indented; an indented line that does not look like "Name:"
// continues the previous header. The first line that is neither ends the
// headers and starts the body (a sender that left out the blank line, as
// mail parsers read it): content that does not start with a header line
// has no headers, all of it is body.
func parsePart(b []byte) rawPart {
	p := rawPart{header: map[string]string{}}
	last := ""
	for i := 0; i < len(b); {
		line, next := b[i:], len(b)
		if nl := bytes.IndexByte(line, '\n'); nl >= 0 {
			line, next = line[:nl], i+nl+1
		}
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) == 0 {
			p.body = b[next:]
			return p
		}
		name, val, isHeader := splitHeaderLine(trimmed)
		switch {
		case isHeader:
			if _, dup := p.header[name]; !dup {
				p.header[name] = val
			}
			last = name
		case (line[0] == ' ' || line[0] == '\t') && last != "":
			p.header[last] += " " + string(trimmed)
		default:
			p.body = b[i:]
			return p
		}
		i = next
	}
	p.body = b[len(b):] // headers only, no body
	return p
}

// splitHeaderLine splits "Name: value" when Name is a plausible header
// name (letters, digits, '-', '_'), white space between name and colon
// allowed (RFC 5322's obsolete syntax, which mail parsers still read).
func splitHeaderLine(line []byte) (name, val string, ok bool) {
	i := bytes.IndexByte(line, ':')
	n := bytes.TrimRight(line[:max(i, 0)], " \t")
	if i <= 0 || len(n) == 0 {
		return "", "", false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", "", false
		}
	}
	return headerName(n), string(bytes.TrimSpace(line[i+1:])), true
}

// partHeaders are the part header names the parser looks up, returned
// as constants by headerName.
var partHeaders = []string{"content-type", "content-id", "content-transfer-encoding", "content-length", "content-description"}

// headerName returns the header name n in lower case: one of
// partHeaders without allocating (a part's headers are almost always
// these), any other as a new string.
func headerName(n []byte) string {
	for _, h := range partHeaders {
		if len(n) == len(h) && bytes.EqualFold(n, []byte(h)) {
			return h
		}
	}
	return strings.ToLower(string(n))
}

// decodeTransfer returns a part body decoded per its
// Content-Transfer-Encoding: identity encodings return the bytes as they
// are, base64 is decoded, anything else is NotSupported. A base64 body's
// characters outside the base64 alphabet (line breaks, white space or any
// other) are ignored, as RFC 2045 §6.8 says they are to be, and as the
// NHS MHS adaptor's reader ignores them.
func decodeTransfer(cte string, body []byte) ([]byte, *MessageError) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return body, nil
	case "base64":
		clean := make([]byte, 0, len(body))
		for _, c := range body {
			if isBase64Char(c) {
				clean = append(clean, c)
			}
		}
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil {
			return nil, newErr(CodeMimeProblem, NumTransferEncoding, err, "Content-Transfer-Encoding base64 undecodable")
		}
		return out[:n], nil
	default:
		return nil, newErr(CodeNotSupported, NumTransferEncoding, nil, "Content-Transfer-Encoding %q not supported", cte)
	}
}

// isBase64Char reports whether c is in the base64 alphabet, padding
// included (RFC 2045 §6.8, Table 1).
func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}
