package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/porxgate/porxgate/mapping/conformance"
)

func conformanceCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpus := fs.String("corpus", "../shared/corpus", "corpus root folder")
	kinds := fs.String("kind", "", "comma-separated kinds to check (e.g. Send,Cancel); empty checks all")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var ks []string
	if *kinds != "" {
		ks = strings.Split(*kinds, ",")
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
