package conformance

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// requestNames maps a corpus kind to the name (after "N-") of the FHIR
// request file paired with "N-Convert-Response-<kind>-200_OK.xml".
var requestNames = map[string]string{
	"Send":          "Process-Request-Send-200_OK.json",
	"Cancel":        "Process-Request-Cancel-200_OK.json",
	"Dispense":      "Process-Request-Dispense-200_OK.json",
	"DispenseAmend": "Process-Request-DispenseAmend-200_OK.json",
	"Release":       "Task-Request-Release-200_OK.json",
	"Return":        "Task-Request-Return-200_OK.json",
	"Withdraw":      "Task-Request-Withdraw-200_OK.json",
	"Claim":         "Claim-Request-200_OK.json",
	"Amend":         "Claim-Request-Amend-200_OK.json",
}

// Kinds returns the corpus kinds of FHIR ↔ v3 pairs, sorted.
func Kinds() []string {
	out := make([]string, 0, len(requestNames))
	for k := range requestNames {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var convertRE = regexp.MustCompile(`^([0-9]+)-Convert-Response-([A-Za-z]+)-200_OK\.xml$`)

// Pair is one FHIR request and the v3 the EPS API makes of it; for a v3-only
// case (Spine's own messages) FHIR is empty and only the round trip applies.
type Pair struct {
	// Kind is the corpus kind (Send, Cancel...) or, for v3-only cases, the
	// interaction id of the message.
	Kind string
	// V3 and FHIR are paths relative to the corpus root.
	V3, FHIR string
}

// v3OnlyDirs are the corpus folders of Spine's own v3 messages that must
// survive v3 → FHIR → v3 unchanged.
var v3OnlyDirs = []string{"release-responses", "spine-responses"}

// FindPairs walks the corpus for pairs: every examples/** Convert-Response
// with its request, then every v3 message of the v3-only folders.
func FindPairs(root string) ([]Pair, error) {
	var pairs []Pair
	err := filepath.WalkDir(filepath.Join(root, "examples"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		m := convertRE.FindStringSubmatch(d.Name())
		if m == nil {
			return nil
		}
		req, ok := requestNames[m[2]]
		if !ok {
			return fmt.Errorf("%s: unknown corpus kind %q", path, m[2])
		}
		reqPath := filepath.Join(filepath.Dir(path), m[1]+"-"+req)
		if _, err := os.Stat(reqPath); err != nil {
			return fmt.Errorf("%s: paired request missing: %w", path, err)
		}
		pairs = append(pairs, Pair{Kind: m[2], V3: rel(root, path), FHIR: rel(root, reqPath)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking corpus examples: %w", err)
	}
	for _, dir := range v3OnlyDirs {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.xml"))
		sort.Strings(files)
		for _, f := range files {
			kind, err := rootTag(f)
			if err != nil {
				return nil, err
			}
			pairs = append(pairs, Pair{Kind: kind, V3: rel(root, f)})
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].V3 < pairs[j].V3 })
	return pairs, nil
}

func rel(root, path string) string {
	r, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return r
}

// rootTag returns the local name of the interaction a corpus file holds.
func rootTag(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	_, tag, err := ExtractPayload(data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return tag, nil
}
