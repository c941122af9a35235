package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/porxgate/porxgate/mapping/conformance"
)

func conformanceCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("conformance", "[--corpus DIR] [--kind K1,K2]", `Checks every corpus pair whose mapper exists, both directions, and prints
PASS or FAIL (with the element path) per check, then "N passed, N failed,
N skipped". Exits 1 on any failure, 2 on bad usage or an unreadable corpus.
A kind is a corpus kind or the interaction id of a v3-only case in the
corpus; the corpus kinds are:
  `+strings.Join(conformance.Kinds(), ", "))
	corpus := fs.String("corpus", "../shared/corpus", "corpus root folder")
	kinds := fs.String("kind", "", "comma-separated kinds to check (e.g. Send,Cancel); empty checks all")
	if ok, code := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "porxgate conformance: unexpected arguments %q\n", fs.Args())
		return 2
	}
	var ks []string
	if *kinds != "" {
		known, err := corpusKinds(*corpus)
		if err != nil {
			fmt.Fprintf(stderr, "porxgate conformance: %v\n", err)
			return 2
		}
		for _, k := range strings.Split(*kinds, ",") {
			k = strings.TrimSpace(k)
			if !slices.Contains(known, k) {
				fmt.Fprintf(stderr, "porxgate conformance: unknown kind %q; known: %s\n", k, strings.Join(known, ", "))
				return 2
			}
			ks = append(ks, k)
		}
	}
	res, err := conformance.Run(conformance.Options{Corpus: *corpus, Kinds: ks}, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate conformance: %v\n", err)
		return 2
	}
	if res.Failed > 0 {
		return 1
	}
	return 0
}

// corpusKinds lists the kinds --kind accepts: the FHIR ↔ v3 kinds and the
// interaction ids of the corpus's v3-only cases, sorted.
func corpusKinds(corpus string) ([]string, error) {
	pairs, err := conformance.FindPairs(corpus)
	if err != nil {
		return nil, fmt.Errorf("corpus %s: %w", corpus, err)
	}
	known := conformance.Kinds()
	for _, p := range pairs {
		if !slices.Contains(known, p.Kind) {
			known = append(known, p.Kind)
		}
	}
	slices.Sort(known)
	return known, nil
}
