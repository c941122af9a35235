package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/porxgate/porxgate/gateway"
)

// deadLettersUsage is the help of `porxgate deadletters`.
const deadLettersUsage = `The dead letters of a running gateway, through its admin listener
(--admin-addr; the token is --admin-token or PORXGATE_ADMIN_TOKEN; over
https give the listener's CA with --admin-ca, and a client certificate with
--admin-cert and --admin-key where the listener grants roles to them):

  list             the newest dead letters: id, party, interaction, attempts, reason
                   (--limit of them, at most 1000; --offset N: after the newest N,
                   as the answer's next says)
  show ID          one dead letter with its message (patient data)
  resend ID        queue one dead letter again (after mending its cause)
  resend --party P queue every dead letter of party P again

IDs are <stage>:<MessageId>, the "id" list prints. Each dead letter is resent at
most once; a resent answer keeps its eb:MessageId, so the MHS takes it once.
`

// deadLettersCmd talks to a running gateway's dead-letter admin API.
func deadLettersCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := newFlagSet("deadletters", "[--admin URL] [--admin-token T] <list | show ID | resend ID | resend --party PARTY>", deadLettersUsage)
	admin := getenv("PORXGATE_ADMIN_URL")
	if admin == "" {
		admin = "http://127.0.0.1:8081"
	}
	fs.StringVar(&admin, "admin", admin, "base URL of the gateway's admin listener (env PORXGATE_ADMIN_URL)")
	token := fs.String("admin-token", getenv("PORXGATE_ADMIN_TOKEN"), "bearer token of the admin listener; resend needs the admin role (env PORXGATE_ADMIN_TOKEN)")
	caFile := fs.String("admin-ca", getenv("PORXGATE_ADMIN_CA"), "PEM CA certificates that verify an https admin listener; empty: the system's (env PORXGATE_ADMIN_CA)")
	certFile := fs.String("admin-cert", getenv("PORXGATE_ADMIN_CLIENT_CERT"), "PEM client certificate for an admin listener that grants roles to certificates (env PORXGATE_ADMIN_CLIENT_CERT)")
	keyFile := fs.String("admin-key", getenv("PORXGATE_ADMIN_CLIENT_KEY"), "PEM key of --admin-cert (env PORXGATE_ADMIN_CLIENT_KEY)")
	party := fs.String("party", "", "resend: every dead letter of this party")
	limit := fs.Int("limit", 100, "list: how many (1 to 1000)")
	offset := fs.Int("offset", 0, "list: after how many of the newest (the answer's next)")
	// Flags may come before, between or after the words.
	var rest []string
	for {
		if ok, code := parseFlags(fs, args, stdout, stderr); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) == 0 {
		fmt.Fprintln(stderr, "porxgate deadletters: say what to do: list, show ID or resend (ID or --party P)")
		fs.SetOutput(stderr)
		fs.Usage()
		return 2
	}
	base := strings.TrimRight(admin, "/")
	client, err := gateway.AdminClient(*caFile, *certFile, *keyFile, 60*time.Second)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate deadletters: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var (
		method = http.MethodGet
		url    string
		body   []byte
	)
	switch verb := rest[0]; {
	case verb == "list" && len(rest) == 1:
		url = fmt.Sprintf("%s%s?limit=%d&offset=%d", base, gateway.PathDeadLetters, *limit, *offset)
	case verb == "show" && len(rest) == 2:
		url = gateway.DeadLetterItemURL(base, rest[1])
	case verb == "resend" && (len(rest) == 2) != (*party != ""):
		req := map[string]string{"party": *party}
		if len(rest) == 2 {
			req = map[string]string{"id": rest[1]}
		}
		body, _ = json.Marshal(req)
		method, url = http.MethodPost, base+gateway.PathDeadLetterResend
	default:
		fmt.Fprintf(stderr, "porxgate deadletters: %s: %s\n", strings.Join(rest, " "), deadLettersMisuse(rest, *party))
		fs.SetOutput(stderr)
		fs.Usage()
		return 2
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(stderr, "porxgate deadletters: %v\n", err)
		return 1
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate deadletters: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Fprintf(stderr, "porxgate deadletters: reading the answer: %v\n", err)
		return 1
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") == nil {
		out = append(pretty.Bytes(), '\n')
	}
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "porxgate deadletters: %s %s: %s\n%s", method, url, resp.Status, out)
		return 1
	}
	_, _ = stdout.Write(out)
	return 0
}

// deadLettersMisuse says what is wrong with the action rest (with --party
// party): the first line of the answer to a bad command line.
func deadLettersMisuse(rest []string, party string) string {
	switch rest[0] {
	case "list":
		return "list takes no argument"
	case "show":
		return "show takes one dead letter ID"
	case "resend":
		if party != "" {
			return "resend takes an ID or --party, not both"
		}
		return "resend takes one dead letter ID, or --party P"
	}
	return "unknown action (list, show, resend)"
}
