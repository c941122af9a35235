package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The EPS tracker (GET Task) answers a searchset Bundle. The EPS API builds
// it whole today (every match in one Bundle, total = its entries), but a
// FHIR searchset may be paged: Bundle.link "next" then names the rest. A
// caller that read only the first page would miss prescriptions without a
// sign, so TrackerGet follows "next" — through the same client, breaker and
// authentication as the first call, only to the same EPS base, within
// TrackerMaxPages pages and MaxResponseBytes in all — and hands back one
// Bundle holding every page's entries. What cannot be followed is an error,
// never a short answer.

// ErrTrackerPaging is wrapped by the error of a paged tracker answer that
// could not be read whole: a next link away from the EPS base, a link loop,
// more pages or bytes than the client follows, or a page EPS did not answer
// with a searchset Bundle.
var ErrTrackerPaging = errors.New("tracker answer cannot be read whole")

// searchPage is what paging reads of a searchset Bundle.
type searchPage struct {
	ResourceType string            `json:"resourceType"`
	Type         string            `json:"type"`
	Link         []json.RawMessage `json:"link"`
	Entry        []json.RawMessage `json:"entry"`
}

// bundleLink is one Bundle.link.
type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// readPage reads body as a searchset Bundle; ok is false when it is not
// one (an OperationOutcome, say).
func readPage(body []byte) (p searchPage, ok bool) {
	if err := json.Unmarshal(body, &p); err != nil {
		return searchPage{}, false
	}
	return p, p.ResourceType == "Bundle" && p.Type == "searchset"
}

// next returns the page's "next" link ("" when there is none).
func (p searchPage) next() string {
	for _, raw := range p.Link {
		var l bundleLink
		if json.Unmarshal(raw, &l) == nil && l.Relation == "next" {
			return strings.TrimSpace(l.URL)
		}
	}
	return ""
}

// mayLinkNext reports whether a JSON body can hold a "next" link: it holds
// the word, or a \u escape that could spell it. Every tracker answer passes
// here and almost none is paged, so the whole decode (readPage) is left to
// those that may be.
func mayLinkNext(body []byte) bool {
	return bytes.Contains(body, []byte("next")) || bytes.Contains(body, []byte(`\u`))
}

// followPages fetches the pages after first (the answer to u) and returns
// first with every page's entries, or first itself when it is not a paged
// searchset Bundle.
func (c *Client) followPages(ctx context.Context, u *url.URL, first *Response) (*Response, error) {
	if first.Status != http.StatusOK || !mayLinkNext(first.Body) {
		return first, nil
	}
	page, ok := readPage(first.Body)
	link := page.next()
	if !ok || link == "" {
		return first, nil
	}
	entries := page.Entry
	size := int64(len(first.Body))
	attempts := first.Attempts
	seen := map[string]bool{u.String(): true}
	pages := 1
	for ; link != ""; link = page.next() {
		if pages >= c.cfg.TrackerMaxPages {
			return nil, c.pagingErr(first, pages, fmt.Errorf("more than %d pages", c.cfg.TrackerMaxPages))
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("upstream %s (request %s): page %d: %w", OpTracker, first.RequestID, pages+1, err)
		}
		next, err := c.sameBase(u, link)
		if err != nil {
			return nil, c.pagingErr(first, pages, err)
		}
		if seen[next.String()] {
			return nil, c.pagingErr(first, pages, fmt.Errorf("page %d links back to an earlier page", pages))
		}
		seen[next.String()] = true
		resp, err := c.doURL(ctx, OpTracker, http.MethodGet, next, nil)
		if err != nil {
			return nil, fmt.Errorf("upstream %s (request %s): page %d: %w", OpTracker, first.RequestID, pages+1, err)
		}
		pages++
		attempts += resp.Attempts
		if resp.Status != http.StatusOK {
			return nil, c.pagingErr(first, pages, fmt.Errorf("page %d answered HTTP %d (request %s)", pages, resp.Status, resp.RequestID))
		}
		if size += int64(len(resp.Body)); size > c.cfg.MaxResponseBytes {
			return nil, c.pagingErr(first, pages, fmt.Errorf("the pages exceed %d bytes", c.cfg.MaxResponseBytes))
		}
		if page, ok = readPage(resp.Body); !ok {
			return nil, c.pagingErr(first, pages, fmt.Errorf("page %d is not a searchset Bundle (request %s)", pages, resp.RequestID))
		}
		entries = append(entries, page.Entry...)
		u = next
	}
	body, err := mergedBundle(first.Body, entries)
	if err != nil {
		return nil, c.pagingErr(first, pages, err)
	}
	out := *first
	out.Body, out.Attempts, out.Pages = body, attempts, pages
	c.log.DebugContext(ctx, "tracker answer read in pages", "request_id", first.RequestID, "pages", pages, "entries", len(entries))
	return &out, nil
}

// pagingErr is the error of a paged answer not read whole.
func (c *Client) pagingErr(first *Response, pages int, err error) error {
	return fmt.Errorf("upstream %s (request %s) after %d pages: %w: %w", OpTracker, first.RequestID, pages, ErrTrackerPaging, err)
}

// sameBase resolves link against the page it came from and checks that it
// stays below the EPS base: same scheme and host, path under the base's
// path, no user information. The token and any client certificate go only
// where the first call went.
func (c *Client) sameBase(from *url.URL, link string) (*url.URL, error) {
	ref, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("next link %q: %w", link, err)
	}
	u := from.ResolveReference(ref)
	u.Fragment, u.RawFragment = "", ""
	basePath := strings.TrimRight(c.base.Path, "/")
	switch {
	case !strings.EqualFold(u.Scheme, c.base.Scheme) || !strings.EqualFold(u.Host, c.base.Host) || u.User != nil:
		return nil, fmt.Errorf("next link %q leaves the EPS base %s", link, c.base.Redacted())
	case u.Path != basePath && !strings.HasPrefix(u.Path, basePath+"/"):
		return nil, fmt.Errorf("next link %q is not below the EPS base %s", link, c.base.Redacted())
	case strings.Contains(u.Path, "/../") || strings.HasSuffix(u.Path, "/.."):
		return nil, fmt.Errorf("next link %q is not below the EPS base %s", link, c.base.Redacted())
	}
	return u, nil
}

// mergedBundle is the first page with entries as its entries, no "next"
// link and every other member as EPS wrote it (total included: a paged
// searchset's total already counts every match).
func mergedBundle(first []byte, entries []json.RawMessage) ([]byte, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(first, &members); err != nil {
		return nil, fmt.Errorf("first page: %w", err)
	}
	var links []json.RawMessage
	if raw, ok := members["link"]; ok {
		if err := json.Unmarshal(raw, &links); err != nil {
			return nil, fmt.Errorf("first page: link: %w", err)
		}
	}
	kept := links[:0]
	for _, raw := range links {
		var l bundleLink
		if json.Unmarshal(raw, &l) == nil && l.Relation == "next" {
			continue
		}
		kept = append(kept, raw)
	}
	if len(kept) == 0 {
		delete(members, "link")
	} else if err := setMember(members, "link", kept); err != nil {
		return nil, err
	}
	if err := setMember(members, "entry", entries); err != nil {
		return nil, err
	}
	return json.Marshal(members)
}

func setMember(members map[string]json.RawMessage, name string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("bundle %s: %w", name, err)
	}
	members[name] = raw
	return nil
}
