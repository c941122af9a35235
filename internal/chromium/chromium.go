// Package chromium drives a headless Chromium over the DevTools protocol
// on a pipe (--remote-debugging-pipe: NUL-separated JSON on file
// descriptors 3 and 4), for tests that use pages as a person would: load,
// click, read what is shown. It needs no library and no network port.
package chromium

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// Browser is a running headless Chromium with one page attached.
type Browser struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	mu      sync.Mutex
	nextID  int
	waiting map[int]chan reply
	session string
	done    chan struct{}
}

// reply is one answer to a command.
type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Find returns the Chromium to use: $CHROMIUM, else DefaultPath, else
// "chromium" on PATH; "" when there is none.
func Find() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat(DefaultPath); err == nil {
		return DefaultPath
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// Start starts a headless Chromium at path with a fresh profile in dir and
// attaches to a blank page. Close stops it.
func Start(ctx context.Context, path, dir string) (*Browser, error) {
	toBrowserR, toBrowserW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("chromium: pipe: %w", err)
	}
	fromBrowserR, fromBrowserW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("chromium: pipe: %w", err)
	}
	cmd := exec.Command(path, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
		"--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--user-data-dir="+dir, "about:blank")
	cmd.ExtraFiles = []*os.File{toBrowserR, fromBrowserW} // fd 3: commands in, fd 4: answers out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("chromium: start %s: %w", path, err)
	}
	_ = toBrowserR.Close()
	_ = fromBrowserW.Close()
	b := &Browser{cmd: cmd, in: toBrowserW, waiting: map[int]chan reply{}, done: make(chan struct{})}
	go b.read(fromBrowserR)
	var created struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created); err != nil {
		b.Close()
		return nil, err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached); err != nil {
		b.Close()
		return nil, err
	}
	b.session = attached.SessionID
	for _, m := range []string{"Page.enable", "Network.enable", "Runtime.enable"} {
		if err := b.call(ctx, b.session, m, map[string]any{}, nil); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// read dispatches the browser's messages to their callers.
func (b *Browser) read(r io.ReadCloser) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m struct {
			ID int `json:"id"`
			reply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
			continue // events are not used
		}
		b.mu.Lock()
		ch := b.waiting[m.ID]
		delete(b.waiting, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.reply
		}
	}
}

// call sends one command and decodes its result into out (may be nil).
func (b *Browser) call(ctx context.Context, session, method string, params any, out any) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan reply, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	m := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		m["sessionId"] = session
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("chromium: %s: %w", method, err)
	}
	if _, err := b.in.Write(append(data, 0)); err != nil {
		return fmt.Errorf("chromium: %s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("chromium: %s: %s", method, r.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-b.done:
		return errors.New("chromium: browser exited")
	case <-ctx.Done():
		return fmt.Errorf("chromium: %s: %w", method, ctx.Err())
	}
}

// SetHeaders sends headers with every request of the page (e.g. an
// Authorization bearer token).
func (b *Browser) SetHeaders(ctx context.Context, h map[string]string) error {
	return b.call(ctx, b.session, "Network.setExtraHTTPHeaders", map[string]any{"headers": h}, nil)
}

// Navigate loads url and waits until the document has loaded.
func (b *Browser) Navigate(ctx context.Context, url string) error {
	var r struct {
		ErrorText string `json:"errorText"`
	}
	if err := b.call(ctx, b.session, "Page.navigate", map[string]any{"url": url}, &r); err != nil {
		return err
	}
	if r.ErrorText != "" {
		return fmt.Errorf("chromium: navigate %s: %s", url, r.ErrorText)
	}
	return b.WaitLoaded(ctx)
}

// WaitLoaded waits until the page's document is complete.
func (b *Browser) WaitLoaded(ctx context.Context) error {
	for {
		var state string
		if err := b.Eval(ctx, "document.readyState", &state); err == nil && state == "complete" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chromium: page did not load: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Eval evaluates a JavaScript expression in the page and decodes its
// value into out (may be nil).
func (b *Browser) Eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := b.call(ctx, b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("chromium: %s: %s", expr, r.ExceptionDetails.Text)
	}
	if out != nil && len(r.Result.Value) > 0 {
		return json.Unmarshal(r.Result.Value, out)
	}
	return nil
}

// Screenshot returns a PNG of the page.
func (b *Browser) Screenshot(ctx context.Context) ([]byte, error) {
	var r struct {
		Data []byte `json:"data"`
	}
	if err := b.call(ctx, b.session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &r); err != nil {
		return nil, err
	}
	return r.Data, nil
}

// Close stops the browser (its whole process group) and waits for it.
func (b *Browser) Close() {
	_ = b.in.Close()
	if b.cmd.Process != nil {
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	}
	_ = b.cmd.Wait()
}
