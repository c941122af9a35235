package admin

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/beevik/etree"
)

// maxPretty is the largest payload pretty-printed; larger ones are shown as sent.
const maxPretty = 2 << 20

// pretty indents an XML or JSON payload for reading; anything else, or
// anything unreadable, comes back as it was.
func pretty(body string) string {
	t := strings.TrimSpace(body)
	if t == "" || len(t) > maxPretty {
		return body
	}
	switch t[0] {
	case '{', '[':
		var b bytes.Buffer
		if json.Indent(&b, []byte(t), "", "  ") == nil {
			return b.String()
		}
	case '<':
		doc := etree.NewDocument()
		if doc.ReadFromString(t) == nil {
			doc.Indent(2)
			if s, err := doc.WriteToString(); err == nil {
				return strings.TrimSpace(s)
			}
		}
	}
	return body
}

// diffLine is one line of a line diff: "=" same, "-" only left, "+" only right.
type diffLine struct {
	Op   string
	Text string
}

// maxDiffLines bounds the diff's work (lines × lines).
const maxDiffLines = 3000

// lineDiff returns a line diff of a and b (longest common subsequence).
func lineDiff(a, b string) []diffLine {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(la) > maxDiffLines || len(lb) > maxDiffLines {
		return []diffLine{{Op: "=", Text: "(answers too long to diff line by line; see the differences above)"}}
	}
	n, m := len(la), len(lb)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if la[i] == lb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case la[i] == lb[j]:
			out = append(out, diffLine{"=", la[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, diffLine{"-", la[i]})
			i++
		default:
			out = append(out, diffLine{"+", lb[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, diffLine{"-", la[i]})
	}
	for ; j < m; j++ {
		out = append(out, diffLine{"+", lb[j]})
	}
	return out
}
