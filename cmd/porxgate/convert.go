package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/conformance"
	v3 "github.com/porxgate/porxgate/v3"
)

func convert(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("convert", "--from v3|fhir --to fhir|v3 [--family UK|SM] FILE|-", `Translates one message over the gateway's own mappers and writes it to
standard output: an HL7 v3 interaction (bare, or in its SOAP or ebXML
envelope) to the EPS FHIR Bundle or Parameters EPS takes, or an EPS FHIR
message to its v3 interaction. FILE - reads standard input. Errors name
the element path and exit 1.`)
	from := fs.String("from", "", "input format: v3 or fhir")
	to := fs.String("to", "", "output format: fhir or v3")
	family := fs.String("family", "UK", "interaction id family to write v3 in: UK or SM")
	if ok, code := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 || !((*from == "v3" && *to == "fhir") || (*from == "fhir" && *to == "v3")) {
		fmt.Fprintln(stderr, "usage: porxgate convert --from v3|fhir --to fhir|v3 [--family UK|SM] FILE|-")
		return 2
	}
	in, err := readInput(fs.Arg(0), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate convert: %v\n", err)
		return 1
	}
	fam := v3.Family(strings.ToUpper(*family))
	if fam != v3.FamilyUK && fam != v3.FamilySM {
		fmt.Fprintf(stderr, "porxgate convert: --family %q: want UK or SM\n", *family)
		return 2
	}
	env := mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: fam}
	out, err := translate(mapping.NewRegistry(), *from, in, env)
	if err != nil {
		reportRefusals(stderr, err)
		return 1
	}
	_, _ = stdout.Write(out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		fmt.Fprintln(stdout)
	}
	return 0
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}

// translate runs one message through the registry's translator.
func translate(reg *mapping.Registry, from string, in []byte, env mapping.Env) ([]byte, error) {
	if from == "fhir" {
		kind, err := mapping.KindOfFHIR(in)
		if err != nil {
			return nil, err
		}
		t := reg.ByKind(kind)
		if t == nil {
			return nil, &mapping.ErrNoTranslator{What: "FHIR " + kind + " messages"}
		}
		return t.ToV3(in, mapping.Meta{}, env)
	}
	payload, interaction, err := conformance.ExtractPayload(in)
	if err != nil {
		return nil, fmt.Errorf("v3 input: %w", err)
	}
	t := reg.ByInteraction(interaction)
	if t == nil {
		return nil, &mapping.ErrNoTranslator{What: "interaction " + interaction}
	}
	body, _, err := t.ToFHIR(payload, env)
	if err != nil {
		return nil, err
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") == nil {
		return pretty.Bytes(), nil
	}
	return body, nil
}

// reportRefusals writes every refusal of a v3 message on a line of its own
// (interaction, element path, what was wrong, MIM rule), then how many
// there were; any other error on one line.
func reportRefusals(stderr io.Writer, err error) {
	refusals := v3.Errors(err)
	if len(refusals) < 2 {
		fmt.Fprintf(stderr, "porxgate convert: %v\n", err)
		return
	}
	for _, r := range refusals {
		fmt.Fprintf(stderr, "porxgate convert: %v\n", r)
	}
	fmt.Fprintf(stderr, "porxgate convert: %d refusals\n", len(refusals))
}
